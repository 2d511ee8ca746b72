"""Word error rate, after the normalisation that makes ASR output comparable to a script."""

from __future__ import annotations

import re
import unicodedata

# Spellings Whisper and our scripts disagree on without either being wrong.
_EQUIVALENTS = {
    "favourite": "favorite",
    "colour": "color",
    "centre": "center",
    "theatre": "theater",
    "ok": "okay",
    "mr": "mister",
    "mrs": "missus",
    "dr": "doctor",
}
_NUMBERS = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
}


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation or accents; hyphens split words; British spellings and
    single-digit numbers mapped to one form."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("-", " ").replace("’", "'")
    words = re.findall(r"[a-z0-9']+", text)
    words = [word.strip("'") for word in words]
    return [_NUMBERS.get(w, _EQUIVALENTS.get(w, w)) for w in words if w]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one hypothesis: edits / reference words."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)) / max(1, len(ref))


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over many (reference, hypothesis) pairs: total edits / total words."""
    edits = sum(edit_distance(normalise(r), normalise(h)) for r, h in pairs)
    return edits / max(1, sum(len(normalise(r)) for r, _ in pairs))

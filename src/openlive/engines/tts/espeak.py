"""Phonemes for languages other than English from the ``espeak-ng`` program, when installed.

espeak-ng is GPL-3.0. openlive stays permissively licensed by never linking it: it is an optional
system program run as a subprocess (like calling any CLI tool), and nothing of it ships with us.
Its IPA is rewritten into Kokoro's phoneme alphabet the way Kokoro's reference G2P (misaki's
espeak front end) does: tied diphthongs and affricates become Kokoro's single symbols."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

TIMEOUT_S = 10.0

# espeak IPA (multi-letter phonemes joined by the tie "^") → Kokoro symbols.
_TO_KOKORO = (
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^z", "ʣ"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("o^ʊ", "O"),
    ("ə^ʊ", "Q"),
    ("s^s", "S"),
    ("t^s", "ʦ"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
)
# espeak drops punctuation; it is cut out here and put back between the phonemized runs.
_PUNCTUATION_RUN = re.compile(r'\s*[.,;:!?…—"“”()«»¿¡]+\s*')
_LANGUAGE_FLAG = re.compile(r"\([a-z-]+\)")  # "(en)" where espeak switches language mid-text
# Where the Live API's BCP-47 codes and espeak's voice names disagree.
_ALIASES = {
    "es-us": "es-419",
    "es-mx": "es-419",
    "zh": "cmn",
    "zh-cn": "cmn",
    "cmn-cn": "cmn",
    "ar-xa": "ar",
    "no": "nb",
    "nb-no": "nb",
}


@functools.cache
def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


@functools.cache
def _voices() -> frozenset[str]:
    path = espeak_path()
    if path is None:
        return frozenset()
    try:
        listing = subprocess.run(
            [path, "--voices"], capture_output=True, text=True, timeout=TIMEOUT_S, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1)


def espeak_voice(language: str) -> str | None:
    """The espeak-ng voice for a BCP-47 code (``pt-BR`` → ``pt-br``), or None without one."""
    voices = _voices()
    code = language.strip().lower().replace("_", "-")
    base = code.split("-")[0]
    for candidate in (_ALIASES.get(code), code, _ALIASES.get(base), base, f"{base}-{base}"):
        if candidate and candidate in voices:
            return candidate
    regional = sorted(voice for voice in voices if voice.startswith(f"{base}-"))
    return regional[0] if regional else None


def espeak_phonemes(text: str, voice: str) -> str:
    """Kokoro phonemes for ``text`` read by espeak-ng's ``voice``, punctuation kept."""
    path = espeak_path()
    if path is None:
        raise RuntimeError("espeak-ng is not installed")
    pieces: list[tuple[str, str]] = []  # (words, punctuation that follows them)
    position = 0
    for match in _PUNCTUATION_RUN.finditer(text):
        pieces.append((" ".join(text[position : match.start()].split()), match.group().strip()))
        position = match.end()
    pieces.append((" ".join(text[position:].split()), ""))
    pieces = [(words, punct) for words, punct in pieces if words or punct]

    words = [w for w, _ in pieces if w]
    phonemized = iter(_run_espeak(path, voice, words))
    out: list[str] = []
    for piece_words, punct in pieces:
        if piece_words:
            out.append(" " + next(phonemized))
        out.append(punct)
    return "".join(out).strip()


def _run_espeak(path: str, voice: str, runs: list[str]) -> list[str]:
    """One espeak call for all runs (one a line); per-run calls if its lines don't line up."""
    if not runs:
        return []
    lines = _espeak(path, voice, "\n".join(runs)).splitlines()
    if len(lines) != len(runs):
        lines = [" ".join(_espeak(path, voice, run).split()) for run in runs]
    return [_to_kokoro(line) for line in lines]


def _espeak(path: str, voice: str, text: str) -> str:
    result = subprocess.run(
        [path, "-q", "--ipa", "--tie=^", "-v", voice],
        input=text + "\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return result.stdout


def _to_kokoro(ipa: str) -> str:
    ipa = _LANGUAGE_FLAG.sub("", ipa)
    for old, new in _TO_KOKORO:
        ipa = ipa.replace(old, new)
    return " ".join(ipa.replace("^", "").replace("-", "").split())

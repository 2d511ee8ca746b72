"""Text preparation for speech: cut a streamed reply into clauses, and drop markdown.

Speech starts on the first clause rather than the whole reply, so the splitter is incremental:
feed it the LLM's fragments as they arrive and it hands back each clause as soon as it is
certainly complete. "Certainly" is the subtle part: ``3.`` might become ``3.14``, and ``Mr.``
is not the end of a sentence, so a sentence end is confirmed only by what follows it —
whitespace, and for a period, a next word that is not lowercase. That costs at most one more
fragment of waiting; :meth:`ClauseSplitter.flush` settles whatever is left at the end.

Pure functions and classes: no I/O, no engine, no protocol."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

SENTENCE_ENDS = frozenset(".!?…")
CJK_SENTENCE_ENDS = frozenset("。！？")  # no space follows these in CJK text
SOFT_BREAKS = frozenset(",;:")
CLOSERS = frozenset("\"'”’)]»")
# Words that end in a period without ending the sentence even before a capital or a digit
# ("Mr. Smith", "vs. Madrid", "approx. 5"); compared lowercased, without the period.
ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "rev", "hon"),
        *("gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep"),
        *("vs", "approx", "fig", "vol", "cf"),
    }
)
_DOTTED = re.compile(r"(?:[a-z]{1,2}\.)+[a-z]{1,2}")  # e.g, i.e, u.s, p.m, ph.d (final "." cut)


class ClauseSplitter:
    """Incremental clause splitter for streamed text.

    >>> splitter = ClauseSplitter()
    >>> splitter.feed("Hello there.")
    []
    >>> splitter.feed(" How are you?")
    ['Hello there.']
    >>> splitter.flush()
    ['How are you?']

    Clauses end at . ! ? … (and 。！？), at a line break, and at , ; : once the clause holds at
    least ``min_words`` words (shorter ones sound choppy when spoken alone). A clause that grows
    past ``max_chars`` without any of these is cut at its last space so speech can still start.

    ``first_clause_words`` trades prosody for latency on the first clause: once that many whole
    words are buffered with no boundary in sight, they are spoken, because the user is waiting
    for the first sound. ``next_clause_words`` does the same for each later clause, given the
    word count of the one before it: a clause must be made while the one before it plays, or
    the listener hears silence in the middle of the reply (Kokoro's length for it comes from
    its warm-up, engines/tts/calibrate.py)."""

    def __init__(
        self,
        *,
        min_words: int = 4,
        max_chars: int = 300,
        first_clause_words: int | None = None,
        next_clause_words: Callable[[int], int | None] | None = None,
    ) -> None:
        self.min_words = min_words
        self.max_chars = max_chars
        self.first_clause_words = first_clause_words
        self.next_clause_words = next_clause_words
        self._buffer = ""
        self._emitted = False
        self._last_words = 0  # of the clause handed out last

    def feed(self, fragment: str) -> list[str]:
        """Add a fragment; the clauses it completed, in order (often none)."""
        self._buffer += fragment
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The end of the stream: every clause still buffered (usually the last one)."""
        clauses = self._drain(final=True)
        rest = _tidy(self._buffer)
        self._buffer = ""
        return [*clauses, rest] if rest else clauses

    def _drain(self, *, final: bool) -> list[str]:
        clauses = []
        while (cut := self._find_cut(final)) is not None or (cut := self._early_cut()) is not None:
            clause, self._buffer = _tidy(self._buffer[:cut]), self._buffer[cut:]
            if clause:
                clauses.append(clause)
                self._emitted = True
                self._last_words = _word_count(clause)
        return clauses

    def _word_cap(self) -> int | None:
        if not self._emitted:
            return self.first_clause_words
        if self.next_clause_words is None:
            return None
        return self.next_clause_words(self._last_words)

    def _early_cut(self) -> int | None:
        """Where to cut a clause past its word cap: after its last whole word (the text after
        the last space may still be growing)."""
        cap = self._word_cap()
        if cap is None:
            return None
        space = (
            self._buffer.rstrip().rfind(" ")
            if self._buffer.endswith(" ")
            else (self._buffer.rfind(" "))
        )
        if space <= 0 or _word_count(self._buffer[:space]) < cap:
            return None
        return space + 1

    def _find_cut(self, final: bool) -> int | None:
        """Index just past the first certainly-complete clause; None while undecided."""
        text = self._buffer
        length = len(text)
        i = 0
        while i < length:
            char = text[i]
            if char == "\n":
                if text[:i].strip():
                    return i + 1
            elif char in CJK_SENTENCE_ENDS:
                return _skip(text, i + 1, CJK_SENTENCE_ENDS | CLOSERS)
            elif char in SENTENCE_ENDS:
                end = _skip(text, i, SENTENCE_ENDS | CLOSERS)
                if end == length:
                    return end if final else None
                if text[end] == "\n":
                    return end + 1  # a line break ends the clause: no next word to wait for
                if text[end].isspace():
                    verdict = self._sentence_end(text, i, end, final)
                    if verdict is None:
                        return None
                    if verdict:
                        return end
                i = end
                continue
            elif char in SOFT_BREAKS:
                end = _skip(text, i + 1, CLOSERS)
                if end == length:
                    return None  # "1," may become "1,000"; the end of the stream needs no cut
                if text[end].isspace() and _word_count(text[:i]) >= self.min_words:
                    return end
            if i >= self.max_chars:
                space = text.rfind(" ", 0, i)
                if space > 0:
                    return space + 1
            i += 1
        return None

    @staticmethod
    def _sentence_end(text: str, start: int, end: int, final: bool) -> bool | None:
        """Whether the punctuation run text[start:end], followed by whitespace, ends a sentence;
        None until the next word has begun (it decides the period case)."""
        if "." not in text[start:end] or text[start:end].strip(".") != "":
            return True  # ! ? … or a mix like "?!" always ends
        word = text[:start].split()[-1] if text[:start].split() else ""
        bare = word.lstrip("\"'“‘([").lower()
        if bare in ABBREVIATIONS or _is_initial(bare) or _DOTTED.fullmatch(bare):
            return False  # Mr. / J. K. / e.g. / U.S. / p.m.
        if bare.isdigit() and not text[:start].strip()[: -len(word)].strip():
            return False  # "1. " opening a numbered list item
        following = text[end:].lstrip()
        if not following:
            return True if final else None
        return not following[0].islower()  # "... approx. ten" continues the sentence


def split_clauses(fragments: Iterable[str], *, min_words: int = 4) -> Iterator[str]:
    """Clauses from a stream of text fragments, each yielded as soon as it is complete."""
    splitter = ClauseSplitter(min_words=min_words)
    for fragment in fragments:
        yield from splitter.feed(fragment)
    yield from splitter.flush()


def has_words(text: str) -> bool:
    """Whether there is anything to say: punctuation and symbols alone are silence."""
    return any(c.isalnum() for c in text)


def _skip(text: str, i: int, chars: frozenset[str]) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _is_initial(word: str) -> bool:
    return len(word) == 1 and word.isalpha()


def _word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


def _tidy(clause: str) -> str:
    """Whitespace collapsed; nothing at all for a clause with no letter or digit to say."""
    clause = " ".join(clause.split())
    return clause if has_words(clause) else ""


# -- markdown --------------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\((?!/)[^)]*\)")  # [label](url); "[word](/phonemes/)" is kept
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_LINE_MARKERS = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|[-*+•][ \t]+|>[ \t]*)", re.MULTILINE)
_CODE = re.compile(r"`+")


def speakable(text: str) -> str:
    """Text with the markdown an LLM likes to emit (bold, italics, headings, bullets, links,
    code ticks) removed, so that no voice reads out "asterisk"."""
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\2", text)
    text = _ITALIC.sub(r"\2", text)
    text = _LINE_MARKERS.sub("", text)
    return _CODE.sub("", text)

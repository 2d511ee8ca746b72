"""How long a spoken reply may run when the client sets no ``maxOutputTokens``.

A voice reply is listened to in real time: 1,024 tokens is several minutes of speech, and the
next question waits behind it. So an audio reply without a client limit gets a budget:

* after ``SOFT_WORDS`` words (about 20 s of speech) the reply ends at the next sentence end,
  so it never stops mid-word or mid-sentence;
* the engine's own cap (``HARD_MAX_TOKENS``) leaves room to reach that sentence end, and stops
  a reply that never ends a sentence.

A client's ``maxOutputTokens`` always rules instead (and a text reply keeps the server's
``llm_max_tokens``), so nothing here applies to them.
"""

from __future__ import annotations

from ..engines.tts.text import ABBREVIATIONS, CLOSERS, SENTENCE_ENDS

SOFT_WORDS = 60
HARD_MAX_TOKENS = 200


class SpokenBudget:
    """A filter over a reply's streamed text that ends it at a sentence end past the budget.

    >>> budget = SpokenBudget(soft_words=3)
    >>> budget.take("One two three four. Five")
    'One two three four.'
    >>> budget.done
    True
    """

    def __init__(self, soft_words: int = SOFT_WORDS) -> None:
        self.soft_words = soft_words
        self.done = False
        self._passed = ""
        self._held = ""  # text after a possible sentence end, until the next character tells

    def take(self, fragment: str) -> str:
        """The part of ``fragment`` to pass on; ``done`` turns true when the reply should end."""
        if self.done:
            return ""
        text, self._held = self._held + fragment, ""
        cut = self._cut(text)
        if cut is None:
            self._passed += text
            return text
        if cut < 0:  # undecided: hold back from the sentence end on
            start = -cut - 1
            self._held = text[start:]
            self._passed += text[:start]
            return text[:start]
        self.done = True
        self._passed += text[:cut]
        return text[:cut]

    def flush(self) -> str:
        """What is still held back when the stream ends by itself."""
        held, self._held = self._held, ""
        return "" if self.done else held

    def _cut(self, text: str) -> int | None:
        """Index just past the sentence end that ends the reply; ``-(i + 1)`` when a sentence
        may end at ``i`` but the next characters are not here yet; None to pass it all."""
        for i, char in enumerate(text):
            if char not in SENTENCE_ENDS:
                continue
            end = i + 1
            while end < len(text) and (text[end] in SENTENCE_ENDS or text[end] in CLOSERS):
                end += 1
            if len((self._passed + text[:end]).split()) < self.soft_words:
                continue
            following = text[end:]
            if following.startswith("\n"):
                return end
            rest = following.lstrip()
            if not rest:
                return -(i + 1)  # "3." may become "3.5", "approx." may go on: wait
            if not following[0].isspace() or rest[0].islower():
                continue  # "3.5", "approx. ten": the sentence goes on
            words = (self._passed + text[:i]).split()
            if char == "." and words and words[-1].lower().lstrip("\"'(") in ABBREVIATIONS:
                continue  # "Mr. Smith"
            return end
        return None

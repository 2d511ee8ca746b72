"""The words' end-of-turn signal: how likely the loaded LLM finds it that the user's text is over.

Smart Turn hears prosody; the words say something it cannot ("what is the tallest mountain in"
ends on a falling pitch often enough). The LLM is loaded anyway, so we ask it the question its
chat template already encodes: after the user's words, how likely is the end-of-turn token? That
is LiveKit's turn-detector idea, with the conversation's own model instead of a dedicated one.

The prompt is the conversation rendered by the model's own template, cut right after the user's
text: the end-of-turn marker is whatever the template puts there (``<|im_end|>`` for ChatML),
found once by rendering a sentinel message, never hard-coded. One token is requested, so the
cost is the prefill of what the runtime's cache lacks (the user's words, on a warm history), and
a reply that follows starts from that same prefix.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

log = logging.getLogger(__name__)

_SENTINEL = "Xq7 sentinel Zk9"
_TRAILING = " \t\n.,;:!?…-–—\"'"  # ASR punctuation on a cut utterance is a guess: leave it out
_TOP = 10
_CLOSERS = ("?", ".", "!")  # a sentence closed here: the turn may end after it


class Scorer(Protocol):
    """What the signal needs from an LLM runtime (engines/llm/next_token.py has one)."""

    def render(self, messages: list[dict[str, Any]]) -> str: ...

    def token_ids(self, text: str) -> list[int]: ...

    def next_token_probabilities(self, prompt: str, top: int = _TOP) -> dict[int, float]: ...


class TextEndOfTurn:
    """Blocking, thread-safe as far as the runtime is: call ``probability`` in a worker thread."""

    def __init__(self, scorer: Scorer) -> None:
        self._scorer = scorer
        rendered = scorer.render([{"role": "user", "content": _SENTINEL}])
        after = rendered[rendered.index(_SENTINEL) + len(_SENTINEL) :]
        ids = scorer.token_ids(after)
        if not ids:
            raise ValueError("the chat template puts nothing after the user's text")
        self.end_token = ids[0]
        """The token the template puts right after a user message (ChatML: ``<|im_end|>``)."""
        self._closers = {scorer.token_ids(closer)[0] for closer in _CLOSERS}
        self._prefilling = threading.Lock()  # one prefill at a time, for the whole server

    def prompt(self, history: list[dict[str, Any]], user_text: str) -> str:
        """The conversation with the user's words last, cut right after them."""
        words = user_text.strip().rstrip(_TRAILING)
        messages = [dict(message) for message in history]
        if messages and messages[-1].get("role") == "user":
            messages[-1]["content"] = f"{messages[-1].get('content') or ''}\n{words}"
        else:
            messages.append({"role": "user", "content": words})
        rendered = self._scorer.render(messages)
        return rendered[: rendered.rindex(words) + len(words)]

    def probability(self, history: list[dict[str, Any]], user_text: str) -> float | None:
        """P(the turn ends after ``user_text``) (0..1); None when there are no words to judge.

        The text is judged without its final punctuation (Whisper puts a full stop on a cut
        utterance as readily as on a finished one), so "ends here" is the end-of-turn token or a
        sentence-closing mark next: the model's own way of finishing the words."""
        if not user_text.strip().rstrip(_TRAILING):
            return None
        top = self._scorer.next_token_probabilities(self.prompt(history, user_text), _TOP)
        # A token outside the top is at most as likely as the least likely one in it.
        floor = min(top.values(), default=0.0)
        ending = {self.end_token, *self._closers}
        return min(1.0, sum(top.get(token, floor) for token in ending))

    def prefill(self, history: list[dict[str, Any]], user_text: str) -> bool:
        """Run the prompt of ``user_text`` for the runtime's cache alone: the words so far, while
        the user still talks, so the signal and the reply at the pause prefill only the rest.

        A head start only, so it never queues: while another session's prefill runs, this one
        returns at once (False). However many sessions talk, at most one thread waits here and
        one prefill competes with the replies on the runtime."""
        if not user_text.strip().rstrip(_TRAILING):
            return False
        if not self._prefilling.acquire(blocking=False):
            return False
        try:
            self._scorer.next_token_probabilities(self.prompt(history, user_text), 1)
        finally:
            self._prefilling.release()
        return True


def text_end_of_turn(llm: object) -> TextEndOfTurn | None:
    """The signal on ``llm`` if its runtime can give next-token probabilities (the embedded
    one), else None: the turn is then decided by Smart Turn and the silence alone."""
    make = getattr(llm, "next_token_scorer", None)
    scorer = make() if callable(make) else None
    if scorer is None:
        return None
    try:
        return TextEndOfTurn(scorer)
    except Exception as error:  # a template or runtime we cannot read: go without the signal
        log.warning("no text end-of-turn signal: %s", error)
        return None

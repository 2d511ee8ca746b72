"""Keeping a conversation inside the model's context window.

With ``contextWindowCompression.slidingWindow`` the oldest turns are dropped, always starting at a
user turn, until the estimate is under the target; the system instruction is kept. Token counts
per entry are estimated from the last real prompt count (the engine's tokenizer), spread over the
characters it covered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..engines.llm import Usage
from ..protocol.client_messages import ContextWindowCompression
from .history import Conversation

log = logging.getLogger("openlive.session")

CHARS_PER_TOKEN_GUESS = 3.5
RESERVE_TOKENS = 256  # room for the reply's first sentences
DEFAULT_TRIGGER_SHARE = 0.8  # of the context window, when the client names no trigger


@dataclass
class TokenEstimator:
    tokens_per_char: float = 1 / CHARS_PER_TOKEN_GUESS

    def calibrate(self, conversation: Conversation, prompt_tokens: int) -> None:
        chars = _chars(conversation)
        if chars > 0 and prompt_tokens > 0:
            self.tokens_per_char = prompt_tokens / chars

    def estimate(self, conversation: Conversation) -> int:
        return int(_chars(conversation) * self.tokens_per_char)

    def entry_tokens(self, entry: dict) -> int:
        return int(len(str(entry.get("content") or "")) * self.tokens_per_char) + 4


def _chars(conversation: Conversation) -> int:
    return len(conversation.system_instruction) + sum(
        len(str(entry.get("content") or "")) + 16 for entry in conversation.entries
    )


def slide_window(conversation: Conversation, estimator: TokenEstimator, target_tokens: int) -> int:
    """Drop the oldest turns, cutting only before a user turn, until the estimate is at or under
    ``target_tokens``. Returns how many entries were dropped."""
    entries = conversation.entries
    total = estimator.estimate(conversation)
    cut = 0
    while total > target_tokens and cut < len(entries):
        total -= estimator.entry_tokens(entries[cut])
        cut += 1
        # Advance to the next user turn so the window starts where a conversation can.
        while cut < len(entries) and entries[cut]["role"] != "user":
            total -= estimator.entry_tokens(entries[cut])
            cut += 1
    if cut >= len(entries) and entries:
        # Never drop the turn being answered: keep the last user turn at least.
        last_user = (
            max(i for i, e in enumerate(entries) if e["role"] == "user")
            if any(e["role"] == "user" for e in entries)
            else len(entries)
        )
        cut = min(cut, last_user)
    del entries[:cut]
    return cut


class ContextBudget:
    """One conversation against the model's context window (docs/protocol.md §9).

    With ``contextWindowCompression`` the window slides once the context passes the trigger:
    oldest turns go first, the system instruction stays. Without it, a conversation that no
    longer fits ends cleanly, with a reason, instead of failing inside the engine."""

    def __init__(
        self,
        conversation: Conversation,
        compression: ContextWindowCompression | None,
        context_tokens: int,
    ) -> None:
        self.conversation = conversation
        self.compression = compression
        self.context_tokens = context_tokens
        self.tokens = TokenEstimator()

    def after_turn(self, usage: Usage | None) -> None:
        """Learn from the turn's real prompt count, then slide the window if it is due."""
        if usage is not None:
            self.tokens.calibrate(self.conversation, usage.prompt_tokens)
        self._slide()

    def exhausted(self) -> str | None:
        """Before a reply: None when it fits (after sliding), else the reason to close with."""
        if self.compression is not None:
            self._slide()
            return None
        needed = self.tokens.estimate(self.conversation) + RESERVE_TOKENS
        if needed <= self.context_tokens:
            return None
        return (
            f"Context window exhausted ({needed} of {self.context_tokens} tokens); "
            "enable contextWindowCompression to continue."
        )

    def _slide(self) -> None:
        compression = self.compression
        if compression is None:
            return
        trigger = compression.trigger_tokens or int(self.context_tokens * DEFAULT_TRIGGER_SHARE)
        window = compression.sliding_window
        target = (window.target_tokens if window else None) or trigger // 2
        if self.tokens.estimate(self.conversation) > trigger:
            dropped = slide_window(self.conversation, self.tokens, target)
            log.info("context compressed, %d old entries dropped", dropped)

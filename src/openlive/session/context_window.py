"""Keeping a conversation inside the model's context window.

With ``contextWindowCompression.slidingWindow`` the oldest turns are dropped, always starting at a
user turn, until the estimate is under the target; the system instruction is kept. Token counts
per entry are estimated from the last real prompt count (the engine's tokenizer), spread over the
characters it covered.
"""

from __future__ import annotations

from dataclasses import dataclass

from .history import Conversation

CHARS_PER_TOKEN_GUESS = 3.5


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

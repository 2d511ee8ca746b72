"""What a reply is made of as it streams: typed pieces, so that nobody has to tell them apart by
their text. The reply pipeline (session/reply.py) makes them, an output (session/output.py)
delivers them, and history reads their types: the model's words go in, a filler never does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelText:
    """Words the model wrote."""

    text: str
    step: int = 0
    """Which request of the reply wrote it: 0, then one more after each blocking tool wait.
    The words of earlier steps are in history already, with the calls they led to."""


@dataclass(frozen=True)
class Filler:
    """Words the server says on its own while the client runs a slow blocking call, so the
    user hears no dead air. Spoken, but not the model's: history never keeps them."""

    text: str


Piece = ModelText | Filler

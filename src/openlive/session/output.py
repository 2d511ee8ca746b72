"""Delivering a reply: the one interface every reply is written through, chosen once per reply.

A text session gets :class:`TextOutput` (``modelTurn`` text parts); an audio session gets
``speech_out.SpeechOutput`` (clauses synthesised into audio parts, and the transcript). Either can
say afterwards what reached the user, which is what history keeps when a reply is cut off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from ..protocol.server_messages import ModelTurn, ServerContent, ServerMessage, ServerPart
from .clock import Clock
from .config import SessionConfig
from .outbox import Emit, Outgoing
from .pieces import ModelText, Piece
from .services import SpeechServices
from .speech_out import SpeechOutput


class ReplyOutput(Protocol):
    first_audio_at: float | None
    """When the first audio of the reply was queued (None for text): the trace's last stage."""

    async def deliver(self, pieces: AsyncIterator[Piece]) -> None:
        """Send the reply as its pieces stream in; return when all of it is queued."""
        ...

    def heard_model_text(self, now: float, *, since_step: int) -> str:
        """The model's words from request ``since_step`` on that the user got by ``now``:
        text that was sent, speech that was played. Filler never counts."""
        ...

    def playback_end(self) -> float | None:
        """When the client will have played everything sent (None: nothing to play)."""
        ...

    def is_audible(self, now: float) -> bool:
        """Whether the user is hearing the reply at ``now``: its audio plays, or more of it is
        coming after what has played (sound from the user then is over the reply)."""
        ...

    def spoken_text(self) -> str:
        """Everything said aloud so far, filler included (the echo guard compares with it)."""
        ...

    def pause(self, now: float) -> None:
        """Stop what the client plays at ``now`` (it flushes); generation goes on, held."""
        ...

    def resume(self, now: float) -> None:
        """Play on from where ``pause`` stopped: the flushed, unheard audio again, then more."""
        ...

    async def played_out(self) -> None:
        """Return once the client has played the whole reply (at once for text)."""
        ...


class TextOutput:
    """``modelTurn`` text parts, one per piece. What was sent is what the user got."""

    first_audio_at: float | None = None

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._items: list[tuple[Outgoing, Piece]] = []

    async def deliver(self, pieces: AsyncIterator[Piece]) -> None:
        async for piece in pieces:
            turn = ModelTurn(parts=[ServerPart(text=piece.text)])
            item = self._emit(ServerMessage(server_content=ServerContent(model_turn=turn)))
            self._items.append((item, piece))

    def heard_model_text(self, now: float, *, since_step: int) -> str:
        return "".join(
            piece.text
            for item, piece in self._items
            if item.sent and isinstance(piece, ModelText) and piece.step >= since_step
        )

    def playback_end(self) -> float | None:
        return None

    def is_audible(self, now: float) -> bool:
        return False

    def spoken_text(self) -> str:
        return ""

    def pause(self, now: float) -> None:
        """Text is not played: there is nothing to stop."""

    def resume(self, now: float) -> None:
        pass

    async def played_out(self) -> None:
        return None


def reply_output(
    config: SessionConfig,
    speech: SpeechServices | None,
    emit: Emit,
    clock: Clock,
    prefetched: dict[str, Any] | None = None,
) -> ReplyOutput:
    """The output for one reply of a session: speech in an audio session, text otherwise."""
    if config.modality != "AUDIO":
        return TextOutput(emit)
    assert speech is not None  # resolve_config refuses AUDIO without speech services
    return SpeechOutput(
        tts=speech.tts,
        fast_tts=speech.fast_tts,
        voice=config.voice,
        language=config.language,
        executor=speech.tts_executor,
        emit=emit,
        clock=clock,
        transcribe=config.output_transcription,
        prefetched=prefetched,
    )

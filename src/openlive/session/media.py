"""The session's ears and eyes: ``realtimeInput`` audio and activity go to the listener, images
to the camera. Spoken turns come back from the listener through the session's callbacks.

A session without speech services refuses audio and activity signals (1008, not enabled); one
without vision ignores images. A MIME type that is neither ends the session (1007).
"""

from __future__ import annotations

from ..protocol.client_messages import Blob, RealtimeInput
from ..protocol.errors import CloseCode, ProtocolError
from .camera import WHOLE_TURN_COVERAGES, Camera, analysis_resolution
from .clock import Clock
from .config import NOT_ENABLED, SessionConfig
from .listener import Listener
from .services import VisionServices


def camera_for(
    vision: VisionServices | None, media_resolution: str | None, config: SessionConfig, clock: Clock
) -> Camera | None:
    if vision is None:
        return None
    return Camera(
        vision,
        resolution=analysis_resolution(media_resolution),
        whole_turn=config.turn_coverage in WHOLE_TURN_COVERAGES,
        clock=clock,
    )


class Media:
    def __init__(self, listener: Listener | None, camera: Camera | None) -> None:
        self.listener = listener
        self.camera = camera

    async def take(self, message: RealtimeInput) -> None:
        """Everything in ``message`` but its text."""
        for blob in [message.audio, message.video, *message.media_chunks]:
            if blob is not None:
                await self._take_blob(blob)
        if message.activity_start is not None:
            await self._require_listener().activity_start()
        if message.activity_end is not None:
            await self._require_listener().activity_end()
        if message.audio_stream_end:
            await self._require_listener().audio_stream_end()

    async def settle(self) -> None:
        """Wait until every spoken turn that has ended is handed on, so that what comes next
        (typed text) is answered after it."""
        if self.listener is not None:
            await self.listener.settle()

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.aclose()
        if self.camera is not None:
            await self.camera.aclose()

    async def _take_blob(self, blob: Blob) -> None:
        kind = blob.mime_type.split("/", 1)[0].lower()
        if kind == "image":
            if self.camera is not None:
                await self.camera.add_frame(blob.data)  # a bad image ends the session: 1007
        elif kind == "audio" or not blob.mime_type:
            await self._require_listener().feed(blob.data, blob.mime_type or "audio/pcm")
        else:
            raise ProtocolError(f"Unsupported media MIME type {blob.mime_type[:40]!r}.")

    def _require_listener(self) -> Listener:
        if self.listener is None:
            raise ProtocolError(NOT_ENABLED, CloseCode.POLICY_VIOLATION)
        return self.listener

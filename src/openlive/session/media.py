"""The session's ears and eyes: ``realtimeInput`` audio and activity go to the listener, images
to the camera. Spoken turns come back from the listener through the session's callbacks.

A session without speech services refuses audio and activity signals (1008, not enabled); one
without vision ignores images. A MIME type that is neither ends the session (1007).

``clientContent`` parts take the same paths (:meth:`Media.take_part`): an image goes to the
camera, an audio recording to speech recognition and comes back as the user's words. What the
session cannot use there (no speech or vision loaded, a MIME type it does not read, a file
reference) is not the client's mistake: it is logged once per session and kind, never silently
dropped, and the conversation goes on without it.
"""

from __future__ import annotations

import logging

from ..protocol.client_messages import Blob, RealtimeInput
from ..protocol.errors import CloseCode, ProtocolError
from .camera import WHOLE_TURN_COVERAGES, Camera, analysis_resolution
from .clock import Clock
from .config import NOT_ENABLED, SessionConfig
from .listener import Listener
from .services import VisionServices

log = logging.getLogger("openlive.session")


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
    def __init__(
        self, listener: Listener | None, camera: Camera | None, session_id: str = ""
    ) -> None:
        self.listener = listener
        self.camera = camera
        self.session_id = session_id
        self._unused: set[str] = set()  # kinds of clientContent part already logged as unused

    async def take_part(self, blob: Blob) -> str:
        """A ``clientContent`` blob: an image for the camera, or a recording whose words (said
        by the user) are returned. What cannot be used is logged once per kind."""
        kind = blob.mime_type.split("/", 1)[0].lower()
        if kind == "image" and self.camera is not None:
            await self.camera.add_frame(blob.data)
        elif kind == "audio" and self.listener is not None:
            return await self.listener.recognise_clip(blob.data, blob.mime_type)
        elif kind == "image":
            self.unused("image parts (no vision models loaded)")
        elif kind == "audio":
            self.unused("audio parts (no speech models loaded)")
        else:
            self.unused(f"{blob.mime_type[:40] or 'untyped'} parts")
        return ""

    def unused(self, what: str) -> None:
        if what not in self._unused:
            self._unused.add(what)
            log.warning(
                "session %s: clientContent %s cannot be used; left out", self.session_id, what
            )

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

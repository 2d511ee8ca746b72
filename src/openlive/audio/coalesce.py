"""Tiny PCM blobs joined into chunks of a useful size before they are decoded and endpointed.

Firebase Web's ``startAudioConversation`` sends one message per audio render quantum: 43 samples
(2.7 ms) at 375 messages a second. Each blob would pay the per-chunk costs of decoding,
endpointing and the barge-in and partial-transcript checks; holding PCM until ``min_ms`` of it
has arrived (20 ms by default, the usual client chunk) pays them once per 20 ms, for at most 20
ms of delay. Only raw PCM is held: encoded blobs are whole files or stream pieces, decoded as
they come. A change of MIME type, and every boundary the client marks (``activityEnd``,
``audioStreamEnd``), flushes what is held first, so no audio is reordered or lost.
"""

from __future__ import annotations

from .decode import MAX_RATE, MIN_RATE, PCM_TYPES
from .pcm import INPUT_RATE, parse_mime

DEFAULT_MIN_MS = 20


class PcmCoalescer:
    def __init__(self, min_ms: int = DEFAULT_MIN_MS) -> None:
        self.min_ms = min_ms
        self._held = bytearray()
        self._mime_type = ""
        self._min_bytes = 0

    def add(self, data: bytes, mime_type: str) -> list[tuple[bytes, str]]:
        """The (data, MIME type) chunks ready to decode now, in order; may be none."""
        base, rate = parse_mime(mime_type)
        rate = rate or INPUT_RATE
        if self.min_ms <= 0 or base not in PCM_TYPES or not MIN_RATE <= rate <= MAX_RATE:
            # Encoded audio, or a rate the decoder refuses (it says so at once): not held.
            return [*self.flush(), (data, mime_type)]
        ready = self.flush() if mime_type != self._mime_type else []
        if not self._held:
            self._mime_type = mime_type
            self._min_bytes = rate * self.min_ms // 1000 * 2
        self._held += data
        if len(self._held) >= self._min_bytes:
            ready.extend(self.flush())
        return ready

    def flush(self) -> list[tuple[bytes, str]]:
        if not self._held:
            return []
        chunk, self._held = bytes(self._held), bytearray()
        return [(chunk, self._mime_type)]

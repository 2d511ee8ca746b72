"""Speech synthesis on any OpenAI-compatible ``/audio/speech`` server (fastkokoro, Kokoro-FastAPI,
speaches, OpenAI itself): the scale-out path for TTS.

The request asks for ``response_format: pcm`` (OpenAI's raw 24 kHz 16-bit little-endian mono,
the Live API's output rate, so nothing is resampled) and ``stream: true`` (Kokoro servers only
stream when asked; OpenAI streams its chunked answer anyway). :meth:`stream` is async and yields
the audio as it arrives, so the first words of a clause go out before the server has made the
last ones; cancelling the consumer (barge-in) closes the HTTP request, and a server that reads
its client's disconnect stops synthesising.

Gemini voice names are mapped to the server's voices: by default to the Kokoro style each name
uses in the embedded engine (``voices.py``; a blended name gets its first style), or by the
operator's ``Name=voice`` list, where ``*=voice`` names the voice for every other name.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

import httpx
import numpy as np

from .base import SAMPLE_RATE, TTSError
from .text import has_words, speakable
from .voices import VOICES, resolve_voice, voice_names

log = logging.getLogger(__name__)


def parse_voice_map(spec: str) -> dict[str, str]:
    """``"Puck=am_puck, Kore=af_kore, *=alloy"`` → a mapping (names case-insensitive)."""
    mapping: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        name, sep, voice = item.partition("=")
        if not sep or not name.strip() or not voice.strip():
            raise TTSError(f"bad voice mapping {item.strip()!r}: use Name=server_voice")
        key = name.strip() if name.strip() == "*" else resolve_voice(name).name
        mapping[key] = voice.strip()
    return mapping


class OpenAICompatibleTTS:
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "kokoro",
        api_key: str = "",
        voice_map: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        custom = dict(voice_map or {})
        fallback = custom.pop("*", None)
        self._voices = {
            voice.name: custom.get(voice.name, fallback or voice.styles[0]) for voice in VOICES
        }
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout_s, connect=5.0)
        # The async client is made on first use, inside the event loop that streams with it.
        self._client: httpx.AsyncClient | None = None
        self.description = f"{model} at {self.base_url} (OpenAI-compatible speech)"

    def load(self) -> None:
        """One short request: the server answers PCM, and it is warm before a user waits."""
        audio = self.synthesize("Ready.", voice="Puck")
        if len(audio) == 0:
            raise TTSError(f"{self.base_url} answered no audio for a test sentence")
        log.info("TTS: %s", self.description)

    def voices(self) -> list[str]:
        return voice_names()

    def server_voice(self, voice: str) -> str:
        return self._voices[resolve_voice(voice).name]

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        """The whole clause in one blocking request (worker threads: start-up, benchmarks)."""
        body = self._body(text, voice)
        if body is None:
            return np.zeros(0, dtype=np.int16)
        try:
            with httpx.Client(headers=self._headers, timeout=self._timeout) as client:
                response = client.post(f"{self.base_url}/audio/speech", json=body)
        except httpx.HTTPError as error:
            raise TTSError(f"{self.base_url}: {error}") from error
        if response.status_code >= 400:
            raise TTSError(f"HTTP {response.status_code} from {self.base_url}: {response.text}")
        data = response.content
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)

    async def stream(
        self, text: str, *, voice: str, language: str | None = None
    ) -> AsyncIterator[np.ndarray]:
        """The clause's audio as int16 chunks, as the server sends them."""
        body = self._body(text, voice)
        if body is None:
            return
        if self._client is None:
            self._client = httpx.AsyncClient(headers=self._headers, timeout=self._timeout)
        carry = b""
        try:
            async with self._client.stream(
                "POST", f"{self.base_url}/audio/speech", json=body
            ) as response:
                if response.status_code >= 400:
                    detail = (await response.aread()).decode("utf-8", "replace")[:300]
                    raise TTSError(f"HTTP {response.status_code} from {self.base_url}: {detail}")
                async for data in response.aiter_bytes():
                    data = carry + data
                    # A sample may straddle two network reads: keep its first byte for the next.
                    whole = len(data) // 2 * 2
                    carry = data[whole:]
                    if whole:
                        yield np.frombuffer(data[:whole], dtype="<i2").astype(np.int16)
        except httpx.HTTPError as error:
            raise TTSError(f"{self.base_url}: {error}") from error

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _body(self, text: str, voice: str) -> dict[str, object] | None:
        text = speakable(text)
        if not has_words(text):
            return None
        return {
            "model": self.model,
            "input": text,
            "voice": self.server_voice(voice),
            "response_format": "pcm",
            "stream": True,
        }

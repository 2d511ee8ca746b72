"""Speech recognition on any OpenAI-compatible ``/audio/transcriptions`` server (faster-whisper-
server, speaches, vLLM serving Whisper, OpenAI itself): the scale-out path for ASR.

It answers the same call as the embedded :class:`~.whisper.WhisperASR` (``transcribe(audio,
language)`` from a worker thread), so the listener's windowed recognition works unchanged: every
partial transcript is one request with the utterance so far, the final one a request with the
whole turn, started speculatively at the first pause. Each request is a 16 kHz mono WAV file.

What differs from the embedded engine: the server decides how to decode (window size, beam,
its own silence rules), and a server answering ``json`` names no language, so a session without
``languageCode`` is not pinned to the language of its first turns. The VAD check that a window
holds speech still runs here, before any request: silence costs no round trip and no invented
text, and the repeated-sentence clean-up applies to the server's text as to ours.
"""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Callable

import httpx
import numpy as np

from .whisper import SAMPLE_RATE, Transcript, VoiceActivity, drop_repeated_copy, voiced_ms

log = logging.getLogger(__name__)

_MIN_VOICED_MS = 96  # as the embedded engine: three VAD frames, shorter than any word


class RemoteASRError(RuntimeError):
    """The transcription server failed or answered something that is not a transcript."""


class OpenAICompatibleASR:
    """Thread-safe (one ``httpx.Client`` shared by the worker threads). Call it from worker
    threads, never the event loop: a request blocks until the server has decoded the audio."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "whisper-1",
        api_key: str = "",
        timeout_s: float = 30.0,
        vad: VoiceActivity | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.vad = vad
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
        )
        self.description = f"{model} at {self.base_url} (OpenAI-compatible transcriptions)"
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """One request on a second of silence: the server answers, and its model is warm
        before a user's turn needs it."""
        self._request(np.zeros(SAMPLE_RATE, np.float32), "en")
        self._loaded = True
        log.info("ASR: %s", self.description)

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> Transcript:
        """Text of 16 kHz mono float32 ``audio``; ``language`` an ISO 639-1 code or a BCP-47
        tag (``en-US`` → ``en``), None lets the server detect it. ``cancelled`` is asked before
        the request (one request cannot be stopped half way): if it says so, nothing is sent."""
        audio = np.asarray(audio, dtype=np.float32)
        code = language.replace("_", "-").split("-")[0].lower() if language else None
        if self.vad is not None and voiced_ms(self.vad, audio) < _MIN_VOICED_MS:
            return Transcript("", code or "")
        if cancelled is not None and cancelled():
            return Transcript("", code or "")
        text = self._request(audio, code)
        return Transcript(drop_repeated_copy(text.strip()), code or "")

    def close(self) -> None:
        self._client.close()

    def _request(self, audio: np.ndarray, language: str | None) -> str:
        form = {"model": self.model, "response_format": "json", "temperature": "0"}
        if language:
            form["language"] = language
        files = {"file": ("turn.wav", wav_bytes(audio), "audio/wav")}
        try:
            response = self._client.post("/audio/transcriptions", data=form, files=files)
        except httpx.HTTPError as error:
            raise RemoteASRError(f"{self.base_url}: {error}") from error
        if response.status_code >= 400:
            detail = response.text[:300]
            raise RemoteASRError(f"HTTP {response.status_code} from {self.base_url}: {detail}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError) as error:
            detail = response.text[:200]
            raise RemoteASRError(f"{self.base_url} sent no transcript: {detail}") from error
        if not isinstance(text, str):
            raise RemoteASRError(f"{self.base_url} sent a non-text transcript: {text!r}")
        return text


def wav_bytes(audio: np.ndarray) -> bytes:
    """16 kHz mono float32 in [-1, 1] as a 16-bit PCM WAV file: every transcription server
    reads WAV, and 16 bits lose nothing Whisper hears."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()

"""``--asr openai:<url>`` and ``--tts openai:<url>``: speech engines on shared servers."""

from __future__ import annotations

from ..engines.asr.openai_compat import OpenAICompatibleASR
from ..engines.asr.whisper import VoiceActivity
from ..engines.tts.openai_compat import OpenAICompatibleTTS, parse_voice_map
from ..settings import Settings

PREFIX = "openai:"


class BadEngineSetting(ValueError):
    """``--asr`` or ``--tts`` names no engine we know."""


def _remote_url(value: str, option: str) -> str | None:
    if value in ("", "embedded"):
        return None
    if not value.startswith(PREFIX) or not value.removeprefix(PREFIX):
        raise BadEngineSetting(f"--{option} {value!r}: use embedded or openai:<base_url>")
    return value.removeprefix(PREFIX)


def remote_asr(settings: Settings, vad: VoiceActivity | None) -> OpenAICompatibleASR | None:
    """The remote ASR ``settings.asr`` names, or None for the embedded Whisper."""
    url = _remote_url(settings.asr, "asr")
    if url is None:
        return None
    return OpenAICompatibleASR(
        url,
        model=settings.asr_model,
        api_key=settings.asr_api_key,
        timeout_s=settings.speech_timeout_s,
        vad=vad,
    )


def remote_tts(settings: Settings) -> OpenAICompatibleTTS | None:
    """The remote TTS ``settings.tts`` names, or None for the embedded engines."""
    url = _remote_url(settings.tts, "tts")
    if url is None:
        return None
    return OpenAICompatibleTTS(
        url,
        model=settings.tts_model,
        api_key=settings.tts_api_key,
        voice_map=parse_voice_map(settings.tts_voices),
        timeout_s=settings.speech_timeout_s,
    )

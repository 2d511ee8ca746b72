"""Load the speech engines once per process: VAD, end-of-turn, ASR, TTS (quality and fast)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..assets import AssetsMissing, InstallFailed, ensure_speech_assets
from ..session import SpeechServices
from ..settings import Settings
from .remote_speech import BadEngineSetting, remote_asr, remote_tts


class SpeechUnavailable(Exception):
    """The speech models could not be installed or loaded."""


async def load_speech(
    settings: Settings, report: Callable[[str, str], None], llm: object | None = None
) -> SpeechServices:
    """``llm``: the loaded LLM engine, for the words' end-of-turn signal when it can give one."""
    from ..engines.asr.openai_compat import OpenAICompatibleASR, RemoteASRError
    from ..engines.asr.whisper import WhisperASR
    from ..engines.tts.base import TTSError
    from ..engines.tts.registry import create_fast_tts, create_tts_engine
    from ..engines.turn.smart_turn import SmartTurn
    from ..engines.turn.text_eou import text_end_of_turn
    from ..engines.vad.silero import SileroVAD

    loop = asyncio.get_running_loop()

    async def step(stage: str, load: Callable[[], object]) -> object:
        started = time.perf_counter()
        report(stage, "loading")
        result = await loop.run_in_executor(None, load)
        report(stage, f"ready in {time.perf_counter() - started:.1f}s")
        return result

    try:
        assets = await step(
            "speech models", lambda: ensure_speech_assets(settings.models_dir, progress=False)
        )
    except (AssetsMissing, InstallFailed) as error:
        raise SpeechUnavailable(str(error)) from error

    vad = await step("vad", SileroVAD)
    turn = await step("end of turn", lambda: SmartTurn(assets.smart_turn_model, threads=1))

    def load_asr() -> OpenAICompatibleASR | WhisperASR:
        asr: OpenAICompatibleASR | WhisperASR | None = remote_asr(settings, vad)
        if asr is None:
            asr = WhisperASR(assets.whisper_dir, threads=settings.asr_threads, workers=2, vad=vad)
        asr.load()
        return asr

    try:
        asr = await step("speech recognition", load_asr)
    except (RemoteASRError, BadEngineSetting) as error:
        raise SpeechUnavailable(str(error)) from error

    def load_tts() -> tuple[object, object]:
        fast = create_fast_tts(settings, assets)
        fast.load()
        if settings.tts_mode == "fast" and not settings.tts.startswith("openai:"):
            return fast, fast
        quality = remote_tts(settings) or create_tts_engine(settings, assets)
        quality.load()
        return quality, fast

    try:
        tts, fast_tts = await step("speech synthesis", load_tts)
    except (TTSError, BadEngineSetting) as error:
        raise SpeechUnavailable(str(error)) from error
    text_turn = None
    if llm is not None and settings.turn_text_signal:
        text_turn = await loop.run_in_executor(None, text_end_of_turn, llm)
        report("end of turn", "words signal " + ("on" if text_turn else "off (LLM cannot give it)"))
    # A remote server's requests wait on the network, not on our cores: let more of them out.
    asr_workers = 16 if isinstance(asr, OpenAICompatibleASR) else 2
    return SpeechServices(
        vad=vad,
        turn=turn,
        asr=asr,
        tts=tts,  # type: ignore[arg-type]
        fast_tts=fast_tts if settings.tts_fallback else None,  # type: ignore[arg-type]
        asr_executor=ThreadPoolExecutor(max_workers=asr_workers, thread_name_prefix="listen"),
        tts_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="speak"),
        coalesce_ms=settings.audio_coalesce_ms,
        text_turn=text_turn,
        max_audio_message_s=settings.max_audio_message_s,
        max_resamplers=settings.max_resamplers,
        max_turn_audio_s=settings.max_turn_audio_s,
        audio_pace=settings.audio_pace,
        audio_burst_s=settings.audio_burst_s,
    )

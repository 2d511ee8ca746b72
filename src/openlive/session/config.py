"""What a session's setup asks for, resolved once and checked: modality, voice, language, VAD."""

from __future__ import annotations

from dataclasses import dataclass

from ..engines.tts.voices import DEFAULT_VOICE, UnknownVoice, resolve_voice
from ..protocol.client_messages import AutomaticActivityDetection, Setup
from ..protocol.errors import CloseCode, ProtocolError
from .state import Handling

MODALITIES = {"TEXT", "AUDIO"}
NOT_ENABLED = "Operation is not implemented, or supported, or enabled."


@dataclass(frozen=True)
class SessionConfig:
    modality: str  # "TEXT" or "AUDIO"
    voice: str  # a Gemini voice name, canonical spelling
    language: str | None  # BCP-47 from speechConfig.languageCode
    automatic_activity_detection: bool
    detection: AutomaticActivityDetection  # sensitivities, padding, silence as the client set them
    handling: Handling  # activityHandling: START_OF_ACTIVITY_INTERRUPTS (default) or not
    turn_coverage: str
    input_transcription: bool
    output_transcription: bool

    @property
    def recognition_language(self) -> str | None:
        """Whisper wants ``en``, not ``en-US``."""
        return self.language.split("-")[0].lower() if self.language else None


def resolve_config(setup: Setup, *, speech_available: bool) -> SessionConfig:
    generation = setup.generation_config
    modalities = generation.response_modalities or ["TEXT" if not speech_available else "AUDIO"]
    if len(modalities) != 1 or modalities[0] not in MODALITIES:
        raise ProtocolError(
            "Invalid setup: generation_config.response_modalities must be exactly one of "
            f"TEXT or AUDIO, got {modalities}."
        )
    modality = modalities[0]
    if modality == "AUDIO" and not speech_available:
        raise ProtocolError(NOT_ENABLED, CloseCode.POLICY_VIOLATION)

    speech = generation.speech_config
    voice_name = (
        speech.voice_config.prebuilt_voice_config.voice_name
        if speech and speech.voice_config and speech.voice_config.prebuilt_voice_config
        else None
    ) or DEFAULT_VOICE
    try:
        voice = resolve_voice(voice_name).name
    except UnknownVoice:
        raise ProtocolError(
            f"Invalid setup: unknown voice name {voice_name[:40]!r}; use one of the 30 "
            "prebuilt voices, e.g. Puck, Kore, Charon."
        ) from None

    realtime = setup.realtime_input_config
    detection = realtime.automatic_activity_detection if realtime else None
    return SessionConfig(
        modality=modality,
        voice=voice,
        language=speech.language_code if speech else None,
        automatic_activity_detection=not (detection and detection.disabled),
        detection=detection or AutomaticActivityDetection(),
        handling=Handling.NO_INTERRUPTION
        if realtime and realtime.activity_handling == "NO_INTERRUPTION"
        else Handling.INTERRUPTS,
        turn_coverage=(realtime.turn_coverage if realtime else None)
        or "TURN_INCLUDES_ONLY_ACTIVITY",
        input_transcription=setup.input_audio_transcription is not None,
        output_transcription=setup.output_audio_transcription is not None,
    )

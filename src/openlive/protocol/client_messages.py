"""Client → server messages (``BidiGenerateContentClientMessage``), docs/protocol.md §4.

Fields whose values are the user's own JSON (function args and responses, JSON schemas) are plain
``dict``/``Any`` so that their keys are never renamed or validated as protocol fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from .b64 import decode_lenient
from .wire import WireModel, normalize_enum


class Blob(WireModel):
    data: bytes = b""
    mime_type: str = ""

    @field_validator("data", mode="before")
    @classmethod
    def _decode_base64(cls, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        if not isinstance(value, str):
            raise ValueError("expected a base64 string")
        return decode_lenient(value)


class FunctionCall(WireModel):
    id: str | None = None
    name: str = ""
    args: dict[str, Any] = Field(default_factory=dict)


class FunctionResponse(WireModel):
    id: str | None = None
    name: str = ""
    response: dict[str, Any] = Field(default_factory=dict)
    scheduling: str | None = None
    will_continue: bool | None = None
    parts: list[Any] = Field(default_factory=list)

    _normalize = field_validator("scheduling")(lambda cls, v: normalize_enum(v))


class Part(WireModel):
    text: str | None = None
    inline_data: Blob | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    thought: bool | None = None
    file_data: dict[str, Any] | None = None


class Content(WireModel):
    role: str | None = None
    parts: list[Part] = Field(default_factory=list)

    def text(self) -> str:
        return "".join(part.text for part in self.parts if part.text)


class PrebuiltVoiceConfig(WireModel):
    voice_name: str | None = None


class VoiceConfig(WireModel):
    prebuilt_voice_config: PrebuiltVoiceConfig | None = None


class SpeechConfig(WireModel):
    voice_config: VoiceConfig | None = None
    language_code: str | None = None
    multi_speaker_voice_config: dict[str, Any] | None = None


class ThinkingConfig(WireModel):
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool | None = None


class GenerationConfig(WireModel):
    response_modalities: list[str] = Field(default_factory=list)
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    candidate_count: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    stop_sequences: list[str] = Field(default_factory=list)
    media_resolution: str | None = None
    speech_config: SpeechConfig | None = None
    thinking_config: ThinkingConfig | None = None
    enable_affective_dialog: bool | None = None
    translation_config: dict[str, Any] | None = None
    response_mime_type: str | None = None

    @field_validator("response_modalities", mode="before")
    @classmethod
    def _normalize_modalities(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [normalize_enum(item) if isinstance(item, str) else item for item in value]
        return value

    _normalize = field_validator("media_resolution")(lambda cls, v: normalize_enum(v))


class FunctionDeclaration(WireModel):
    name: str = ""
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_json_schema: Any = None
    response: dict[str, Any] | None = None
    response_json_schema: Any = None
    behavior: str | None = None

    _normalize = field_validator("behavior")(lambda cls, v: normalize_enum(v))


class Tool(WireModel):
    function_declarations: list[FunctionDeclaration] = Field(default_factory=list)
    google_search: dict[str, Any] | None = None
    google_search_retrieval: dict[str, Any] | None = None
    code_execution: dict[str, Any] | None = None
    url_context: dict[str, Any] | None = None
    google_maps: dict[str, Any] | None = None


class FunctionCallingConfig(WireModel):
    mode: str | None = None
    allowed_function_names: list[str] = Field(default_factory=list)

    _normalize = field_validator("mode")(lambda cls, v: normalize_enum(v))


class ToolConfig(WireModel):
    function_calling_config: FunctionCallingConfig | None = None


class AutomaticActivityDetection(WireModel):
    disabled: bool | None = None
    start_of_speech_sensitivity: str | None = None
    end_of_speech_sensitivity: str | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None

    _normalize = field_validator("start_of_speech_sensitivity", "end_of_speech_sensitivity")(
        lambda cls, v: normalize_enum(v)
    )


class RealtimeInputConfig(WireModel):
    automatic_activity_detection: AutomaticActivityDetection | None = None
    activity_handling: str | None = None
    turn_coverage: str | None = None
    interim_transcript_timestamp_enabled: bool | None = None

    _normalize = field_validator("activity_handling", "turn_coverage")(
        lambda cls, v: normalize_enum(v)
    )


class AudioTranscriptionConfig(WireModel):
    language_codes: list[str] = Field(default_factory=list)
    # Deprecated by Google, still sent: google-genai's types make both objects (``LanguageAuto``
    # is empty, ``LanguageHints`` holds ``languageCodes``); older docs show a bool and a list.
    language_auto: bool | None = None
    language_hints: list[str] = Field(default_factory=list)
    custom_vocabulary: list[Any] = Field(default_factory=list)
    adaptation_phrases: list[Any] = Field(default_factory=list)
    word_timestamp: bool | None = None
    diarization: Any = None
    mode: str | None = None
    source_text: Any = None

    @field_validator("language_auto", mode="before")
    @classmethod
    def _auto_object(cls, value: Any) -> Any:
        return True if isinstance(value, dict) else value  # ``languageAuto: {}`` turns it on

    @field_validator("language_hints", mode="before")
    @classmethod
    def _hints_object(cls, value: Any) -> Any:
        if isinstance(value, dict):
            codes = value.get("languageCodes", value.get("language_codes"))
            return [] if codes is None else codes
        return value


class SlidingWindow(WireModel):
    target_tokens: int | None = None


class ContextWindowCompression(WireModel):
    trigger_tokens: int | None = None
    sliding_window: SlidingWindow | None = None


class SessionResumptionConfig(WireModel):
    handle: str | None = None
    transparent: bool | None = None


class ProactivityConfig(WireModel):
    proactive_audio: bool | None = None
    proactive_video: bool | None = None


class HistoryConfig(WireModel):
    initial_history_in_client_content: bool | None = None


class Setup(WireModel):
    model: str = ""
    generation_config: GenerationConfig = Field(default_factory=GenerationConfig)
    system_instruction: Content | None = None
    tools: list[Tool] = Field(default_factory=list)
    tool_config: ToolConfig | None = None
    realtime_input_config: RealtimeInputConfig | None = None
    input_audio_transcription: AudioTranscriptionConfig | None = None
    output_audio_transcription: AudioTranscriptionConfig | None = None
    session_resumption: SessionResumptionConfig | None = None
    context_window_compression: ContextWindowCompression | None = None
    proactivity: ProactivityConfig | None = None
    history_config: HistoryConfig | None = None
    # Accepted and ignored: rare or surface-specific (docs/protocol.md §4.1).
    explicit_vad_signal: bool | None = None
    avatar_config: dict[str, Any] | None = None
    safety_settings: list[Any] = Field(default_factory=list)
    labels: dict[str, Any] | None = None

    @field_validator("system_instruction", mode="before")
    @classmethod
    def _string_instruction(cls, value: Any) -> Any:
        # Some raw-WebSocket users send the instruction as a bare string.
        if isinstance(value, str):
            return {"parts": [{"text": value}]}
        return value


class ClientContent(WireModel):
    turns: list[Content] = Field(default_factory=list)
    turn_complete: bool = False


class ActivityStart(WireModel):
    pass


class ActivityEnd(WireModel):
    pass


class RealtimeInput(WireModel):
    audio: Blob | None = None
    video: Blob | None = None
    text: str | None = None
    activity_start: ActivityStart | None = None
    activity_end: ActivityEnd | None = None
    audio_stream_end: bool | None = None
    media_chunks: list[Blob] = Field(default_factory=list)


class ToolResponse(WireModel):
    function_responses: list[FunctionResponse] = Field(default_factory=list)


class ToolList(WireModel):
    tools: list[Tool] = Field(default_factory=list)


class ContextUpdate(WireModel):
    system_instruction: Content | None = None
    tools: ToolList | None = None


ClientMessage = Setup | ClientContent | RealtimeInput | ToolResponse | ContextUpdate

# The top-level key of each message type, snake_case and lowerCamelCase.
MESSAGE_TYPES: dict[str, type[WireModel]] = {
    "setup": Setup,
    "client_content": ClientContent,
    "clientContent": ClientContent,
    "realtime_input": RealtimeInput,
    "realtimeInput": RealtimeInput,
    "tool_response": ToolResponse,
    "toolResponse": ToolResponse,
    "context_update": ContextUpdate,
    "contextUpdate": ContextUpdate,
}

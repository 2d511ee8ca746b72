"""What the official clients send decodes into the right typed values (docs/protocol.md §3.2,
§4)."""

from __future__ import annotations

import json

import pytest

from openlive.protocol.client_messages import (
    ClientContent,
    ContextUpdate,
    RealtimeInput,
    Setup,
    ToolResponse,
)
from openlive.protocol.codec import decode_client_message

from . import golden


def decode(frame: str):
    decoded = decode_client_message(frame)
    assert decoded.unknown_fields == []
    return decoded.message


@pytest.mark.parametrize("name", list(golden.GOLDEN_FRAMES))
def test_every_golden_frame_decodes_with_no_unknown_fields(name: str) -> None:
    frame = golden.GOLDEN_FRAMES[name]
    assert len(json.loads(frame)) == 1
    assert decode_client_message(frame).unknown_fields == []


class TestPythonSetup:
    """google-genai 3.6.1: camelCase where its converters know the field, snake_case below."""

    setup = decode(golden.PYTHON_SETUP)

    def test_is_a_setup_for_the_model_given(self) -> None:
        assert isinstance(self.setup, Setup)
        assert self.setup.model == "models/gemini-2.5-flash-native-audio-preview-09-2025"

    def test_generation_config(self) -> None:
        config = self.setup.generation_config
        assert config.response_modalities == ["AUDIO"]
        assert config.temperature == 0.7
        assert config.enable_affective_dialog is True
        assert config.thinking_config is not None
        assert config.thinking_config.thinking_budget == 0

    def test_snake_case_voice_inside_camel_case_speech_config(self) -> None:
        speech = self.setup.generation_config.speech_config
        assert speech is not None
        assert speech.voice_config.prebuilt_voice_config.voice_name == "Kore"
        assert speech.language_code == "en-US"

    def test_system_instruction(self) -> None:
        assert self.setup.system_instruction is not None
        assert self.setup.system_instruction.role == "user"
        assert self.setup.system_instruction.text() == "You are terse."

    def test_tools_keep_the_parameter_schema_verbatim(self) -> None:
        search, functions = self.setup.tools
        assert search.google_search == {}
        (declaration,) = functions.function_declarations
        assert declaration.name == "get_weather"
        assert declaration.description == "weather"
        assert declaration.behavior == "NON_BLOCKING"
        assert declaration.parameters == {
            "properties": {"city": {"type": "STRING"}},
            "type": "OBJECT",
        }

    def test_empty_objects_switch_features_on(self) -> None:
        assert self.setup.session_resumption is not None
        assert self.setup.session_resumption.handle is None
        assert self.setup.input_audio_transcription is not None
        assert self.setup.output_audio_transcription is not None

    def test_snake_case_realtime_input_config(self) -> None:
        config = self.setup.realtime_input_config
        assert config is not None
        detection = config.automatic_activity_detection
        assert detection.disabled is False
        assert detection.start_of_speech_sensitivity == "START_SENSITIVITY_LOW"
        assert detection.end_of_speech_sensitivity == "END_SENSITIVITY_LOW"
        assert detection.prefix_padding_ms == 20
        assert detection.silence_duration_ms == 100
        assert config.activity_handling == "START_OF_ACTIVITY_INTERRUPTS"
        assert config.turn_coverage == "TURN_INCLUDES_ONLY_ACTIVITY"

    def test_snake_case_context_window_compression(self) -> None:
        compression = self.setup.context_window_compression
        assert compression is not None
        assert compression.trigger_tokens == 25600
        assert compression.sliding_window.target_tokens == 12800

    def test_snake_case_proactivity(self) -> None:
        assert self.setup.proactivity is not None
        assert self.setup.proactivity.proactive_audio is True


class TestJsSetup:
    """@google/genai: the same configuration, camelCase throughout."""

    python = decode(golden.PYTHON_SETUP)
    js = decode(golden.JS_SETUP)

    @pytest.mark.parametrize(
        "field",
        [
            "model",
            "generation_config",
            "system_instruction",
            "input_audio_transcription",
            "output_audio_transcription",
            "realtime_input_config",
            "context_window_compression",
            "proactivity",
        ],
    )
    def test_decodes_like_the_python_setup(self, field: str) -> None:
        assert getattr(self.js, field) == getattr(self.python, field)

    def test_resumption_handle(self) -> None:
        assert self.js.session_resumption.handle == "handle-from-earlier"

    def test_json_schema_keys_are_not_renamed(self) -> None:
        (declaration,) = self.js.tools[1].function_declarations
        assert declaration.parameters is None
        assert declaration.parameters_json_schema == {
            "type": "object",
            "properties": {"city_name": {"type": "string"}},
            "required": ["city_name"],
            "additionalProperties": False,
        }


class TestFirebaseWebSetup:
    setup = decode(golden.FIREBASE_WEB_SETUP)

    def test_project_scoped_model_name(self) -> None:
        assert self.setup.model == "projects/my-proj/models/gemini-live-2.5-flash-preview"

    def test_voice_and_temperature(self) -> None:
        config = self.setup.generation_config
        assert config.response_modalities == ["AUDIO"]
        assert config.temperature == 0.5
        assert config.speech_config.voice_config.prebuilt_voice_config.voice_name == "Aoede"

    def test_system_role_in_the_instruction_is_accepted(self) -> None:
        assert self.setup.system_instruction.role == "system"
        assert self.setup.system_instruction.text() == "be brief"

    def test_declaration_without_parameters(self) -> None:
        (declaration,) = self.setup.tools[0].function_declarations
        assert (declaration.name, declaration.description) == ("f", "d")
        assert declaration.parameters is None

    def test_transcription_is_a_sibling_of_generation_config(self) -> None:
        assert self.setup.input_audio_transcription is not None
        assert self.setup.output_audio_transcription is not None


class TestFlutterSnakeCaseWithNulls:
    def test_setup_nulls_mean_absent(self) -> None:
        setup = decode(golden.FLUTTER_SETUP)
        assert setup.generation_config.response_modalities == ["AUDIO"]
        assert setup.generation_config.temperature is None
        assert setup.generation_config.top_k is None
        assert setup.tools == []
        assert setup.output_audio_transcription is None

    def test_setup_snake_case_fields(self) -> None:
        setup = decode(golden.FLUTTER_SETUP)
        speech = setup.generation_config.speech_config
        assert speech.voice_config.prebuilt_voice_config.voice_name == "Puck"
        assert setup.system_instruction.text() == "be brief"
        assert setup.input_audio_transcription is not None

    def test_explicit_null_media_chunks_beside_audio(self) -> None:
        message = decode(golden.FLUTTER_REALTIME_AUDIO)
        assert isinstance(message, RealtimeInput)
        assert message.media_chunks == []
        assert message.video is None
        assert message.text is None
        assert message.audio.mime_type == "audio/pcm"
        assert message.audio.data == golden.PCM_BYTES

    def test_snake_case_media_chunks(self) -> None:
        message = decode(golden.FLUTTER_MEDIA_CHUNKS)
        (chunk,) = message.media_chunks
        assert (chunk.mime_type, chunk.data) == ("audio/pcm", golden.PCM_BYTES)

    def test_snake_case_turn_complete(self) -> None:
        message = decode(golden.FLUTTER_CLIENT_CONTENT)
        assert isinstance(message, ClientContent)
        assert message.turn_complete is False
        assert message.turns[0].text() == "hi"


class TestPythonCapturedFrames:
    """docs/protocol.md §4.6: one frame per google-genai call."""

    def test_client_content(self) -> None:
        message = decode(golden.PY_CLIENT_CONTENT)
        assert isinstance(message, ClientContent)
        assert message.turn_complete is True
        (turn,) = message.turns
        assert (turn.role, turn.text()) == ("user", "hello")

    def test_audio_in_url_safe_base64(self) -> None:
        message = decode(golden.PY_AUDIO)
        assert isinstance(message, RealtimeInput)
        assert message.audio.mime_type == "audio/pcm;rate=16000"
        assert message.audio.data == golden.PCM_BYTES

    def test_video_jpeg_in_url_safe_base64(self) -> None:
        message = decode(golden.PY_VIDEO)
        assert message.video.mime_type == "image/jpeg"
        assert message.video.data == golden.JPEG_BYTES
        assert message.audio is None

    def test_media_chunks(self) -> None:
        (chunk,) = decode(golden.PY_MEDIA_CHUNKS).media_chunks
        assert (chunk.mime_type, chunk.data) == ("audio/pcm", golden.PCM_BYTES)

    def test_text(self) -> None:
        assert decode(golden.PY_TEXT).text == "typed text"

    def test_audio_stream_end(self) -> None:
        message = decode(golden.PY_AUDIO_STREAM_END)
        assert message.audio_stream_end is True
        assert message.audio is None

    def test_activity_start(self) -> None:
        message = decode(golden.PY_ACTIVITY_START)
        assert message.activity_start is not None
        assert message.activity_end is None

    def test_activity_end(self) -> None:
        message = decode(golden.PY_ACTIVITY_END)
        assert message.activity_end is not None
        assert message.activity_start is None

    def test_tool_response_with_snake_case_will_continue(self) -> None:
        message = decode(golden.PY_TOOL_RESPONSE)
        assert isinstance(message, ToolResponse)
        (response,) = message.function_responses
        assert response.id == "call-1"
        assert response.name == "get_weather"
        assert response.will_continue is False
        assert response.scheduling == "WHEN_IDLE"
        assert response.response == {"result": "sunny"}

    def test_context_update(self) -> None:
        message = decode(golden.PY_CONTEXT_UPDATE)
        assert isinstance(message, ContextUpdate)
        assert message.system_instruction.text() == "Be formal."
        (tool,) = message.tools.tools
        (declaration,) = tool.function_declarations
        assert declaration.name == "get_time"
        assert declaration.parameters["properties"] == {"time_zone": {"type": "STRING"}}

    def test_context_update_with_an_empty_tool_list_clears_tools(self) -> None:
        message = decode('{"contextUpdate": {"tools": {"tools": []}}}')
        assert message.tools is not None
        assert message.tools.tools == []
        assert message.system_instruction is None


class TestUserJsonIsNeverRenamed:
    def test_function_response_keys(self) -> None:
        response = {"feels_like": {"temp_c": 21}, "windSpeed": 3, "null_field": None}
        frame = json.dumps(
            {
                "toolResponse": {
                    "functionResponses": [{"id": "1", "name": "f", "response": response}]
                }
            }
        )
        (decoded,) = decode(frame).function_responses
        assert decoded.response == response

    def test_parameters_schema_keys(self) -> None:
        parameters = {
            "type": "OBJECT",
            "properties": {"city_name": {"type": "STRING"}, "max_days": {"type": "INTEGER"}},
            "required": ["city_name"],
        }
        frame = json.dumps(
            {
                "setup": {
                    "tools": [{"function_declarations": [{"name": "f", "parameters": parameters}]}]
                }
            }
        )
        (declaration,) = decode(frame).tools[0].function_declarations
        assert declaration.parameters == parameters


class TestEnumsAreNormalisedToUpperSnake:
    def test_sensitivities_and_activity_handling(self) -> None:
        frame = json.dumps(
            {
                "setup": {
                    "realtimeInputConfig": {
                        "automaticActivityDetection": {
                            "startOfSpeechSensitivity": "start_sensitivity_high",
                            "endOfSpeechSensitivity": "End-Sensitivity-Low",
                        },
                        "activityHandling": "no-interruption",
                        "turnCoverage": " turn_includes_all_input ",
                    }
                }
            }
        )
        config = decode(frame).realtime_input_config
        detection = config.automatic_activity_detection
        assert detection.start_of_speech_sensitivity == "START_SENSITIVITY_HIGH"
        assert detection.end_of_speech_sensitivity == "END_SENSITIVITY_LOW"
        assert config.activity_handling == "NO_INTERRUPTION"
        assert config.turn_coverage == "TURN_INCLUDES_ALL_INPUT"

    def test_response_modalities_and_behavior(self) -> None:
        frame = json.dumps(
            {
                "setup": {
                    "generationConfig": {"responseModalities": ["audio"]},
                    "tools": [
                        {"functionDeclarations": [{"name": "f", "behavior": "non_blocking"}]}
                    ],
                }
            }
        )
        setup = decode(frame)
        assert setup.generation_config.response_modalities == ["AUDIO"]
        assert setup.tools[0].function_declarations[0].behavior == "NON_BLOCKING"

    def test_scheduling(self) -> None:
        frame = '{"toolResponse": {"functionResponses": [{"id": "1", "scheduling": "silent"}]}}'
        assert decode(frame).function_responses[0].scheduling == "SILENT"


@pytest.mark.parametrize(
    "encoded",
    [
        golden.PCM_STANDARD,
        golden.PCM_STANDARD.rstrip("="),
        golden.PCM_URLSAFE,
        golden.PCM_URLSAFE.rstrip("="),
    ],
    ids=["standard-padded", "standard-unpadded", "urlsafe-padded", "urlsafe-unpadded"],
)
def test_blob_data_in_either_base64_alphabet_padded_or_not(encoded: str) -> None:
    frame = json.dumps({"realtimeInput": {"audio": {"data": encoded, "mimeType": "audio/pcm"}}})
    assert decode(frame).audio.data == golden.PCM_BYTES

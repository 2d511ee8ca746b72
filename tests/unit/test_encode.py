"""Server messages leave as UTF-8 JSON bytes, camelCase only, and google-genai reads them (§5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.genai import types

from openlive.protocol.codec import encode_server_message
from openlive.protocol.server_messages import (
    FunctionCallOut,
    GoAway,
    InlineData,
    ModalityTokenCount,
    ModelTurn,
    ServerContent,
    ServerMessage,
    ServerPart,
    SessionResumptionUpdate,
    SetupComplete,
    ToolCall,
    ToolCallCancellation,
    Transcription,
    UsageMetadata,
    duration,
)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from keys(child)
    elif isinstance(value, list):
        for child in value:
            yield from keys(child)


def wire(message: ServerMessage) -> dict[str, Any]:
    return json.loads(encode_server_message(message))


def genai_parse(message: ServerMessage) -> types.LiveServerMessage:
    response = json.loads(encode_server_message(message))
    return types.LiveServerMessage._from_response(response=response, kwargs={})


EVERY_FIELD = ServerMessage(
    setup_complete=SetupComplete(session_id="session-1"),
    server_content=ServerContent(
        model_turn=ModelTurn(
            parts=[
                ServerPart(text="thinking", thought=True),
                ServerPart(inline_data=InlineData(mime_type="audio/pcm;rate=24000", data="AAE=")),
            ]
        ),
        generation_complete=True,
        turn_complete=True,
        interrupted=False,
        input_transcription=Transcription(text="hi", finished=True),
        output_transcription=Transcription(text="hello", finished=False),
        grounding_metadata={"webSearchQueries": ["weather"]},
        turn_complete_reason="NEED_MORE_INPUT",
        waiting_for_input=True,
    ),
    tool_call=ToolCall(function_calls=[FunctionCallOut(id="c1", name="f", args={"city": "Oslo"})]),
    tool_call_cancellation=ToolCallCancellation(ids=["c0"]),
    go_away=GoAway(time_left="50s"),
    session_resumption_update=SessionResumptionUpdate(new_handle="h", resumable=True),
    usage_metadata=UsageMetadata(
        prompt_token_count=1,
        cached_content_token_count=0,
        response_token_count=2,
        candidates_token_count=2,
        tool_use_prompt_token_count=0,
        thoughts_token_count=0,
        total_token_count=3,
        prompt_tokens_details=[ModalityTokenCount(modality="AUDIO", token_count=1)],
        response_tokens_details=[ModalityTokenCount(modality="TEXT", token_count=2)],
        candidates_tokens_details=[ModalityTokenCount(modality="TEXT", token_count=2)],
    ),
)


class TestWireForm:
    def test_bytes_of_one_json_object(self) -> None:
        encoded = encode_server_message(EVERY_FIELD)
        assert isinstance(encoded, bytes)
        assert isinstance(json.loads(encoded.decode("utf-8")), dict)

    def test_camel_case_keys_at_every_level(self) -> None:
        every_key = list(keys(wire(EVERY_FIELD)))
        assert "promptTokensDetails" in every_key
        assert [key for key in every_key if "_" in key] == []

    def test_top_level_keys_are_those_google_genai_knows(self) -> None:
        assert set(wire(EVERY_FIELD)) == {
            "setupComplete",
            "serverContent",
            "toolCall",
            "toolCallCancellation",
            "goAway",
            "sessionResumptionUpdate",
            "usageMetadata",
        }

    def test_none_fields_are_left_out(self) -> None:
        message = ServerMessage(server_content=ServerContent(turn_complete=True))
        assert wire(message) == {"serverContent": {"turnComplete": True}}

    def test_setup_complete_without_session_id_is_an_empty_object(self) -> None:
        assert wire(ServerMessage(setup_complete=SetupComplete())) == {"setupComplete": {}}

    def test_false_and_zero_are_kept(self) -> None:
        message = ServerMessage(
            server_content=ServerContent(interrupted=False),
            usage_metadata=UsageMetadata(total_token_count=0),
        )
        assert wire(message) == {
            "serverContent": {"interrupted": False},
            "usageMetadata": {"totalTokenCount": 0},
        }

    def test_standard_base64_is_sent_as_given(self) -> None:
        part = ServerPart(inline_data=InlineData(mime_type="audio/pcm;rate=24000", data="+/8="))
        message = ServerMessage(server_content=ServerContent(model_turn=ModelTurn(parts=[part])))
        assert wire(message)["serverContent"]["modelTurn"] == {
            "role": "model",
            "parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "+/8="}}],
        }

    def test_non_ascii_text_is_utf8(self) -> None:
        part = ServerPart(text="grüß ✓ 👋")
        message = ServerMessage(server_content=ServerContent(model_turn=ModelTurn(parts=[part])))
        encoded = encode_server_message(message)
        assert "grüß ✓ 👋".encode() in encoded

    def test_function_call_args_keep_the_users_keys(self) -> None:
        call = FunctionCallOut(id="c1", name="f", args={"city_name": "Oslo", "max_days": 3})
        message = ServerMessage(tool_call=ToolCall(function_calls=[call]))
        assert wire(message)["toolCall"]["functionCalls"][0]["args"] == {
            "city_name": "Oslo",
            "max_days": 3,
        }


class TestGoogleGenaiParsesIt:
    """google-genai 3.6.1 is the client most sensitive to the server's output (§3.2)."""

    def test_setup_complete_session_id(self) -> None:
        parsed = genai_parse(ServerMessage(setup_complete=SetupComplete(session_id="session-1")))
        assert parsed.setup_complete is not None
        assert parsed.setup_complete.session_id == "session-1"

    def test_model_turn_text_and_audio(self) -> None:
        parsed = genai_parse(EVERY_FIELD)
        text, audio = parsed.server_content.model_turn.parts
        assert (text.text, text.thought) == ("thinking", True)
        assert audio.inline_data.mime_type == "audio/pcm;rate=24000"
        assert audio.inline_data.data == b"\x00\x01"

    def test_text_turn(self) -> None:
        part = ServerPart(text="Hello there.")
        message = ServerMessage(server_content=ServerContent(model_turn=ModelTurn(parts=[part])))
        assert genai_parse(message).server_content.model_turn.parts[0].text == "Hello there."

    def test_turn_end_with_usage_in_the_same_message(self) -> None:
        message = ServerMessage(
            server_content=ServerContent(turn_complete=True),
            usage_metadata=UsageMetadata(prompt_token_count=4, total_token_count=9),
        )
        parsed = genai_parse(message)
        assert parsed.server_content.turn_complete is True
        assert parsed.usage_metadata.total_token_count == 9
        assert parsed.usage_metadata.prompt_token_count == 4

    def test_server_content_flags_and_transcriptions(self) -> None:
        content = genai_parse(EVERY_FIELD).server_content
        assert content.generation_complete is True
        assert content.interrupted is False
        assert content.waiting_for_input is True
        assert content.turn_complete_reason == types.TurnCompleteReason.NEED_MORE_INPUT
        assert (content.input_transcription.text, content.input_transcription.finished) == (
            "hi",
            True,
        )
        assert content.output_transcription.text == "hello"

    def test_go_away_time_left(self) -> None:
        parsed = genai_parse(ServerMessage(go_away=GoAway(time_left=duration(59.5))))
        assert parsed.go_away.time_left == "59.5s"

    def test_tool_call_and_cancellation(self) -> None:
        parsed = genai_parse(EVERY_FIELD)
        (call,) = parsed.tool_call.function_calls
        assert (call.id, call.name, call.args) == ("c1", "f", {"city": "Oslo"})
        assert parsed.tool_call_cancellation.ids == ["c0"]

    def test_session_resumption_update(self) -> None:
        update = genai_parse(EVERY_FIELD).session_resumption_update
        assert (update.new_handle, update.resumable) == ("h", True)

    def test_usage_details(self) -> None:
        usage = genai_parse(EVERY_FIELD).usage_metadata
        assert usage.response_token_count == 2
        (detail,) = usage.prompt_tokens_details
        assert detail.modality == types.MediaModality.AUDIO
        assert detail.token_count == 1


@pytest.mark.parametrize(
    ("seconds", "text"), [(50, "50s"), (59.5, "59.5s"), (0, "0s"), (0.25, "0.25s"), (1.0004, "1s")]
)
def test_duration_is_a_proto3_json_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text

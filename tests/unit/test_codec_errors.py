"""Every undecodable frame is a ProtocolError: close 1007, a reason of ≤ 123 bytes (§3.5, §7)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openlive.protocol.client_messages import RealtimeInput
from openlive.protocol.codec import decode_client_message
from openlive.protocol.errors import MAX_REASON_BYTES, CloseCode, ProtocolError, truncate_reason

from . import golden


def reject(frame: str | bytes, **kwargs) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode_client_message(frame, **kwargs)
    error = caught.value
    assert error.code == CloseCode.INVALID_PAYLOAD == 1007
    assert len(error.reason.encode("utf-8")) <= MAX_REASON_BYTES
    return error


@pytest.mark.parametrize(
    "frame", ["", "{", "not json", '{"setup": {}', "{'setup': {}}", "\ufeff{}"]
)
def test_bad_json(frame: str) -> None:
    assert reject(frame).reason.startswith("Invalid JSON payload received.")


@pytest.mark.parametrize("frame", ["[]", "[{}]", "1", '"setup"', "null", "true"])
def test_top_level_value_that_is_not_an_object(frame: str) -> None:
    reject(frame)


@pytest.mark.parametrize("frame", ["{}", '{"setup": null}', '{"clientContent": null}'])
def test_no_message_field(frame: str) -> None:
    reject(frame)


def test_two_message_fields() -> None:
    error = reject('{"setup": {}, "client_content": {}}')
    assert "setup" in error.reason
    assert "clientContent" in error.reason


def test_unknown_top_level_key_is_named_in_the_reason() -> None:
    assert '"fooBar"' in reject('{"fooBar": {}}').reason


def test_server_message_key_from_a_client_is_unknown() -> None:
    assert "serverContent" in reject('{"serverContent": {}}').reason


def test_unknown_top_level_key_beside_a_valid_message() -> None:
    assert "extra" in reject('{"setup": {}, "extra": 1}').reason


def test_very_long_unknown_key_gives_a_short_reason() -> None:
    reject(json.dumps({"é" * 500: {}}, ensure_ascii=False))


@pytest.mark.parametrize("key", ["setup", "clientContent", "realtime_input", "toolResponse"])
def test_message_body_that_is_not_an_object(key: str) -> None:
    reject(json.dumps({key: []}))


class TestFrameSize:
    frame = '{"realtimeInput": {"text": "é"}}'  # one character more than it has UTF-8 bytes
    size = len(frame.encode("utf-8"))

    def test_over_the_limit_is_refused(self) -> None:
        assert "exceeds" in reject(self.frame, max_bytes=self.size - 1).reason

    def test_limit_counts_utf8_bytes_not_characters(self) -> None:
        reject(self.frame, max_bytes=len(self.frame))

    def test_at_the_limit_is_accepted(self) -> None:
        decode_client_message(self.frame, max_bytes=self.size)

    def test_binary_frame_over_the_limit_is_refused(self) -> None:
        reject(self.frame.encode("utf-8"), max_bytes=self.size - 1)


@pytest.mark.parametrize("data", ["%%%%", "AAEAA", "A", "AAEAAQ==AA", "AA=A", "AA*A", 12, [1, 2]])
def test_bad_base64(data: object) -> None:
    error = reject(
        json.dumps({"realtimeInput": {"audio": {"data": data, "mimeType": "audio/pcm"}}})
    )
    assert "realtime_input.audio.data" in error.reason


@pytest.mark.parametrize(
    "message",
    [
        {"setup": {"model": 5}},
        {"setup": {"generationConfig": {"temperature": "hot"}}},
        {"setup": {"generationConfig": {"responseModalities": "AUDIO"}}},
        {"setup": {"generationConfig": []}},
        {"setup": {"systemInstruction": 5}},
        {"setup": {"tools": {"googleSearch": {}}}},
        {"setup": {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": "maybe"}}}},
        {"setup": {"contextWindowCompression": {"triggerTokens": 1.5}}},
        {"clientContent": {"turnComplete": "maybe"}},
        {"clientContent": {"turns": {"parts": []}}},
        {"clientContent": {"turns": [{"parts": [{"text": 1}]}]}},
        {"realtimeInput": {"text": ["a"]}},
        {"realtimeInput": {"mediaChunks": {"data": "AA=="}}},
        {"realtimeInput": {"activityStart": True}},
        {"toolResponse": {"functionResponses": [{"id": "1", "response": "sunny"}]}},
        {"toolResponse": {"functionResponses": [{"id": "1", "willContinue": [True]}]}},
        {"contextUpdate": {"tools": [{"googleSearch": {}}]}},
    ],
    ids=lambda message: json.dumps(message),
)
def test_wrong_types(message: dict) -> None:
    error = reject(json.dumps(message))
    assert error.reason.startswith("Invalid JSON payload received. Invalid value at '")


class TestUnknownNestedFieldsAreReportedNotRefused:
    def test_in_generation_config(self) -> None:
        decoded = decode_client_message('{"setup": {"generationConfig": {"foo": 1}}}')
        assert decoded.unknown_fields == [("foo", "setup.generation_config")]

    def test_paths_are_snake_case_at_every_depth(self) -> None:
        frame = json.dumps(
            {
                "setup": {
                    "fooSetup": 1,
                    "generationConfig": {"speechConfig": {"voiceConfig": {"bar": 2}}},
                    "tools": [{"functionDeclarations": [{"name": "f", "baz": 3}]}],
                }
            }
        )
        assert sorted(decode_client_message(frame).unknown_fields) == [
            ("bar", "setup.generation_config.speech_config.voice_config"),
            ("baz", "setup.tools.function_declarations"),
            ("fooSetup", "setup"),
        ]

    def test_in_other_messages(self) -> None:
        decoded = decode_client_message('{"realtimeInput": {"text": "hi", "newThing": {}}}')
        assert decoded.message.text == "hi"
        assert decoded.unknown_fields == [("newThing", "realtime_input")]

    def test_known_fields_still_decode(self) -> None:
        decoded = decode_client_message('{"setup": {"model": "m", "futureField": {"a": 1}}}')
        assert decoded.message.model == "m"

    def test_null_unknown_field_is_absent(self) -> None:
        assert decode_client_message('{"setup": {"futureField": null}}').unknown_fields == []


class TestFrameTypes:
    def test_text_and_binary_frames_decode_alike(self) -> None:
        for frame in golden.GOLDEN_FRAMES.values():
            as_text = decode_client_message(frame)
            as_binary = decode_client_message(frame.encode("utf-8"))
            assert as_binary == as_text

    def test_binary_frame_with_non_ascii_text(self) -> None:
        frame = '{"realtimeInput": {"text": "grüß dich ✓ 👋"}}'.encode()
        message = decode_client_message(frame).message
        assert isinstance(message, RealtimeInput)
        assert message.text == "grüß dich ✓ 👋"

    @pytest.mark.parametrize(
        "frame",
        [
            b'{"realtimeInput": {"text": "\xff"}}',
            b'{"realtimeInput": {"text": "\xc3"}}',  # a two-byte sequence cut short
            b'{"realtimeInput": {"text": "\xc0\xaf"}}',  # overlong "/"
            b"\x80",
        ],
    )
    def test_invalid_utf8_bytes(self, frame: bytes) -> None:
        reject(frame)

    def test_utf8_encoded_surrogate_is_invalid_utf8(self) -> None:
        reject(b'{"realtimeInput": {"text": "\xed\xa0\x80"}}')


class TestReasonsThatCannotBeEncoded:
    """JSON escapes can carry text that is not valid UTF-8 into an error reason."""

    def test_lone_surrogate_escape_in_an_unknown_key(self) -> None:
        reject('{"\\ud800": {}}')

    def test_integer_with_too_many_digits(self) -> None:
        reject('{"setup": {"generationConfig": {"seed": ' + "9" * 5000 + "}}}")


def test_deeply_nested_json() -> None:
    reject("[" * 100_000 + "]" * 100_000)


def test_deeply_nested_user_json_in_a_valid_message() -> None:
    args = '{"a":' * 5_000 + "1" + "}" * 5_000
    reject('{"toolResponse": {"functionResponses": [{"id": "1", "response": ' + args + "}]}}")


class TestTruncateReason:
    @pytest.mark.parametrize("char", ["a", "é", "€", "👋"])
    def test_never_splits_a_character(self, char: str) -> None:
        reason = truncate_reason(char * 200)
        encoded = reason.encode("utf-8")
        assert len(encoded) <= MAX_REASON_BYTES
        assert len(encoded) > MAX_REASON_BYTES - len(char.encode("utf-8"))
        assert set(reason) == {char}

    def test_short_reason_is_unchanged(self) -> None:
        assert truncate_reason("Internal error encountered.") == "Internal error encountered."

    def test_exactly_123_bytes_is_unchanged(self) -> None:
        assert truncate_reason("x" * 123) == "x" * 123

    @given(st.text())
    def test_is_a_prefix_of_at_most_123_bytes(self, reason: str) -> None:
        truncated = truncate_reason(reason)
        assert reason.startswith(truncated)
        assert len(truncated.encode("utf-8")) <= MAX_REASON_BYTES
        if len(reason.encode("utf-8")) <= MAX_REASON_BYTES:
            assert truncated == reason

    def test_protocol_error_truncates_its_reason(self) -> None:
        error = ProtocolError("é" * 100)
        assert error.reason == "é" * 61
        assert str(error) == error.reason

"""The microphone's message skips the general validator: it must decode to exactly the same
message, and anything unusual must still take the general path (and its errors)."""

from __future__ import annotations

import json

import pytest

from openlive.protocol import codec
from openlive.protocol.client_messages import RealtimeInput
from openlive.protocol.errors import ProtocolError


@pytest.mark.parametrize(
    "audio",
    [
        {"mimeType": "audio/pcm", "data": "AAEAAfv/vw=="},  # Firebase Web, @google/genai
        {"mime_type": "audio/pcm;rate=16000", "data": "AAEAAfv_vw"},  # google-genai, URL-safe
        {"data": "AAEAAQ=="},
    ],
)
def test_same_message_as_the_general_path(audio: dict) -> None:
    frame = json.dumps({"realtimeInput": {"audio": audio}})
    fast = codec.decode_client_message(frame)
    general = RealtimeInput.model_validate({"audio": audio})
    assert fast.message == general
    assert fast.unknown_fields == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"audio": {"mimeType": "audio/pcm", "data": "%%%"}}, "realtime_input.audio.data"),
        ({"audio": {"mimeType": 7, "data": "AAAA"}}, "realtime_input.audio.mimeType"),
        ({"audio": {"data": ["AAAA"]}}, "realtime_input.audio.data"),
    ],
)
def test_odd_audio_messages_get_the_general_error(body: dict, expected: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        codec.decode_client_message(json.dumps({"realtimeInput": body}))
    assert raised.value.code == 1007
    assert expected in raised.value.reason


def test_unknown_fields_beside_audio_are_still_reported() -> None:
    frame = json.dumps({"realtimeInput": {"audio": {"data": "AAAA", "extra": 1}}})
    assert codec.decode_client_message(frame).unknown_fields == [("extra", "realtime_input.audio")]

"""Whatever arrives on the socket, the decoder either decodes it or raises ProtocolError (1007)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openlive.protocol import client_messages
from openlive.protocol.b64 import decode_lenient
from openlive.protocol.client_messages import MESSAGE_TYPES
from openlive.protocol.codec import decode_client_message
from openlive.protocol.errors import MAX_REASON_BYTES, CloseCode, ProtocolError
from openlive.protocol.wire import WireModel

from . import golden

modest = settings(max_examples=200, deadline=None)


def decodes_or_refuses(frame: str | bytes) -> None:
    try:
        decode_client_message(frame, max_bytes=1 << 20)
    except ProtocolError as error:
        assert error.code == CloseCode.INVALID_PAYLOAD
        assert len(error.reason.encode("utf-8")) <= MAX_REASON_BYTES


def _field_names() -> list[str]:
    names: set[str] = set()
    for value in vars(client_messages).values():
        if isinstance(value, type) and issubclass(value, WireModel):
            for name, info in value.model_fields.items():
                names.update({name, info.alias or name})
    return sorted(names)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["AAEAAQ==", "_9j__9j_", "+/8", "AUDIO", "start_sensitivity_low", ""])
)
any_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
# Objects whose keys are mostly real field names, so that values reach the typed models.
field_names = st.sampled_from(_field_names())
shaped_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(field_names | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=40,
)
shaped_messages = st.builds(
    lambda key, body: {key: body}, st.sampled_from(sorted(MESSAGE_TYPES)), shaped_json
)


@modest
@given(st.binary(max_size=256))
def test_random_bytes(frame: bytes) -> None:
    decodes_or_refuses(frame)


@modest
@given(st.text(max_size=256))
def test_random_text(frame: str) -> None:
    decodes_or_refuses(frame)


@modest
@given(any_json)
def test_random_json(value: Any) -> None:
    decodes_or_refuses(json.dumps(value))


@modest
@given(shaped_messages)
def test_random_json_shaped_like_messages(message: dict[str, Any]) -> None:
    decodes_or_refuses(json.dumps(message))


@modest
@given(shaped_messages)
def test_random_json_shaped_like_messages_in_binary_frames(message: dict[str, Any]) -> None:
    decodes_or_refuses(json.dumps(message, ensure_ascii=False).encode("utf-8"))


NON_ASCII_FRAME = '{"realtimeInput": {"text": "grüß dich ✓ 👋"}}'


@pytest.mark.parametrize("name", [*golden.GOLDEN_FRAMES, "non_ascii"])
def test_every_truncation_of_a_golden_frame(name: str) -> None:
    frame = golden.GOLDEN_FRAMES.get(name, NON_ASCII_FRAME)
    for end in range(len(frame) + 1):
        decodes_or_refuses(frame[:end])
    encoded = frame.encode("utf-8")
    for end in range(len(encoded) + 1):
        decodes_or_refuses(encoded[:end])


BASE64_FORMS = {
    "standard-padded": lambda data: base64.b64encode(data).decode(),
    "standard-unpadded": lambda data: base64.b64encode(data).decode().rstrip("="),
    "urlsafe-padded": lambda data: base64.urlsafe_b64encode(data).decode(),
    "urlsafe-unpadded": lambda data: base64.urlsafe_b64encode(data).decode().rstrip("="),
    "mime-line-wrapped": lambda data: base64.encodebytes(data).decode(),
}


@pytest.mark.parametrize("form", BASE64_FORMS)
@modest
@given(data=st.binary(max_size=300))
def test_base64_round_trip(form: str, data: bytes) -> None:
    encoded = BASE64_FORMS[form](data)
    assert decode_lenient(encoded) == data
    frame = json.dumps({"realtimeInput": {"audio": {"data": encoded, "mimeType": "audio/pcm"}}})
    assert decode_client_message(frame).message.audio.data == data

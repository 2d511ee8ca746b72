"""The limits that bound what one client message can cost (docs/limits.md), as pure rules:
audio seconds per blob, resamplers per session, JSON depth, token request fields, ownership."""

from __future__ import annotations

import io
import json

import av
import numpy as np
import pytest

from openlive.audio.decode import AudioDecoder, AudioFormatError, AudioLimitError, decode_file
from openlive.auth.owner import Owner, fingerprint
from openlive.auth.tokens import TokenRequestError, _uses, locked_context_fields
from openlive.protocol.codec import decode_client_message
from openlive.protocol.errors import ProtocolError


def flac_of_silence(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="flac") as output:
        stream = output.add_stream("flac", rate=rate, layout="mono")
        block = np.zeros((1, rate), dtype=np.int16)
        for second in range(int(seconds)):
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.rate, frame.pts = rate, second * rate
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def test_a_small_flac_of_long_silence_is_refused_while_decoding() -> None:
    data = flac_of_silence(120)
    assert len(data) < 200_000  # a few bytes per second of silence: hours fit in a message
    with pytest.raises(AudioLimitError):
        decode_file(data, max_seconds=30)
    assert len(decode_file(data, max_seconds=300)) == 120 * 16_000


def test_pcm_past_the_limit_is_refused_by_its_size_alone() -> None:
    decoder = AudioDecoder(max_seconds=1.0)
    one_second_at_4k = bytes(2 * 4000)
    assert len(decoder.decode(one_second_at_4k, "audio/pcm;rate=4000")) > 0
    with pytest.raises(AudioLimitError):
        decoder.decode(one_second_at_4k + b"\0\0", "audio/pcm;rate=4000")
    assert issubclass(AudioLimitError, AudioFormatError)


def test_resamplers_are_kept_for_the_latest_rates_only() -> None:
    decoder = AudioDecoder(max_resamplers=2)
    for rate in range(8000, 48000, 1000):
        decoder.decode(bytes(320), f"audio/pcm;rate={rate}")
    assert list(decoder._resamplers) == [46000, 47000]


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_json_is_refused_before_validation() -> None:
    shallow = {"toolResponse": {"functionResponses": [{"name": "f", "response": nested(10)}]}}
    decode_client_message(json.dumps(shallow), max_depth=64)
    deep = {"toolResponse": {"functionResponses": [{"name": "f", "response": nested(100)}]}}
    with pytest.raises(ProtocolError) as raised:
        decode_client_message(json.dumps(deep), max_depth=64)
    assert raised.value.code == 1007
    assert "nested deeper than 64" in raised.value.reason


@pytest.mark.parametrize("value", [1e400, -1, 1.5, "x", True, [1], 10**12])
def test_token_uses_out_of_range_is_a_request_error(value: object) -> None:
    with pytest.raises(TokenRequestError):
        _uses(value)


@pytest.mark.parametrize(("value", "uses"), [(1, 1), (0, 0), ("3", 3), (None, 0), (2.0, 2)])
def test_token_uses_in_range(value: object, uses: int) -> None:
    assert _uses(value) == uses


def test_locked_context_fields_follow_the_field_mask() -> None:
    setup = {"systemInstruction": {"parts": [{"text": "x"}]}, "tools": [{"googleSearch": {}}]}
    assert locked_context_fields({"setup": setup, "locked": None}) == {"systemInstruction", "tools"}
    only = {"setup": setup, "locked": ["systemInstruction"]}
    assert locked_context_fields(only) == {"systemInstruction"}
    assert locked_context_fields({"setup": None, "locked": []}) == frozenset()


def test_only_the_owner_resumes() -> None:
    key_a, key_b = fingerprint("key-a"), fingerprint("key-b")
    stored = Owner(key=key_a).to_json()
    Owner(key=key_a).check_resume(stored)
    with pytest.raises(ProtocolError) as raised:
        Owner(key=key_b).check_resume(stored)
    assert raised.value.code == 1008
    # A token's session: its key may resume it, the same token may, another token may not.
    by_token = Owner(key=key_a, token=fingerprint("t1")).to_json()
    Owner(key=key_a).check_resume(by_token)
    Owner(key=key_a, token=fingerprint("t1")).check_resume(by_token)
    with pytest.raises(ProtocolError):
        Owner(key=key_a, token=fingerprint("t2")).check_resume(by_token)
    with pytest.raises(ProtocolError):
        Owner(key=key_a, token=fingerprint("t1")).check_resume(stored)
    # Made while no keys were configured: anyone.
    Owner(key=key_b).check_resume(Owner().to_json())
    Owner(key=key_b).check_resume(None)


async def test_messages_held_while_a_reply_runs_are_bounded() -> None:
    from .session_fakes import TEXT_SETUP, Bench, Hang, ScriptedLLM

    setup = {**TEXT_SETUP, "realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}}
    async with Bench(setup, ScriptedLLM(["Thinking", Hang()])) as bench:
        bench.session._max_held = 3
        await bench.say("first")  # the reply runs (and hangs): what follows is held
        for n in range(3):
            await bench.say(f"held {n}")
        with pytest.raises(ProtocolError) as raised:
            await bench.say("one too many")
    assert raised.value.code == 1008
    assert "held while a reply runs" in raised.value.reason


def test_lone_surrogate_escapes_become_replacement_characters() -> None:
    # json.loads makes a lone surrogate of "\ud800"; no UTF-8 encoder takes it (the LLM
    # request failed with 1011). A valid pair stays one character.
    frame = '{"clientContent": {"turns": [{"parts": [{"text": "a\\ud800b\\ud83d\\ude00"}]}]}}'
    message = decode_client_message(frame).message
    text = message.turns[0].parts[0].text  # type: ignore[union-attr]
    assert text == "a\ufffdb\U0001f600"
    text.encode("utf-8")


async def test_a_turn_longer_than_the_context_closes_1008_not_1011() -> None:
    from openlive.engines.llm import ContextOverflowError

    from .session_fakes import TEXT_SETUP, Bench, Fail, ScriptedLLM

    overflow = ContextOverflowError("request (150124 tokens) exceeds the context size")
    async with Bench(TEXT_SETUP, ScriptedLLM([Fail(overflow)])) as bench:
        await bench.say("y" * 300_000)
    assert bench.closed is not None
    assert bench.closed.code == 1008

"""What one session may hold (docs/limits.md), on the bench of session_fakes: audio per turn,
function calls left unanswered, and recognition jobs of a session that has gone away."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from openlive.protocol.errors import ProtocolError

from .session_fakes import AUDIO_SETUP, Bench, ScriptedASR, ScriptedLLM, speech_services
from .test_barge_in import AUTO_AUDIO_SETUP, sound
from .test_barge_in import services as vad_services


def pcm_blob(seconds: float) -> dict:
    data = base64.b64encode(bytes(int(seconds * 16000) * 2)).decode()
    return {"realtimeInput": {"audio": {"data": data, "mimeType": "audio/pcm;rate=16000"}}}


# -- audio per turn ---------------------------------------------------------------------------


async def test_a_manual_turn_past_its_audio_bound_closes_1008_before_keeping_it():
    speech = dataclasses.replace(speech_services(asr=ScriptedASR("fits")), max_turn_audio_s=2.0)
    async with Bench(AUDIO_SETUP, ScriptedLLM(["Yes."]), speech=speech) as bench:
        await bench.send({"realtimeInput": {"activityStart": {}}})
        for _ in range(4):
            await bench.send(pcm_blob(0.5))  # 2.0 s: exactly the bound
        await bench.send({"realtimeInput": {"activityEnd": {}}})
        assert bench.history()[0] == ("user", "fits")
        await bench.send({"realtimeInput": {"activityStart": {}}})  # a new turn counts afresh
        await bench.send(pcm_blob(1.5))
        with pytest.raises(ProtocolError) as raised:
            await bench.send(pcm_blob(0.6))
        listener = bench.session.listener
        assert listener is not None and listener._manual_samples == 24_000  # not kept
    assert raised.value.code == 1008
    assert raised.value.reason == "More than 2 s of audio between activityStart and activityEnd."
    assert len(raised.value.reason.encode()) <= 123


async def test_automatic_detection_ends_a_turn_that_never_pauses_at_the_bound():
    asr = ScriptedASR("a very long turn", "wait, there is more")
    speech = dataclasses.replace(vad_services(asr), max_turn_audio_s=1.0)
    async with Bench(AUTO_AUDIO_SETUP, ScriptedLLM(["Heard you."]), speech=speech) as bench:
        await sound(bench, 1.5, loud=True)  # no pause: the bound ends the turn, not the silence
        assert bench.closed is None
        assert bench.history()[0] == ("user", "a very long turn")
        await sound(bench, 1.0, loud=False)
        # The speech went on past the bound: a new utterance, here over the reply, cutting it.
        assert ("user", "wait, there is more") in bench.history()

"""``--asr openai:`` and ``--tts openai:`` against real third-party servers on the packaged
weights (faster-whisper-server for recognition, fastkokoro for synthesis), driven by google-genai
like a live microphone. Neither server is ours: they speak the OpenAI audio API as they wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from openlive.engines.asr.openai_compat import OpenAICompatibleASR

from ..genai_helpers import MODEL, client_for
from ..servers import ServerProcess, start_server
from ..speech import SpeechMaker
from ..speech_servers import FASTKOKORO, SpeechServer, start_kokoro_server, start_whisper_server
from ..wer import wer
from .test_voice import (
    Microphone,
    VoiceTurn,
    assert_audio_parts_are_well_formed,
    assert_completed,
    assert_history_keeps_what_was_heard,
    lexical,
    receive_voice_turn,
    talk_over_reply,
    to_16k,
    voice_config,
)

RESTAURANT = "I was wondering if you could help me find a good restaurant near the station."
TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"


@pytest.fixture(scope="module")
def whisper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpeechServer]:
    server = start_whisper_server(tmp_path_factory.mktemp("faster-whisper-server"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kokoro_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SpeechServer]:
    if not FASTKOKORO.exists():
        pytest.skip("fastkokoro is not installed (./run test installs it in .venv-fastkokoro)")
    cache = getattr(pytestconfig, "cache", None)
    cache_dir = cache.mkdir("fastkokoro") if cache else tmp_path_factory.mktemp("fastkokoro")
    server = start_kokoro_server(tmp_path_factory.mktemp("fastkokoro"), cache_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote_voice_server(
    tmp_path_factory: pytest.TempPathFactory,
    whisper_server: SpeechServer,
    kokoro_server: SpeechServer,
) -> Iterator[ServerProcess]:
    """A voice server whose only speech models in process are the VAD and the turn model."""
    server = start_server(
        tmp_path_factory.mktemp("remote-speech"),
        "--asr",
        f"openai:{whisper_server.base_url}",
        "--tts",
        f"openai:{kokoro_server.base_url}",
        speech=True,
        # No fast-voice fallback: every sample of a reply must come from the remote server.
        env={"OPENLIVE_TTS_FALLBACK": "0"},
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def speech(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> SpeechMaker:
    cache = getattr(pytestconfig, "cache", None)
    directory = cache.mkdir("openlive-speech") if cache else tmp_path_factory.mktemp("speech")
    return SpeechMaker(directory)


def test_health_names_the_remote_engines(
    remote_voice_server: ServerProcess, whisper_server: SpeechServer, kokoro_server: SpeechServer
) -> None:
    health = httpx.get(f"{remote_voice_server.http_url}/healthz", verify=False).json()
    assert whisper_server.base_url in health["asr"]
    assert kokoro_server.base_url in health["tts"]


async def test_a_spoken_turn_is_recognised_and_answered_by_the_remote_servers(
    remote_voice_server: ServerProcess,
    whisper_server: SpeechServer,
    kokoro_server: SpeechServer,
    speech: SpeechMaker,
) -> None:
    transcriptions_before = whisper_server.requests(TRANSCRIPTIONS)
    speech_before = kokoro_server.requests(SPEECH)
    client = client_for(remote_voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=voice_config(30)) as session,
        Microphone(session) as mic,
    ):
        mic.say(RESTAURANT, speech.say(RESTAURANT))
        turn = await receive_voice_turn(session)

    assert turn.input_transcriptions[-1].finished
    assert wer(RESTAURANT, turn.input_text) <= 0.25, turn.input_text
    # Windowed recognition: partials while the user talked (one a second, one at a time), then
    # the final transcript: more than one request for one turn.
    assert whisper_server.requests(TRANSCRIPTIONS) - transcriptions_before >= 2

    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)
    assert kokoro_server.requests(SPEECH) > speech_before
    # The reply audio (fastkokoro's) says what its transcript says, as Whisper hears it.
    reply_asr = OpenAICompatibleASR(whisper_server.base_url)
    heard = reply_asr.transcribe(to_16k(turn.audio).astype(np.float32), "en").text
    reply_asr.close()
    assert turn.output_text.strip()
    assert wer(lexical(turn.output_text), lexical(heard)) <= 0.4, (turn.output_text, heard)
    remote_voice_server.assert_loop_errors_handled()


STORY = "Please tell me a long story about a brave little dragon."
STOP = "Wait, stop, tell me about dogs instead."


async def test_barge_in_cuts_off_a_remote_voice_reply(
    remote_voice_server: ServerProcess, kokoro_server: SpeechServer, speech: SpeechMaker
) -> None:
    """The reply streams from the remote server; the user talks over it: interrupted comes while
    they talk, and history keeps only the part of the remote audio that was played."""
    instruction = "Remote barge-in test 5e2. You tell long stories."
    config = voice_config(1000, system_instruction=instruction)

    def after_a_second_of_story(reply: VoiceTurn) -> float | None:
        return reply.first("audio") + 1.0 if reply.audio_seconds >= 3.0 else None

    client = client_for(remote_voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(STORY, speech.say(STORY))
        talk = await talk_over_reply(
            session, mic, (STOP, speech.say(STOP)), after_a_second_of_story
        )

    events = talk.reply.events()
    assert events[-2:] == ["interrupted", "turnComplete"], events
    interrupted_at = talk.reply.first("interrupted")
    assert talk.said.onset < interrupted_at < talk.said.end, (talk.said.onset, interrupted_at)
    assert_history_keeps_what_was_heard(remote_voice_server, instruction, talk)
    remote_voice_server.assert_loop_errors_handled()

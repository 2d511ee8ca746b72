"""Voice conversations through google-genai (Python, pinned) over TLS, public API only.

The client streams natural speech (hibari, cached) like a real microphone: 100 ms of 16-bit PCM
every 100 ms, silence between utterances. The packaged LLM is a placeholder, so these tests check
transcripts, audio, events and what reaches the engine, never the wisdom of the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import soxr
from google.genai import errors, types

from openlive.engines.asr import WhisperASR

from ..audio_containers import OPUS_RATE, cut_evenly, encode_opus
from ..genai_helpers import MODEL, client_for, user_text
from ..models import speech_assets
from ..servers import DEFAULT_MODEL, ServerProcess, start_server
from ..speech import SAMPLE_RATE, SpeechMaker, pad
from ..wer import normalise, wer

OUTPUT_RATE = 24_000
OUTPUT_MIME = "audio/pcm;rate=24000"
MAX_CHUNK_BYTES = OUTPUT_RATE // 5 * 2  # 200 ms of 16-bit mono at 24 kHz
CHUNK_S = 0.1  # a client sends 100 ms of microphone audio at a time, in real time

QUESTION = "What time does the museum open on Sunday mornings?"
STORY = "Please tell me a long story about a brave little dragon."
STOP = "Wait, stop, tell me about dogs instead."
BACKCHANNEL = "Mm-hmm."
WEATHER = "Can you tell me what the weather will be like tomorrow in London?"
RESTAURANT = "I was wondering if you could help me find a good restaurant near the station."
AUSTRALIA = "How many people live in the capital city of Australia?"


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One TLS server with the whole voice pipeline (VAD, end of turn, Whisper, Kokoro)."""
    server = start_server(tmp_path_factory.mktemp("voice"), speech=True, llm=DEFAULT_MODEL)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def speech(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> SpeechMaker:
    # The pytest cache survives between runs, so each sentence is synthesized once.
    cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    directory = cache.mkdir("openlive-speech") if cache else tmp_path_factory.mktemp("speech")
    return SpeechMaker(directory)


@pytest.fixture(scope="module")
def recogniser() -> WhisperASR:
    """Whisper in the test process, to check that the reply audio says what its transcript says."""
    asr = WhisperASR(speech_assets().whisper_dir, threads=2)
    asr.load()
    return asr


def assert_no_errors_logged(server: ServerProcess, since: int) -> None:
    """No traceback or internal error in the server log after byte offset ``since``."""
    with server.log_file.open("rb") as log:
        log.seek(since)
        new = log.read().decode(errors="replace")
    assert "Traceback" not in new, new
    assert "internal error" not in new.lower(), new


@pytest.fixture(autouse=True)
def no_server_errors(voice_server: ServerProcess) -> Iterator[None]:
    """No test may leave a traceback or an internal error in the server log."""
    start = voice_server.log_file.stat().st_size
    yield
    assert_no_errors_logged(voice_server, start)


# -- a client's microphone --------------------------------------------------------------------


def pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def at_rate(audio16k: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return audio16k
    return soxr.resample(audio16k, SAMPLE_RATE, rate).astype(np.float32)


def chunks(audio16k: np.ndarray, rate: int = SAMPLE_RATE) -> list[bytes]:
    """``audio16k`` at ``rate`` as 100 ms PCM chunks (the last one zero-padded to full length)."""
    data = pcm16(at_rate(audio16k, rate))
    size = round(rate * CHUNK_S) * 2
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    pieces[-1] = pieces[-1].ljust(size, b"\0")
    return pieces


@dataclass
class Utterance:
    """One clip the microphone has spoken: when its first and last chunk left the client."""

    text: str
    chunks: deque[bytes]
    onset: float | None = None
    end: float | None = None


class Microphone:
    """Streams like a live microphone: 100 ms chunks at real-time pace, forever; speech when an
    utterance is queued, digital silence otherwise (the server's endpointing needs trailing
    audio, as from a real microphone)."""

    def __init__(self, session: Any, rate: int = SAMPLE_RATE) -> None:
        self.session = session
        self.rate = rate
        self.mime_type = f"audio/pcm;rate={rate}"
        self._silence = bytes(round(rate * CHUNK_S) * 2)
        self._queue: deque[Utterance] = deque()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Microphone:
        self._task = asyncio.create_task(self._run(), name="microphone")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        if self._task.done():
            self._task.result()  # a send that failed is a test failure
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def say(self, text: str, audio16k: np.ndarray) -> Utterance:
        utterance = Utterance(text, deque(chunks(audio16k, self.rate)))
        self._queue.append(utterance)
        return utterance

    async def _run(self) -> None:
        deadline = time.monotonic()
        while True:
            utterance = self._queue[0] if self._queue else None
            data = utterance.chunks.popleft() if utterance else self._silence
            await self.session.send_realtime_input(
                audio=types.Blob(data=data, mime_type=self.mime_type)
            )
            now = time.monotonic()
            if utterance is not None:
                if utterance.onset is None:
                    utterance.onset = now
                if not utterance.chunks:
                    utterance.end = now
                    self._queue.popleft()
            deadline += CHUNK_S
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))


# -- what came back ---------------------------------------------------------------------------


@dataclass
class VoiceTurn:
    """Every message ``receive()`` yielded for one model turn, each with its arrival time."""

    received: list[tuple[float, types.LiveServerMessage]] = field(default_factory=list)

    def add(self, message: types.LiveServerMessage) -> None:
        self.received.append((time.monotonic(), message))

    def _contents(self) -> Iterator[tuple[float, types.LiveServerContent]]:
        for at, message in self.received:
            if message.server_content is not None:
                yield at, message.server_content

    @property
    def parts(self) -> list[tuple[float, types.Part]]:
        return [
            (at, part)
            for at, content in self._contents()
            if content.model_turn
            for part in content.model_turn.parts or []
        ]

    @property
    def audio_parts(self) -> list[tuple[float, types.Blob]]:
        return [(at, part.inline_data) for at, part in self.parts if part.inline_data]

    @property
    def audio(self) -> bytes:
        return b"".join(blob.data for _, blob in self.audio_parts)

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / 2 / OUTPUT_RATE

    @property
    def text(self) -> str:
        return "".join(part.text for _, part in self.parts if part.text)

    @property
    def input_transcriptions(self) -> list[types.Transcription]:
        return [c.input_transcription for _, c in self._contents() if c.input_transcription]

    @property
    def input_text(self) -> str:
        return "".join(t.text or "" for t in self.input_transcriptions)

    def finished_at(self) -> float | None:
        """When the first input transcription marked ``finished`` arrived."""
        return next(
            (
                at
                for at, c in self._contents()
                if c.input_transcription and c.input_transcription.finished
            ),
            None,
        )

    def utterances(self) -> list[str]:
        """Input transcription text, one entry per user utterance (split at ``finished``)."""
        texts = [""]
        for transcription in self.input_transcriptions:
            texts[-1] += transcription.text or ""
            if transcription.finished:
                texts.append("")
        return texts[:-1] if texts[-1] == "" else texts

    @property
    def output_text(self) -> str:
        return "".join(
            c.output_transcription.text or "" for _, c in self._contents() if c.output_transcription
        )

    def first(self, event: str) -> float | None:
        return next((at for at, name in self.timeline() if name == event), None)

    def timeline(self) -> list[tuple[float, str]]:
        """Turn events with arrival times: audio, text, interrupted, generationComplete,
        turnComplete (transcriptions left out: they may interleave anywhere)."""
        order: list[tuple[float, str]] = []
        for at, content in self._contents():
            for part in content.model_turn.parts if content.model_turn else []:
                order.append((at, "audio" if part.inline_data else "text"))
            if content.interrupted:
                order.append((at, "interrupted"))
            if content.generation_complete:
                order.append((at, "generationComplete"))
            if content.turn_complete:
                order.append((at, "turnComplete"))
        return order

    def events(self) -> list[str]:
        """The timeline without times, runs of audio/text chunks collapsed to one entry."""
        names: list[str] = []
        for _, name in self.timeline():
            if not (names and names[-1] == name in ("audio", "text")):
                names.append(name)
        return names

    @property
    def last(self) -> types.LiveServerMessage:
        return self.received[-1][1]


async def receive_voice_turn(session: Any) -> VoiceTurn:
    """``receive()`` stops on its own after the message carrying ``turnComplete``."""
    turn = VoiceTurn()
    async with asyncio.timeout(90):
        async for message in session.receive():
            turn.add(message)
    return turn


@dataclass
class TalkOver:
    """A reply the user talked over, and the start of the turn after it."""

    said: Utterance
    reply: VoiceTurn
    following: VoiceTurn

    @property
    def utterances(self) -> list[str]:
        return VoiceTurn(self.reply.received + self.following.received).utterances()


async def talk_over_reply(
    session: Any,
    mic: Microphone,
    clip: tuple[str, np.ndarray],
    speak_at: Callable[[VoiceTurn], float | None],
) -> TalkOver:
    """Receive a reply; once ``speak_at(reply so far)`` names a time, say ``clip`` then. Then
    receive the next turn until its first audio (its answer has started)."""
    reply, following = VoiceTurn(), VoiceTurn()
    speaking: asyncio.Task[Utterance] | None = None

    async def speak(at: float) -> Utterance:
        await asyncio.sleep(at - time.monotonic())
        return mic.say(*clip)

    async with asyncio.timeout(90):
        async for message in session.receive():
            reply.add(message)
            if speaking is None and (at := speak_at(reply)) is not None:
                speaking = asyncio.create_task(speak(at))
        assert speaking is not None and speaking.done(), f"never spoke: {reply.events()}"
        async for message in session.receive():
            following.add(message)
            if following.audio_parts:
                break
    return TalkOver(speaking.result(), reply, following)


def requests_with_instruction(server: ServerProcess, instruction: str) -> list[dict]:
    return [r for r in server.llm_requests() if r["messages"][0]["content"] == instruction]


def assert_history_keeps_what_was_heard(
    server: ServerProcess, instruction: str, talk: TalkOver
) -> tuple[list[str], list[str]]:
    """The request after an interrupted reply holds only the part of it the user heard: a
    word-wise prefix of the output transcription sent, and shorter than it."""
    requests = requests_with_instruction(server, instruction)
    assert len(requests) == 2, [r["messages"] for r in requests]
    messages = requests[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"], messages
    sent_words = talk.reply.output_text.split()
    heard_words = messages[2]["content"].split()
    assert heard_words, "some of the reply was heard"
    assert heard_words == sent_words[: len(heard_words)], (heard_words, sent_words)
    assert len(heard_words) < len(sent_words), (heard_words, sent_words)
    assert wer(talk.said.text, messages[3]["content"]) <= 0.3, messages[3]
    return heard_words, sent_words


def voice_config(max_output_tokens: int = 40, **overrides: Any) -> types.LiveConnectConfig:
    overrides.setdefault("response_modalities", [types.Modality.AUDIO])
    return types.LiveConnectConfig(
        max_output_tokens=max_output_tokens,
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        **overrides,
    )


def voiced(name: str) -> types.SpeechConfig:
    return types.SpeechConfig(
        voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=name)
        )
    )


# Times and numbers are written one way and recognised another ("9:00am" / "9 a.m."); leave
# them out when comparing what was said with what was written.
_NUMBER_FORMS = {"a", "m", "p", "am", "pm", "zero", "one", "two", "three", "four"}
_NUMBER_FORMS |= {"five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}


def lexical(text: str) -> str:
    return " ".join(w for w in normalise(text) if w.isalpha() and w not in _NUMBER_FORMS)


def playback(turn: VoiceTurn) -> tuple[float, list[float]]:
    """A client that plays each chunk on arrival (after the ones before it), in real time: when
    its playback ends, and the gaps (s) it would hear mid-reply when audio comes late."""
    stalls: list[float] = []
    end: float | None = None
    for at, blob in turn.audio_parts:
        if end is not None and at > end:
            stalls.append(at - end)
        end = max(at, end or at) + len(blob.data) / 2 / OUTPUT_RATE
    assert end is not None, f"no audio: {turn.events()}"
    return end, stalls


def to_16k(pcm24k: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm24k, dtype="<i2").astype(np.float32) / 32768.0
    return soxr.resample(samples, OUTPUT_RATE, SAMPLE_RATE).astype(np.float32)


def spectral_centroid(pcm24k: bytes) -> float:
    """Mean spectral centroid (Hz) of the voiced 1024-sample frames of 24 kHz PCM."""
    samples = np.frombuffer(pcm24k, dtype="<i2").astype(np.float64) / 32768.0
    frame = 1024
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    voiced_frames = frames[np.sqrt(np.mean(frames**2, axis=1)) > 0.02]
    spectrum = np.abs(np.fft.rfft(voiced_frames * np.hanning(frame), axis=1))
    frequencies = np.fft.rfftfreq(frame, 1 / OUTPUT_RATE)
    centroids = (spectrum * frequencies).sum(axis=1) / np.maximum(spectrum.sum(axis=1), 1e-9)
    return float(np.mean(centroids))


def median_pitch(pcm24k: bytes) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames, by autocorrelation."""
    samples = to_16k(pcm24k).astype(np.float64)
    frame, hop = 640, 320
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60  # lags for 400 Hz .. 60 Hz
    pitches = []
    for start in range(0, len(samples) - frame, hop):
        x = samples[start : start + frame]
        if np.sqrt(np.mean(x**2)) < 0.02:
            continue
        x = x - x.mean()
        correlation = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * frame)) ** 2)[:frame]
        lag = low + int(np.argmax(correlation[low : high + 1]))
        if correlation[lag] > 0.4 * correlation[0]:
            pitches.append(SAMPLE_RATE / lag)
    return float(np.median(pitches))


def assert_audio_parts_are_well_formed(turn: VoiceTurn) -> None:
    assert turn.audio_parts, f"no audio in the reply: {turn.events()}"
    for _, content in turn._contents():
        if content.model_turn:
            # Firebase web plays only the first audio part of each message (docs/protocol.md §3.4).
            assert len(content.model_turn.parts) == 1, content.model_turn
    for _, blob in turn.audio_parts:
        assert blob.mime_type == OUTPUT_MIME
        assert len(blob.data) % 2 == 0, len(blob.data)
        assert 0 < len(blob.data) <= MAX_CHUNK_BYTES, len(blob.data)


def assert_completed(turn: VoiceTurn, content: str = "audio") -> None:
    assert turn.events()[-3:] == [content, "generationComplete", "turnComplete"], turn.events()
    assert "interrupted" not in turn.events()
    usage = turn.last.usage_metadata
    assert usage is not None, "usageMetadata must ride on the turnComplete message"
    assert usage.prompt_token_count > 0
    assert usage.response_token_count > 0
    modality = types.MediaModality.AUDIO if content == "audio" else types.MediaModality.TEXT
    assert [d.modality for d in usage.response_tokens_details] == [modality]


# -- tests ------------------------------------------------------------------------------------


async def test_spoken_question_gets_a_spoken_answer(
    voice_server: ServerProcess, speech: SpeechMaker, recogniser: WhisperASR
) -> None:
    clip = speech.say(QUESTION)
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=voice_config(40)) as session,
        Microphone(session) as mic,
    ):
        said = mic.say(QUESTION, clip)
        turn = await receive_voice_turn(session)

    # What the user said, as the server heard it.
    assert turn.input_transcriptions[-1].finished
    assert wer(QUESTION, turn.input_text) <= 0.25, turn.input_text

    # The reply: well-formed 24 kHz chunks, then generationComplete, then turnComplete + usage.
    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)
    assert turn.last.usage_metadata.response_token_count <= 40

    # The turn lasts as long as its audio plays (turnComplete waits for the client's playback).
    first_audio = turn.first("audio")
    assert first_audio is not None and said.end is not None
    assert turn.first("turnComplete") >= first_audio + turn.audio_seconds - 0.3, turn.audio_seconds
    _, stalls = playback(turn)

    # The reply audio says what its transcript says.
    assert turn.output_text.strip()
    heard = recogniser.transcribe(to_16k(turn.audio), "en").text
    assert wer(lexical(turn.output_text), lexical(heard)) <= 0.4, (turn.output_text, heard)

    print(
        f"\n[voice] end of user speech → first reply audio: {first_audio - said.end:.3f}s "
        f"(reply {turn.audio_seconds:.1f}s of audio in {len(turn.audio_parts)} chunks; "
        f"playback stalls {[round(s, 2) for s in stalls]})"
    )


async def test_barge_in_interrupts_and_history_keeps_only_what_was_heard(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    story, stop = speech.say(STORY), speech.say(STOP)
    instruction = "Barge-in test 41c7. You tell long stories."
    # The placeholder writes ~75 tokens/s, so 300 tokens could all be written (and spoken by
    # the fast fallback voice) before the user talks; 1000 keeps the generation running. At the
    # default temperature the packaged 0.5B sometimes declines to tell a story in one sentence;
    # greedy decoding tells it.
    config = voice_config(1000, system_instruction=instruction, temperature=0)

    def after_a_second_of_story(reply: VoiceTurn) -> float | None:
        # Playback starts with the first chunk and runs in real time (the audio itself arrives
        # faster): the user hears a second of the story, then talks over it. Waiting for 4 s
        # of audio to arrive first makes sure some of it is still unheard.
        return reply.first("audio") + 1.0 if reply.audio_seconds >= 4.0 else None

    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(STORY, story)
        talk = await talk_over_reply(session, mic, (STOP, stop), after_a_second_of_story)

    events = talk.reply.events()
    assert events[-2:] == ["interrupted", "turnComplete"], events
    assert "generationComplete" not in events, events
    # Barge-in keys on the start of speech, so the reply stops while the user is still talking
    # (how fast is a benchmark figure: `./run bench voice_latency`).
    interrupted_at = talk.reply.first("interrupted")
    assert talk.said.onset < interrupted_at < talk.said.end, (talk.said.onset, interrupted_at)
    story_text, stop_text = talk.utterances
    assert wer(STORY, story_text) <= 0.25, story_text
    assert wer(STOP, stop_text) <= 0.3, stop_text
    # Nothing of the cancelled story leaks out after turnComplete: the next audio is the answer
    # to the interruption, after its final transcript.
    finished = talk.following.finished_at()
    assert finished is not None, talk.following.events()
    assert talk.following.first("audio") > finished, talk.following.events()

    heard, sent = assert_history_keeps_what_was_heard(voice_server, instruction, talk)
    print(
        f"\n[voice] barge-in onset → interrupted: {interrupted_at - talk.said.onset:.3f}s "
        f"(heard {len(heard)} of {len(sent)} words sent)"
    )


async def test_barge_in_while_the_client_still_plays_a_finished_reply(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    """After generationComplete the turn stays open until playback ends; talking over the rest
    interrupts it, and history keeps what was played."""
    story, stop = speech.say(STORY), speech.say(STOP)
    instruction = "Late barge-in test 5d1e."
    config = voice_config(60, system_instruction=instruction, temperature=0)

    def once_generated(reply: VoiceTurn) -> float | None:
        if reply.first("generationComplete") is None:
            return None
        return max(time.monotonic(), reply.first("audio") + 1.0)

    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(STORY, story)
        talk = await talk_over_reply(session, mic, (STOP, stop), once_generated)

    playback_end, _ = playback(talk.reply)
    assert playback_end > talk.said.onset + 1.5, "the reply must still play when the user talks"
    events = talk.reply.events()
    assert events[-4:] == ["audio", "generationComplete", "interrupted", "turnComplete"], events
    assert talk.reply.first("turnComplete") < playback_end
    assert wer(STOP, talk.utterances[1]) <= 0.3, talk.utterances
    assert_history_keeps_what_was_heard(voice_server, instruction, talk)


async def test_a_backchannel_over_the_reply_pauses_it_and_it_plays_on_from_where_it_stopped(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    """A "mm-hmm" over the reply: ``interrupted`` at once (the client flushes), then the reply
    resumes with the audio the client flushed, plays to its end, and the "mm-hmm" is no turn."""
    story, backchannel = speech.say(STORY), speech.say(BACKCHANNEL)
    instruction = "False-alarm test 6a0f. You tell long stories."
    config = voice_config(80, system_instruction=instruction, temperature=0)
    reply = VoiceTurn()
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(STORY, story)
        said = None
        async with asyncio.timeout(120):
            async for message in session.receive():
                reply.add(message)
                if said is None and reply.audio_seconds >= 4.0:
                    await asyncio.sleep(max(0.0, reply.first("audio") + 1.0 - time.monotonic()))
                    said = mic.say(BACKCHANNEL, backchannel)
        assert said is not None, reply.events()
        with contextlib.suppress(TimeoutError):  # nothing more: the "mm-hmm" got no answer
            async with asyncio.timeout(4):
                async for message in session.receive():
                    raise AssertionError(f"the backchannel was answered: {message}")

    events = reply.events()
    assert events[-2:] == ["generationComplete", "turnComplete"], events
    paused_at = reply.first("interrupted")
    assert paused_at is not None and said.onset < paused_at < said.end, events
    assert events.count("interrupted") == 1, events
    # After the pause the reply came back: the audio the client flushed, then the rest.
    resent = [blob for at, blob in reply.audio_parts if at > paused_at]
    assert sum(len(b.data) for b in resent) / 2 / OUTPUT_RATE > 1.0, events
    # One request for the whole exchange: the backchannel was never a turn of its own.
    requests = requests_with_instruction(voice_server, instruction)
    assert len(requests) == 1, [r["messages"] for r in requests]


@dataclass
class OverlappingTalk:
    """A NO_INTERRUPTION conversation: a question, then more speech while the reply plays."""

    talk: TalkOver
    requests: list[dict]


NO_INTERRUPTION_INSTRUCTION = "No-interruption test 93b2."


@pytest.fixture(scope="module")
async def overlapping_talk(voice_server: ServerProcess, speech: SpeechMaker) -> OverlappingTalk:
    question, stop = speech.say(STORY), speech.say(STOP)
    config = voice_config(
        30,
        temperature=0,
        system_instruction=NO_INTERRUPTION_INSTRUCTION,
        realtime_input_config=types.RealtimeInputConfig(
            activity_handling=types.ActivityHandling.NO_INTERRUPTION
        ),
    )
    log_start = voice_server.log_file.stat().st_size
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(STORY, question)
        # Speak as soon as half a second of the reply has arrived; what is said is answered
        # after the reply.
        talk = await talk_over_reply(
            session,
            mic,
            (STOP, stop),
            lambda reply: time.monotonic() if reply.audio_seconds >= 0.5 else None,
        )
    assert_no_errors_logged(voice_server, log_start)
    return OverlappingTalk(
        talk, requests_with_instruction(voice_server, NO_INTERRUPTION_INSTRUCTION)
    )


async def test_no_interruption_lets_the_reply_finish(overlapping_talk: OverlappingTalk) -> None:
    talk = overlapping_talk.talk
    spoke, first, second = talk.said, talk.reply, talk.following
    assert_completed(first)
    playback_end, _ = playback(first)
    assert playback_end > spoke.onset + 1.0, "the reply must still play while the user talks"
    assert first.first("turnComplete") >= first.first("audio") + first.audio_seconds - 0.3
    # Both utterances were transcribed, the second while the reply played; it is answered next.
    utterances = first.utterances()
    assert len(utterances) == 2, utterances
    assert wer(STORY, utterances[0]) <= 0.25, utterances
    assert wer(STOP, utterances[1]) <= 0.3, utterances
    assert "interrupted" not in second.events()
    assert second.audio_parts
    assert len(overlapping_talk.requests) == 2


async def test_no_interruption_history_puts_the_overlapping_turn_after_the_reply(
    overlapping_talk: OverlappingTalk,
) -> None:
    assert len(overlapping_talk.requests) == 2
    messages = overlapping_talk.requests[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"], messages
    assert wer(STORY, messages[1]["content"]) <= 0.25, messages
    assert wer(messages[2]["content"], overlapping_talk.talk.reply.output_text) <= 0.1, messages
    assert wer(STOP, messages[3]["content"]) <= 0.3, messages


async def test_manual_activity_brackets_a_turn(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    clip = speech.say(WEATHER)
    config = voice_config(
        20,
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        ),
    )
    client = client_for(voice_server)
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        for chunk in chunks(clip):
            await session.send_realtime_input(
                audio=types.Blob(data=chunk, mime_type="audio/pcm;rate=16000")
            )
            await asyncio.sleep(CHUNK_S)
        await session.send_realtime_input(activity_end=types.ActivityEnd())
        ended = time.monotonic()
        turn = await receive_voice_turn(session)

    assert wer(WEATHER, turn.input_text) <= 0.25, turn.input_text
    assert turn.input_transcriptions[-1].finished
    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)
    print(f"\n[voice] activityEnd → first reply audio: {turn.first('audio') - ended:.3f}s")


@pytest.mark.parametrize("rate", [8000, 48000])
async def test_input_at_other_sample_rates(
    voice_server: ServerProcess, speech: SpeechMaker, rate: int
) -> None:
    clip = speech.say(RESTAURANT)
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=voice_config(8)) as session,
        Microphone(session, rate=rate) as mic,
    ):
        mic.say(RESTAURANT, clip)
        turn = await receive_voice_turn(session)

    assert wer(RESTAURANT, turn.input_text) <= 0.3, turn.input_text
    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)


@pytest.mark.parametrize(
    ("container", "mime_type"),
    [("webm", "audio/webm;codecs=opus"), ("ogg", "audio/ogg;codecs=opus")],
)
async def test_compressed_stream_in_pieces_like_a_media_recorder(
    voice_server: ServerProcess, speech: SpeechMaker, container: str, mime_type: str
) -> None:
    """One Opus file sent as 250 ms timeslices: only the first has the container header, and
    the cuts fall anywhere in its blocks or pages."""
    clip = pad(speech.say(RESTAURANT), before=0.3, after=2.0)
    data = encode_opus(at_rate(clip, OPUS_RATE), container)
    pieces = cut_evenly(data, round(len(clip) / SAMPLE_RATE / 0.25))
    client = client_for(voice_server)
    # Greedy: a sampled 8-token reply can be all punctuation, with nothing to speak.
    config = voice_config(8, temperature=0)
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        for piece in pieces:
            await session.send_realtime_input(audio=types.Blob(data=piece, mime_type=mime_type))
            await asyncio.sleep(0.25)
        turn = await receive_voice_turn(session)

    assert wer(RESTAURANT, turn.input_text) <= 0.3, turn.input_text
    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)


async def test_pcm_without_a_rate_is_16_khz(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    """Firebase Web's worklet (and other clients) send ``audio/pcm`` with no rate."""
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=voice_config(8)) as session,
        Microphone(session) as mic,
    ):
        mic.mime_type = "audio/pcm"
        mic.say(AUSTRALIA, speech.say(AUSTRALIA))
        turn = await receive_voice_turn(session)

    assert wer(AUSTRALIA, turn.input_text) <= 0.25, turn.input_text
    assert_completed(turn)


@pytest.fixture(scope="module")
def steady_voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Without the fast-voice fallback: on a slow or busy CPU Kokoro can be slower than real
    time, and the fallback would speak both voices in the one fast voice."""
    server = start_server(
        tmp_path_factory.mktemp("steady-voice"), speech=True, env={"OPENLIVE_TTS_FALLBACK": "0"}
    )
    yield server
    server.stop()


async def test_voices_sound_different_and_unknown_voices_are_refused(
    steady_voice_server: ServerProcess,
) -> None:
    client = client_for(steady_voice_server)

    async def reply_in(voice: str) -> VoiceTurn:
        config = voice_config(15, speech_config=voiced(voice), seed=1, temperature=0)
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user_text("Say hello to the listeners."))
            return await receive_voice_turn(session)

    puck = await reply_in("Puck")
    kore = await reply_in("Kore")
    for turn in (puck, kore):
        assert_audio_parts_are_well_formed(turn)
        assert_completed(turn)
    # Same words (fixed seed, greedy), different voices.
    assert puck.output_text == kore.output_text != ""
    assert puck.audio != kore.audio
    centroids = spectral_centroid(puck.audio), spectral_centroid(kore.audio)
    pitches = median_pitch(puck.audio), median_pitch(kore.audio)
    print(f"\n[voice] Puck vs Kore: centroid {centroids} Hz, median pitch {pitches} Hz")
    # Puck is a male voice, Kore a female one: the pitch tells them apart (the spectral
    # centroids of the two Kokoro styles are only ~2 % apart).
    assert pitches[1] > 1.2 * pitches[0], (pitches, centroids)

    with pytest.raises(errors.APIError) as refused:
        async with client.aio.live.connect(
            model=MODEL, config=voice_config(15, speech_config=voiced("NotAVoice"))
        ) as session:
            await session.send_client_content(turns=user_text("Hello?"))
            await receive_voice_turn(session)
    assert refused.value.code == 1007, refused.value
    assert "NotAVoice" in str(refused.value), refused.value
    assert "voice" in str(refused.value).lower()


@pytest.mark.parametrize(
    ("mime_type", "data", "reason"),
    [
        ("audio/ogg", b"\x13\x37 this is not an ogg file " * 20, "could not be decoded"),
        ("audio/x-unknown", bytes(3200), "audio/x-unknown"),
    ],
)
async def test_bad_audio_closes_only_its_own_session(
    voice_server: ServerProcess, mime_type: str, data: bytes, reason: str
) -> None:
    client = client_for(voice_server)

    async def bad_session() -> errors.APIError:
        with pytest.raises(errors.APIError) as closed:
            async with client.aio.live.connect(model=MODEL, config=voice_config(10)) as session:
                await session.send_realtime_input(audio=types.Blob(data=data, mime_type=mime_type))
                await receive_voice_turn(session)
        return closed.value

    async with client.aio.live.connect(model=MODEL, config=voice_config(10)) as healthy:
        await healthy.send_client_content(turns=user_text("Bad audio test: are you still there?"))
        error, turn = await asyncio.gather(bad_session(), receive_voice_turn(healthy))

    assert error.code == 1007, error
    assert reason in str(error), error
    assert "audio" in str(error).lower(), error
    assert_audio_parts_are_well_formed(turn)
    assert_completed(turn)


async def test_text_modality_answers_speech_with_text(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    clip = speech.say(AUSTRALIA)
    config = voice_config(20, response_modalities=[types.Modality.TEXT])
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=config) as session,
        Microphone(session) as mic,
    ):
        mic.say(AUSTRALIA, clip)
        turn = await receive_voice_turn(session)

    assert wer(AUSTRALIA, turn.input_text) <= 0.25, turn.input_text
    assert turn.text.strip()
    assert not turn.audio_parts
    assert not turn.output_text, "no output transcription without output audio"
    assert_completed(turn, content="text")


async def test_a_recording_sent_with_send_client_content_is_recognised_and_answered(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    recording = types.Blob(data=pcm16(speech.say(AUSTRALIA)), mime_type="audio/pcm;rate=16000")
    turns = types.Content(
        role="user", parts=[types.Part(text="Recording check:"), types.Part(inline_data=recording)]
    )
    client = client_for(voice_server)
    async with client.aio.live.connect(model=MODEL, config=voice_config(20)) as session:
        await session.send_client_content(turns=turns)
        turn = await receive_voice_turn(session)

    assert_completed(turn)
    [request] = [
        r for r in voice_server.llm_requests() if "Recording check:" in r["messages"][-1]["content"]
    ]
    said = request["messages"][-1]["content"]
    assert said.startswith("Recording check: ")
    heard = said.removeprefix("Recording check: ")
    assert wer(AUSTRALIA, heard) <= 0.25, heard

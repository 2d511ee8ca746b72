"""``openlive chat`` and ``openlive talk`` run as a user runs them: subprocesses, real servers."""

from __future__ import annotations

import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ..servers import ServerProcess, free_port, start_server
from ..speech import SAMPLE_RATE, SpeechMaker, rms
from ..wer import wer

QUESTION = "What time does the museum open on Sunday mornings?"


def openlive(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openlive", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_wav(path: Path, audio16k: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(SAMPLE_RATE)
        file.writeframes((np.clip(audio16k, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("cli-voice"), tls=False, speech=True)
    yield server
    server.stop()


# -- chat -------------------------------------------------------------------------------------


def test_chat_answers_one_turn_per_piped_line(plain_server: ServerProcess) -> None:
    instruction = "CLI chat test 7f2a."
    result = openlive(
        "chat",
        "--url",
        plain_server.ws_url,
        "--system",
        instruction,
        "--max-output-tokens",
        "12",
        stdin="Hello there!\n\nWhat is your name?\n",
    )
    assert result.returncode == 0, result.stderr
    replies = result.stdout.splitlines()
    assert len(replies) == 2 and all(reply.strip() for reply in replies), result.stdout

    requests = [
        r for r in plain_server.llm_requests() if r["messages"][0]["content"] == instruction
    ]
    assert [r["messages"][-1]["content"] for r in requests] == [
        "Hello there!",
        "What is your name?",
    ]
    assert [m["role"] for m in requests[1]["messages"]] == ["system", "user", "assistant", "user"]


def test_chat_stops_at_quit(plain_server: ServerProcess) -> None:
    instruction = "CLI quit test 2b9c."
    result = openlive(
        "chat",
        "--url",
        plain_server.ws_url,
        "--system",
        instruction,
        "--max-output-tokens",
        "5",
        stdin="/quit\nThis line is never sent.\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert not [
        r for r in plain_server.llm_requests() if r["messages"][0]["content"] == instruction
    ]


def test_chat_against_a_dead_port_says_how_to_start_the_server() -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    result = openlive("chat", "--url", url, stdin="Hello?\n", timeout=60)
    assert result.returncode != 0
    assert (
        f"cannot reach openlive at {url}: connection refused — start it with `openlive serve`"
        in result.stderr
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_chat_with_a_wrong_key_says_so(server_factory) -> None:
    server = server_factory("--api-key", "good", tls=False)
    result = openlive("chat", "--url", server.ws_url, "--api-key", "bad", stdin="Hi\n")
    assert result.returncode != 0
    assert "API key not valid" in result.stderr and "--api-key" in result.stderr, result.stderr


# -- talk -------------------------------------------------------------------------------------


def test_talk_speaks_a_wav_file_and_records_the_reply(
    voice_server: ServerProcess, tmp_path: Path
) -> None:
    question = write_wav(tmp_path / "q.wav", SpeechMaker(tmp_path / "speech").say(QUESTION))
    reply = tmp_path / "r.wav"
    result = openlive(
        "talk",
        "--url",
        voice_server.ws_url,
        "--voice",
        "Charon",
        "--max-output-tokens",
        "20",
        "--input",
        str(question),
        "--output",
        str(reply),
        "--seconds",
        "90",
    )
    assert result.returncode == 0, result.stderr

    # Live transcripts: what the user said, then what the model said.
    lines = result.stdout.splitlines()
    heard = [line.removeprefix("you: ") for line in lines if line.startswith("you: ")]
    spoken = [line for line in lines if line.startswith("model: ")]
    assert heard and wer(QUESTION, " ".join(heard)) <= 0.3, result.stdout
    assert spoken and len(spoken[0]) > len("model: "), result.stdout

    # The reply audio: 24 kHz mono 16-bit and not silence.
    with wave.open(str(reply)) as file:
        assert (file.getframerate(), file.getnchannels(), file.getsampwidth()) == (24_000, 1, 2)
        samples = np.frombuffer(file.readframes(file.getnframes()), "<i2") / 32768.0
    assert len(samples) / 24_000 > 1.0
    assert rms(samples) > 0.01


def test_talk_to_a_text_only_server_explains_why_not(
    plain_server: ServerProcess, tmp_path: Path
) -> None:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(SAMPLE_RATE // 2))
    result = openlive(
        "talk", "--url", plain_server.ws_url, "--input", str(silence), "--output", "/dev/null"
    )
    assert result.returncode != 0
    assert "the server cannot talk (1008" in result.stderr, result.stderr


def test_talk_without_an_audio_device_says_what_to_do() -> None:
    # No PortAudio here, or no such device where there is: either way a clear error, no session.
    url = f"ws://127.0.0.1:{free_port()}"
    result = openlive("talk", "--url", url, "--input-device", "no-such-microphone-3e7d")
    assert result.returncode != 0
    assert "PortAudio is not installed" in result.stderr or (
        "no usable microphone 'no-such-microphone-3e7d'" in result.stderr
    ), result.stderr
    assert "--input" in result.stderr and "Traceback" not in result.stderr


def test_help_explains_both_commands() -> None:
    chat_help = openlive("chat", "--help", timeout=60)
    talk_help = openlive("talk", "--help", timeout=60)
    assert chat_help.returncode == talk_help.returncode == 0
    assert "/quit" in chat_help.stdout and "--system" in chat_help.stdout
    for option in ("--voice", "--input", "--output", "--seconds"):
        assert option in talk_help.stdout

"""The demo page served at ``/``: its files over HTTP, and a real conversation in headless Chromium.

The browser test drives Debian's Chromium (``/usr/bin/chromium``, installed by ``./run test``)
through playwright-core from npm (tests/js/web_demo.mjs), which needs no browser download. The
fake microphone plays a spoken question from a WAV file (Chromium loops it); the page must show
the question's transcript, play reply audio, report a latency and answer a typed message too.
Screenshots land in ``artifacts/web-demo/`` at the repository root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from openlive.engines.tts.voices import DEFAULT_VOICE, voice_names
from openlive.web import WEB_DIR

from ..raw_ws import TEXT_SETUP, close_of, connect, recv_json
from ..servers import REPO, ServerProcess, start_server
from ..speech import SAMPLE_RATE, SpeechMaker, pad

JS_DIR = REPO / "tests" / "js"
ARTIFACTS = REPO / "artifacts" / "web-demo"
QUESTION = "What is the capital of France?"
API_KEY = "web-demo-key"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def find_chromium() -> str | None:
    explicit = os.environ.get("OPENLIVE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit mono PCM, the format Chromium's fake audio capture reads."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


# -- the page's files, over plain HTTP --------------------------------------------------------


def test_page_and_assets_are_served(plain_server: ServerProcess) -> None:
    page = httpx.get(f"{plain_server.http_url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in page.text

    referenced = set(re.findall(r'(?:src|href)="/static/([^"]+)"', page.text))
    assert {"app.js", "style.css"} <= referenced
    expected_types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for name in sorted(referenced | {"mic-worklet.js", "audio.js", "live.js", "voices.js"}):
        asset = httpx.get(f"{plain_server.http_url}/static/{name}", timeout=10)
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(expected_types[Path(name).suffix]), name
        assert asset.content == (WEB_DIR / name).read_bytes()

    for missing in ("/static/nope.js", "/static/__init__.py", "/static/..%2Fserver%2Fapp.py"):
        assert httpx.get(f"{plain_server.http_url}{missing}", timeout=10).status_code == 404


async def test_websocket_paths_still_reach_the_live_endpoint(plain_server: ServerProcess) -> None:
    # The page's HTTP routes must not shadow WebSocket upgrades, at `/` or anywhere else.
    async with connect(plain_server) as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        assert "setupComplete" in await recv_json(ws)
    async with connect(plain_server, "/") as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        code, reason = await close_of(ws)
        assert code == 1008 and "Method not found" in reason


def test_page_offers_every_voice() -> None:
    source = (WEB_DIR / "voices.js").read_text()
    assert re.findall(r'\["(\w+)", "(?:male|female)"\]', source) == voice_names()
    assert f'DEFAULT_VOICE = "{DEFAULT_VOICE}"' in source


@pytest.mark.parametrize("input_rate", [48_000, 44_100, 24_000])
def test_capture_worklet_low_passes_and_resamples_to_16k(input_rate: int) -> None:
    # The worklet's own code, run in Node with the AudioWorklet globals stubbed.
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the page's JS checks need Node.js")
    done = subprocess.run(
        [node, "mic_worklet_check.mjs", str(WEB_DIR / "mic-worklet.js"), str(input_rate)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["chunkSamples"] == [640]  # 40 ms at 16 kHz
    expected = result["inputSamples"] * 16_000 / input_rate
    assert expected - 2 * 640 <= result["outputSamples"] <= expected
    gains = {int(hz): db for hz, db in result["gainsDb"].items()}
    for hz in (300, 1000, 3000):
        assert abs(gains[hz]) < 0.5, (hz, gains)
    assert gains[6000] > -1.5, gains
    # Above 8 kHz a tone would fold back into the speech band: the low-pass removes it.
    for hz, db in gains.items():
        if hz > 8000:
            assert db < -60, (hz, gains)


# -- a conversation in Chromium ---------------------------------------------------------------


@pytest.fixture(scope="module")
def web_voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Plain http://127.0.0.1 is a secure context, so getUserMedia works without TLS.
    server = start_server(
        tmp_path_factory.mktemp("web-voice"),
        tls=False,
        speech=True,
        # The page sets no maxOutputTokens, and the placeholder model can ramble for minutes:
        # cap replies (still ~30 s of speech, long enough to barge into).
        env={"OPENLIVE_API_KEYS": API_KEY, "OPENLIVE_LLM_MAX_TOKENS": "120"},
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def question_wav(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = pytestconfig.cache
    directory = cache.mkdir("openlive-speech") if cache else tmp_path_factory.mktemp("speech")
    clip = pad(SpeechMaker(directory).say(QUESTION), before=0.5, after=1.5)
    path = tmp_path_factory.mktemp("fake-mic") / "question.wav"
    write_wav(path, clip)
    return path


def run_browser(server: ServerProcess, chromium: str, wav: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the browser test drives Chromium from Node.js")
    if not (JS_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("tests/js/node_modules lacks playwright-core: run the tests with ./run test")
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    done = subprocess.run(
        [node, "web_demo.mjs", f"{server.http_url}/", chromium, str(wav), ARTIFACTS, API_KEY],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(done.stderr, end="")
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    for name, path in result.get("screenshots", {}).items():
        print(f"screenshot ({name}): {path}")
    assert done.returncode == 0, (
        f"{result.get('error') or done.stderr[-4000:]}\n--- server log ---\n{server.log()[-4000:]}"
    )
    return result


def test_spoken_and_typed_turns_in_chromium(
    web_voice_server: ServerProcess, question_wav: Path
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (/usr/bin/chromium; ./run test installs Debian's)")

    result = run_browser(web_voice_server, chromium, question_wav)
    print("page latencies (ms):", result["final"]["latenciesMs"])
    for line in web_voice_server.log().splitlines():
        if "turn trace" in line:
            print("server", line.split("turn trace ", 1)[1][33:])

    assert result["voices"] and sorted(result["voices"]) == sorted(voice_names())
    assert result["defaultVoice"] == DEFAULT_VOICE
    # Without the key the server refuses, and the status line says how.
    refused = result["refused"]
    assert (refused["closeCode"], refused["closeReason"]) == (
        1007,
        "API key not valid. Please pass a valid API key.",
    )
    assert refused["status"] == f"Could not connect: closed with 1007 {refused['closeReason']}"
    assert result["statusConnected"].startswith("Connected · voice Puck")

    # The spoken question, recognised by the server, shows up as the user's words, and the
    # spoken reply is played to its end.
    assert any(re.search(r"capital|france", text, re.I) for text in result["userTexts"])
    voice = result["afterVoice"]
    assert voice["audioChunksSent"] > 0
    assert voice["turns"] >= 1 and voice["interruptions"] == 0
    assert 0 < voice["audioChunksPlayed"] == voice["audioChunksReceived"]
    assert 0 < voice["lastLatencyMs"] < 30_000
    assert result["latencyText"] == f"{voice['lastLatencyMs']} ms"
    assert result["muteLabel"] == "Unmute mic"

    # The "Turn timings" panel shows the spoken turn's stages, read from the server's turn trace,
    # as bars on one axis that starts at the end of the user's speech.
    spoken = [turn for turn in result["timings"] if turn["origin"] == "speechEnd"]
    assert spoken, result["timings"]
    stages = spoken[0]["stages"]
    assert set(stages) == {
        "endpointing",
        "asr_final",
        "llm_first_token",
        "tts_first_chunk",
        "voice_to_voice",
    }
    assert stages["endpointing"]["left"] == 0 == stages["voice_to_voice"]["left"]
    for stage in stages.values():
        assert re.fullmatch(r"\d+ ms", stage["ms"]), stage
        assert 0 <= stage["left"] <= 100 and 0 <= stage["width"] <= 100, stage
        assert stage["visible"], stage
    assert stages["voice_to_voice"]["width"] >= stages["endpointing"]["width"]
    assert "ms voice-to-voice" in spoken[0]["title"]

    # A typed message is answered with speech, played to its end.
    before, typed = result["beforeText"], result["afterText"]
    assert typed["turns"] > before["turns"]
    assert typed["audioChunksReceived"] > before["audioChunksReceived"]
    assert typed["audioChunksPlayed"] == typed["audioChunksReceived"]
    assert typed["lastLatencyMs"] != before["lastLatencyMs"]
    assert "Please say hello in one short sentence." in result["userTexts"]

    # Barge-in: the server interrupts the story and the page drops the audio it had queued.
    interrupted = result["afterInterrupt"]
    assert interrupted["interruptions"] >= 1
    assert interrupted["audioChunksFlushed"] > 0
    assert any(meta.startswith("interrupted") for meta in result["modelMeta"])
    assert all(text.strip() for text in result["modelTexts"])
    assert any("ms to first audio" in meta for meta in result["modelMeta"])
    # … and the question that barged in is answered in full.
    final = result["final"]
    assert sum(bool(re.search(r"capital|france", t, re.I)) for t in result["userTexts"]) >= 2
    assert final["turns"] > interrupted["turns"]
    assert not result["modelMeta"][-1].startswith("interrupted")

    assert result["statusDisconnected"] == "Disconnected."

    # Text replies: streamed text parts, no audio, latency to the first text.
    assert result["voiceDisabledForText"] is True
    assert result["statusText"].startswith("Connected · text replies")
    text_mode = result["textMode"]
    assert text_mode["after"]["textPartsReceived"] > text_mode["before"]["textPartsReceived"]
    assert text_mode["after"]["audioChunksReceived"] == text_mode["before"]["audioChunksReceived"]
    assert text_mode["reply"].strip()
    assert "ms to first text" in text_mode["meta"]

    assert result["disconnected"]["errors"] == [refused["status"]]
    assert result["pageErrors"] == []
    assert "Traceback" not in web_voice_server.log()
    for path in result["screenshots"].values():
        assert Path(path).stat().st_size > 10_000

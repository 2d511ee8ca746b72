"""Firebase's Web Live API sample, verbatim, in real Chromium, against openlive on the Firebase
host name: the DNS-override path every native Firebase SDK relies on.

The seed page's sample (tests/js/firebase_web/sample.js) runs with the pinned @firebase/ai from
npm, bundled by esbuild: ``getLiveGenerativeModel`` → ``connect()`` → ``startAudioConversation``.
The SDK hard-codes ``wss://firebasevertexai.googleapis.com``; Chromium's host-resolver rules map
that name to the local server, started with ``--tls-host firebasevertexai.googleapis.com`` and
trusted by its key hash. The fake microphone speaks a question; the reply audio must be played
by the SDK, ``stop()`` must release the microphone and the audio context, and no other host may
be needed. Screenshots land in ``artifacts/firebase-web/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..servers import REPO, ServerProcess, start_server
from ..speech import SpeechMaker, pad
from .test_web_demo import JS_DIR, find_chromium, write_wav

FIREBASE_HOST = "firebasevertexai.googleapis.com"
FIREBASE_PATH = "/ws/google.firebase.vertexai.v1beta.GenerativeService/BidiGenerateContent"
API_KEY = "firebase-web-key"  # the sample's firebaseConfig.apiKey
QUESTION = "What is the capital of France?"
ARTIFACTS = REPO / "artifacts" / "firebase-web"


@pytest.fixture(scope="module")
def firebase_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("firebase-web"),
        "--tls-host",
        FIREBASE_HOST,
        speech=True,
        # The sample sets no maxOutputTokens: keep the placeholder model's reply short.
        env={"OPENLIVE_API_KEYS": API_KEY, "OPENLIVE_LLM_MAX_TOKENS": "40"},
    )
    yield server
    server.stop()


def spki_sha256(cert_pem: Path) -> str:
    """What --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the key's SPKI."""
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def run_sample(server: ServerProcess, chromium: str, wav: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the browser test drives Chromium from Node.js")
    if not (JS_DIR / "node_modules" / "@firebase" / "ai").is_dir():
        pytest.fail("tests/js/node_modules lacks @firebase/ai: run the tests with ./run test")
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    spki = spki_sha256(server.workdir / "certs" / "cert.pem")
    done = subprocess.run(
        [node, "firebase_web.mjs", chromium, str(wav), ARTIFACTS, str(server.port), spki],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=330,
    )
    print(done.stderr, end="")
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert done.returncode == 0, (
        f"{result.get('error') or done.stderr[-4000:]}\n--- server log ---\n{server.log()[-4000:]}"
    )
    return result


def test_the_firebase_web_sample_talks_to_openlive_in_chromium(
    firebase_server: ServerProcess, pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (/usr/bin/chromium; ./run test installs Debian's)")
    cache = pytestconfig.cache
    directory = cache.mkdir("openlive-speech") if cache else tmp_path / "speech"
    # Chromium loops the file: the long silence lets the reply play before the question repeats.
    clip = pad(SpeechMaker(directory).say(QUESTION), before=0.5, after=25.0)
    wav = tmp_path / "question.wav"
    write_wav(wav, clip)

    result = run_sample(firebase_server, chromium, wav)
    started, replied, stopped = result["started"], result["replied"], result["stopped"]
    print("firebase web:", json.dumps({k: replied[k] for k in ("sent", "sentPerSecond")}))
    print("requests that failed (offline):", result["failedRequests"])

    # The SDK dialled the Firebase host itself, with the app's key; the server took it.
    [url] = replied["wsUrls"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("wss", FIREBASE_HOST, None)
    assert parts.path == FIREBASE_PATH and f"key={API_KEY}" in parts.query
    assert "opened (firebase-googleai, model " in firebase_server.log()

    # The microphone streamed in Firebase's style: one small message per render quantum.
    assert started["contextRates"] and replied["sent"] > 100
    expected_rate = started["contextRates"][0] / 128
    assert 0.5 * expected_rate < replied["sentPerSecond"] < 1.5 * expected_rate

    # The server heard the question, and the SDK played reply audio to its end.
    heard = [r for r in firebase_server.llm_requests() if r.get("messages")]
    assert heard, "no LLM request"
    user_words = " ".join(m["content"] for r in heard for m in r["messages"] if m["role"] == "user")
    assert re.search(r"capital|france", user_words, re.I), user_words
    assert replied["audioMessages"] > 0
    assert replied["sourcesEnded"] > 0 and replied["secondsEnded"] >= 1.0

    # stop() resolves and releases the microphone and the audio context; close() ends cleanly.
    assert result["stopResolved"] is True
    assert stopped["trackStates"] and set(stopped["trackStates"]) == {"ended"}
    assert set(stopped["contextStates"]) == {"closed"}
    assert result["closed"]["closes"][0][0] == 1000

    # Nothing else was needed: every request went to the page or the Firebase host, and any
    # other Google host the SDK tried failed harmlessly (no page error).
    hosts = {urlsplit(u).hostname for u in result["requests"]}
    assert hosts <= {"127.0.0.1", FIREBASE_HOST}, hosts
    assert result["pageErrors"] == []
    assert "Traceback" not in firebase_server.log()
    assert (ARTIFACTS / "replied.png").stat().st_size > 1000

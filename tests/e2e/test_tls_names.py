"""TLS for any host name, through the pinned google-genai client (README "From any host").

Each test resolves a name to loopback the way a hosts entry or a local DNS server would (only in
this process: ``socket.getaddrinfo`` answers 127.0.0.1 for the test names), so the client dials
the real name and checks the server certificate against it. The native Firebase SDKs' path, a
browser dialling ``firebasevertexai.googleapis.com``, is tests/e2e/test_firebase_web.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from google import genai
from google.genai import types

from openlive.server.tls import ensure_certificate

from ..genai_helpers import MODEL, receive_turn, text_config, user_text
from ..servers import ServerProcess

FIREBASE_HOST = "firebasevertexai.googleapis.com"
OWN_HOST = "live.openlive.test"
VERTEX_PATH = "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"


@pytest.fixture
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hosts entry for the test names, for this process only."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in (FIREBASE_HOST, OWN_HOST):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@contextlib.contextmanager
def trusting(bundle: Path) -> Iterator[None]:
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(bundle)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


async def one_turn(client: genai.Client) -> str:
    async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
        await session.send_client_content(turns=user_text("Say hello."))
        turn = await receive_turn(session)
    assert turn.events()[-1] == "turnComplete"
    return turn.text


async def test_tls_host_names_the_certificate_for_the_firebase_host(
    server_factory, resolve_to_loopback: None
) -> None:
    server: ServerProcess = server_factory("--tls-host", FIREBASE_HOST, "--api-key", "k")
    # The start banner says which names the certificate covers (printed just after /healthz
    # turns ready, so wait for it).
    banner = f"TLS certificate for: localhost, 127.0.0.1, ::1, {FIREBASE_HOST}"
    deadline = time.monotonic() + 10
    while banner not in server.log() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert banner in server.log()
    with trusting(server.cert_bundle):
        # Gemini Developer API paths on the dialled name.
        options = types.HttpOptions(
            base_url=f"https://{FIREBASE_HOST}:{server.port}", api_version="v1beta"
        )
        assert await one_turn(genai.Client(api_key="k", http_options=options))
        # Vertex gateway mode: no project or location, the whole WebSocket URL as base_url.
        gateway = types.HttpOptions(
            base_url=f"wss://{FIREBASE_HOST}:{server.port}{VERTEX_PATH}",
            headers={"x-goog-api-key": "k"},
        )
        assert await one_turn(genai.Client(vertexai=True, http_options=gateway))


async def test_a_name_not_on_the_certificate_is_refused_by_the_client(
    server_factory, resolve_to_loopback: None
) -> None:
    """Without --tls-host the name is not covered: the client's own check fails (a test that
    the check above is real)."""
    server: ServerProcess = server_factory()
    options = types.HttpOptions(base_url=f"https://{FIREBASE_HOST}:{server.port}")
    with trusting(server.cert_bundle), pytest.raises(ssl.SSLCertVerificationError):
        await one_turn(genai.Client(api_key="k", http_options=options))


async def test_the_operators_own_certificate(
    server_factory, tmp_path: Path, resolve_to_loopback: None
) -> None:
    # An operator's certificate from a CA that is not openlive's (here: made in the test).
    own = ensure_certificate(tmp_path / "operator-ca", [OWN_HOST])
    server: ServerProcess = server_factory("--tls-cert", str(own.cert), "--tls-key", str(own.key))
    assert not (server.workdir / "certs" / "cert.pem").exists(), "no local certificate made"
    options = types.HttpOptions(base_url=f"https://{OWN_HOST}:{server.port}")
    with trusting(own.bundle):
        assert await one_turn(genai.Client(api_key="k", http_options=options))
    # Trusting only the public CAs, the operator's private CA is not trusted: the check is real.
    with trusting(Path(certifi.where())), pytest.raises(ssl.SSLCertVerificationError):
        await one_turn(genai.Client(api_key="k", http_options=options))


async def test_an_unmodified_program_via_google_gemini_base_url(tls_server: ServerProcess) -> None:
    """The README recipe: GOOGLE_GEMINI_BASE_URL and SSL_CERT_FILE, no change to the program."""
    program = (
        "import asyncio\n"
        "from google import genai\n"
        "from google.genai import types\n"
        "async def main():\n"
        "    client = genai.Client(api_key='anything')\n"
        "    config = types.LiveConnectConfig(response_modalities=['TEXT'], max_output_tokens=20)\n"
        f"    async with client.aio.live.connect(model='{MODEL}', config=config) as session:\n"
        "        await session.send_client_content(turns=types.Content(role='user',"
        " parts=[types.Part(text='Hi')]))\n"
        "        async for message in session.receive():\n"
        "            if message.server_content and message.server_content.turn_complete:\n"
        "                print('TURN COMPLETE')\n"
        "asyncio.run(main())\n"
    )
    env = {
        **os.environ,
        "GOOGLE_GEMINI_BASE_URL": tls_server.http_url,
        "SSL_CERT_FILE": str(tls_server.cert_bundle),
    }
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        program,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()
    assert b"TURN COMPLETE" in output


async def test_bad_tls_options_fail_at_start(server_factory, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="neither a DNS name nor an IP"):
        server_factory("--tls-host", "not a name")
    with pytest.raises(RuntimeError, match="go together"):
        server_factory("--tls-cert", str(tmp_path / "x.pem"))


async def test_behind_a_tls_terminating_proxy(
    server_factory, tmp_path: Path, resolve_to_loopback: None
) -> None:
    """openlive serves plain ws:// behind a proxy that holds the certificate. The proxy here is
    a TLS-terminating TCP relay in the test (as stunnel or HAProxy in TCP mode would be): the
    README's nginx recipe differs only in also speaking HTTP."""
    backend: ServerProcess = server_factory(tls=False)
    own = ensure_certificate(tmp_path / "proxy-ca", [OWN_HOST])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(own.cert, own.key)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        backend_r, backend_w = await asyncio.open_connection("127.0.0.1", backend.port)
        await asyncio.gather(relay(client_r, backend_w), relay(backend_r, client_w))

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = proxy.sockets[0].getsockname()[1]
    try:
        options = types.HttpOptions(base_url=f"https://{OWN_HOST}:{port}")
        with trusting(own.bundle):
            assert await one_turn(genai.Client(api_key="k", http_options=options))
    finally:
        proxy.close()

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import DEFAULT_MODEL, ServerProcess, start_server


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One TLS server on the default model, shared by the google-genai tests."""
    server = start_server(tmp_path_factory.mktemp("tls-server"), llm=DEFAULT_MODEL)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A plain ws:// server, for @google/genai (JS) and raw WebSocket tests."""
    server = start_server(tmp_path_factory.mktemp("plain-server"), tls=False)
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers with special settings (keys, strict mode); all stopped after the test."""
    started: list[ServerProcess] = []

    def start(
        *args: str,
        tls: bool = True,
        speech: bool = False,
        env: dict[str, str] | None = None,
        vision: bool = False,
    ) -> ServerProcess:
        server = start_server(
            tmp_path / f"server-{len(started)}",
            *args,
            tls=tls,
            speech=speech,
            env=env,
            vision=vision,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()

"""openlive's turn timings endpoint (docs/protocol.md §12): a session's recent turn traces over
HTTP, for the demo page's waterfall, readable only with the key that opened the session."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from ..raw_ws import GEMINI_PATH, TEXT_SETUP, connect, receive_until_turn_complete, recv_json
from ..servers import ServerProcess, start_server

OWNER, OTHER = "timings-key-a", "timings-key-b"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("turn-timings"),
        tls=False,
        env={"OPENLIVE_API_KEYS": f"{OWNER},{OTHER}"},
    )
    yield server
    server.stop()


def turns_of(server: ServerProcess, session_id: str, key: str | None) -> httpx.Response:
    headers = {"x-goog-api-key": key} if key else {}
    url = f"{server.http_url}/v1/live/sessions/{session_id}/turns"
    return httpx.get(url, headers=headers, timeout=10)


async def test_turn_timings_are_read_by_the_sessions_own_key_only(
    keyed_server: ServerProcess,
) -> None:
    async with connect(keyed_server, f"{GEMINI_PATH}?key={OWNER}") as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        session_id = (await recv_json(ws))["setupComplete"]["sessionId"]
        for text in ("Hello there.", "Name one colour."):
            turn = {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}
            await ws.send(json.dumps({"clientContent": turn}))
            await receive_until_turn_complete(ws)

        # Asked on turnComplete, the turn that just ended is there already.
        answer = turns_of(keyed_server, session_id, OWNER)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert body["sessionId"] == session_id
        assert [turn["turn"] for turn in body["turns"]] == [1, 2]
        for turn in body["turns"]:
            assert turn["modality"] == "TEXT" and turn["outcome"] == "playback_done"
            # A typed turn starts at its LLM request; every offset is measured from there.
            assert turn["origin"] == "replyStart"
            assert turn["offsetsMs"]["replyStart"] == 0
            assert turn["offsetsMs"]["firstToken"] == turn["stagesMs"]["llm_first_token"] >= 0
            assert "voice_to_voice" not in turn["stagesMs"]

        # Another valid key gets the same answer as a session that does not exist.
        for key, session in ((OTHER, session_id), (OWNER, "0" * 32)):
            refused = turns_of(keyed_server, session, key)
            assert refused.status_code == 404, (key, session)
            assert refused.json()["error"]["status"] == "NOT_FOUND"
            assert "turns" not in refused.text
        for key in (None, "not-a-key"):
            refused = turns_of(keyed_server, session_id, key)
            assert refused.status_code == 400
            assert refused.json()["error"]["message"].startswith("API key not valid")

    # The page may ask once more just after the session closed.
    after = turns_of(keyed_server, session_id, OWNER)
    assert after.status_code == 200 and len(after.json()["turns"]) == 2
    assert "Traceback" not in keyed_server.log()

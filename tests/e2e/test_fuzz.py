"""Seeded fuzzing of every client message kind against a real server (benchmarks/fuzzing.py):
every connection ends cleanly (1000/1007/1008, never 1011 or no close frame), the server stays up
and a bystander session still answers. Bigger runs: ``./run bench fuzz``."""

from __future__ import annotations

import json

from openlive.benchmarks.fuzzing import CLEAN_CLOSES, fuzz

from ..raw_ws import GEMINI_PATH, TEXT_SETUP, connect, receive_until_turn_complete, recv_json

SEED = 14
CONNECTIONS = 160


async def test_fuzzed_messages_close_cleanly_and_spare_the_bystander(plain_server) -> None:
    async with connect(plain_server) as bystander:
        await bystander.send(json.dumps(TEXT_SETUP))
        assert "setupComplete" in await recv_json(bystander)
        codes = await fuzz(plain_server.ws_url + GEMINI_PATH, SEED, CONNECTIONS)
        assert sum(codes.values()) == CONNECTIONS
        assert set(codes) <= CLEAN_CLOSES, codes
        assert codes.get(1007, 0) > CONNECTIONS // 4  # the mutations do reach the checks
        await bystander.send(json.dumps({"realtimeInput": {"text": "still there?"}}))
        messages = await receive_until_turn_complete(bystander)
        assert messages[-1]["serverContent"]["turnComplete"] is True

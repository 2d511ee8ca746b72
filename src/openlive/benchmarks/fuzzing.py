"""A seeded mutator over every client message kind, for tests/e2e/test_fuzz.py and bench/fuzz.py.

Each case is a short list of frames for one connection: a setup (usually valid), then messages of
every kind, some mutated: values swapped for other types, bad base64, wrong MIME types, deep
nesting, huge strings, unknown fields, binary junk, or no setup first. The server must answer
every one with a clean close (1000/1007/1008) or keep the session open; never 1011 or a dropped
connection.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from ..auth.limits import EXHAUSTED

SETUP: dict[str, Any] = {
    "setup": {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["TEXT"], "maxOutputTokens": 4},
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "f",
                        "description": "d",
                        "parameters": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}},
                    }
                ]
            }
        ],
        "realtimeInputConfig": {"automaticActivityDetection": {"disabled": False}},
        "sessionResumption": {},
        "contextWindowCompression": {"slidingWindow": {}},
        "inputAudioTranscription": {},
    }
}
PCM = base64.b64encode(bytes(640)).decode()
MESSAGES: list[dict[str, Any]] = [
    {
        "clientContent": {
            "turns": [{"role": "user", "parts": [{"text": "hi"}]}],
            "turnComplete": True,
        }
    },
    {"clientContent": {"turns": [{"role": "model", "parts": [{"text": "x"}]}]}},
    {"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000", "data": PCM}}},
    {"realtimeInput": {"mediaChunks": [{"mimeType": "audio/pcm", "data": PCM}]}},
    {"realtimeInput": {"video": {"mimeType": "image/jpeg", "data": PCM}}},
    {"realtimeInput": {"text": "hello"}},
    {"realtimeInput": {"activityStart": {}}},
    {"realtimeInput": {"activityEnd": {}}},
    {"realtimeInput": {"audioStreamEnd": True}},
    {"toolResponse": {"functionResponses": [{"id": "1", "name": "f", "response": {"r": 1}}]}},
    {"contextUpdate": {"systemInstruction": {"parts": [{"text": "new"}]}}},
]
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**70,
    1e308,
    True,
    "",
    "x" * 5000,
    "\ud800",
    [],
    {},
    [[[]]],
    "!!not base64!!",
    "AAAA=====",
    "audio/flac",
    "audio/pcm;rate=1",
    "audio/pcm;rate=99999999",
    "image/png",
    "video/mp4",
    "text/plain",
]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _set(value: Any, path: tuple, new: Any) -> None:
    for part in path[:-1]:
        value = value[part]
    value[path[-1]] = new


def _deep(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"n": value}
    return value


def mutate(message: dict[str, Any], rng: random.Random) -> str | bytes:
    """One frame from ``message``, mutated in one of several ways."""
    kind = rng.randrange(9)
    copy = json.loads(json.dumps(message))
    if kind == 0:
        return json.dumps(copy)
    if kind == 1:  # a value swapped for an odd one
        path = rng.choice(_paths(copy))
        _set(copy, path, rng.choice(ODD_VALUES))
        return json.dumps(copy)
    if kind == 2:  # an unknown field, somewhere
        containers = [p for p in _paths(copy) if isinstance(_get(copy, p), dict)]
        target = _get(copy, rng.choice(containers)) if containers else copy
        target["unknown" * rng.randint(1, 40)] = rng.choice(ODD_VALUES)
        return json.dumps(copy)
    if kind == 3:  # deep nesting
        path = rng.choice(_paths(copy))
        _set(copy, path, _deep(rng.choice([10, 70, 500])))
        return json.dumps(copy)
    if kind == 4:  # a huge string
        path = rng.choice(_paths(copy))
        _set(copy, path, "y" * rng.choice([10_000, 300_000]))
        return json.dumps(copy)
    if kind == 5:  # binary junk or truncated JSON
        text = json.dumps(copy).encode()
        return (
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
            if rng.random() < 0.5
            else text[: rng.randrange(len(text))]
        )
    if kind == 6:  # two message kinds at once, or none
        other = rng.choice(MESSAGES)
        return json.dumps({**copy, **other} if rng.random() < 0.5 else {})
    if kind == 7:  # JSON that is not an object, or a wrong type at the top
        return json.dumps(rng.choice([[copy], 1, "s", None, {next(iter(copy)): [1]}]))
    raw = json.dumps(copy)  # a character flipped
    index = rng.randrange(len(raw))
    return raw[:index] + chr(rng.randrange(32, 127)) + raw[index + 1 :]


def _get(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def case(rng: random.Random) -> list[str | bytes]:
    """The frames one fuzzed connection sends."""
    frames: list[str | bytes] = []
    if rng.random() < 0.2:
        frames.append(mutate(SETUP, rng))
    elif rng.random() < 0.05:
        frames.append(json.dumps(rng.choice(MESSAGES)))  # a message before setup
    else:
        frames.append(json.dumps(SETUP))
    for _ in range(rng.randint(1, 4)):
        frames.append(mutate(rng.choice(MESSAGES), rng))
    return frames


OVERLOAD = "1011 overload"
"""A setup refused because the LLM is behind (1011 "Resource has been exhausted", Google's own
answer to overload): no mistake of the server's, and counted apart from other 1011s."""

CLEAN_CLOSES: set[int | str] = {1000, 1007, 1008, OVERLOAD}


async def fuzz_connection(
    url: str, frames: list[str | bytes], *, ssl: Any = None, settle_s: float = 1.0
) -> int | str:
    """Send ``frames`` on one connection to ``url``; the close code the server chose (1000
    when the session was still open after ``settle_s`` and we closed it; 1006: no close
    frame; ``OVERLOAD`` for a refusal while the LLM is behind)."""
    import asyncio

    import websockets

    try:
        async with websockets.connect(url, ssl=ssl, max_size=2**24, open_timeout=30) as ws:
            try:
                for frame in frames:
                    await ws.send(frame)
                async with asyncio.timeout(settle_s):
                    while True:
                        await ws.recv()
            except TimeoutError:
                return 1000
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            return 1006
        if closed.rcvd.code == 1011 and closed.rcvd.reason == EXHAUSTED:
            return OVERLOAD
        return closed.rcvd.code
    return 1000


async def fuzz(
    url: str, seed: int, connections: int, *, ssl: Any = None, concurrency: int = 8
) -> dict[int | str, int]:
    """Run ``connections`` fuzzed cases from ``seed`` against ``url``; close codes counted."""
    import asyncio
    from collections import Counter

    rng = random.Random(seed)
    cases = [case(rng) for _ in range(connections)]
    codes: Counter[int | str] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(frames: list[str | bytes]) -> None:
        async with gate:
            codes[await fuzz_connection(url, frames, ssl=ssl)] += 1

    await asyncio.gather(*(one(frames) for frames in cases))
    return dict(codes)

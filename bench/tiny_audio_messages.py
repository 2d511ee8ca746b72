"""What Firebase Web's microphone stream costs the server, against 20 ms chunks.

Firebase Web's ``startAudioConversation`` posts one ``realtimeInput.audio`` message per audio
render quantum: 128 samples at the AudioContext's rate (48 kHz: 375 messages a second), resampled
in the browser to 43 samples of 16 kHz PCM, sent as ``audio/pcm`` with no rate. The usual client
sends 20 ms (320 samples, 50 messages a second). Both carry the same audio.

A real ``openlive serve`` (voice pipeline on, plain ws://) gets ``--sessions`` concurrent
sessions streaming ``--seconds`` of audio in real time, one mode after the other: Firebase Web's
stream on a server with ``OPENLIVE_AUDIO_COALESCE_MS=0`` (every blob decoded and endpointed as
it comes: the server before coalescing), then on the default server (tiny blobs joined into 20 ms
chunks before decoding, audio/coalesce.py), then 20 ms chunks on the default server. The audio is
faint noise (-60 dBFS): every frame goes through the VAD but no turn starts, so what is measured
is the cost of taking the stream in (parse, validate, decode, VAD), not of answering. Reported:
the server process's CPU seconds (``/proc/<pid>/stat`` utime + stime, all threads, idle baseline
subtracted) per session per minute of audio, and each row's ratio to 20 ms chunks, from one run.

On a busy machine those numbers move by ±15 %, more than coalescing saves. So the same three
streams also go through the session's own path in this process, without the transport: decode
the message (``decode_client_message``), then ``Listener.feed`` with the real Silero VAD
(``time.process_time``, all threads), which is where coalescing acts.

    ./run bench tiny_audio_messages
    ./run bench tiny_audio_messages --sessions 4 --seconds 30 --json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.servers and tests.raw_ws

from tests.raw_ws import connect, recv_json  # noqa: E402
from tests.servers import start_server  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RATE = 16_000
TICK_S = 0.01  # the client sends what is due every 10 ms


@dataclass(frozen=True)
class Mode:
    name: str
    samples: int  # 16 kHz samples per message
    per_second: float  # messages a second
    mime_type: str


MODES = (
    Mode("Firebase Web (render quantum)", 43, 48_000 / 128, "audio/pcm"),
    Mode("20 ms chunks", 320, 50.0, "audio/pcm;rate=16000"),
)

SETUP = {
    "setup": {
        "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
        "generationConfig": {"responseModalities": ["AUDIO"]},
    }
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def messages(mode: Mode, seconds: float, seed: int) -> list[str]:
    """The whole stream as JSON frames, made before the clock starts (client CPU stays out)."""
    rng = np.random.default_rng(seed)
    count = int(seconds * mode.per_second)
    noise = rng.normal(0, 10 ** (-60 / 20), count * mode.samples)
    pcm = (np.clip(noise, -1, 1) * 32767).astype("<i2").tobytes()
    size = mode.samples * 2
    return [
        json.dumps(
            {
                "realtimeInput": {
                    "audio": {
                        "mimeType": mode.mime_type,
                        "data": base64.b64encode(pcm[i * size : (i + 1) * size]).decode(),
                    }
                }
            }
        )
        for i in range(count)
    ]


async def stream(server: Any, frames: list[str], per_second: float) -> None:
    async with connect(server) as ws:
        await ws.send(json.dumps(SETUP))
        assert "setupComplete" in await recv_json(ws)
        start = time.monotonic()
        sent = 0
        while sent < len(frames):
            due = min(len(frames), int((time.monotonic() - start) * per_second) + 1)
            while sent < due:
                await ws.send(frames[sent])
                sent += 1
            await asyncio.sleep(TICK_S)
        await asyncio.sleep(0.5)  # let the server take in the last messages


async def measure(
    server: Any, label: str, mode: Mode, sessions: int, seconds: float
) -> dict[str, Any]:
    streams = [messages(mode, seconds, seed) for seed in range(sessions)]
    pid = server.process.pid
    idle_before = cpu_seconds(pid)
    await asyncio.sleep(2.0)
    idle_per_s = (cpu_seconds(pid) - idle_before) / 2.0
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*(stream(server, frames, mode.per_second) for frames in streams))
    elapsed = time.monotonic() - started
    busy = cpu_seconds(pid) - before - idle_per_s * elapsed
    per_session_minute = busy / sessions / (seconds / 60)
    return {
        "mode": label,
        "messages_per_s": round(mode.per_second, 1),
        "bytes_per_message": mode.samples * 2,
        "sessions": sessions,
        "audio_s": seconds,
        "server_cpu_s": round(busy, 3),
        "cpu_s_per_session_minute": round(per_session_minute, 3),
        "cpu_share_of_one_core": round(per_session_minute / 60, 4),
    }


# (label, mode, server environment): the same server code, coalescing off then on.
RUNS = (
    ("Firebase Web, each blob as it comes", MODES[0], {"OPENLIVE_AUDIO_COALESCE_MS": "0"}),
    ("Firebase Web, coalesced to 20 ms", MODES[0], {}),
    ("20 ms chunks", MODES[1], {}),
)


def listener_cpu(mode: Mode, coalesce_ms: int, seconds: float) -> float:
    """CPU seconds per minute of audio for decode + Listener.feed in this process."""
    from concurrent.futures import ThreadPoolExecutor

    from openlive.engines.vad.silero import SileroVAD
    from openlive.protocol.client_messages import Setup
    from openlive.protocol.codec import decode_client_message
    from openlive.session.config import resolve_config
    from openlive.session.listener import Listener
    from openlive.session.services import SpeechServices

    async def nothing(*_: object) -> None:
        return None

    async def run() -> float:
        executor = ThreadPoolExecutor(1)
        speech = SpeechServices(
            vad=SileroVAD(),
            turn=None,
            asr=None,
            tts=None,
            fast_tts=None,  # type: ignore[arg-type]
            asr_executor=executor,
            tts_executor=executor,
            coalesce_ms=coalesce_ms,
        )
        setup = Setup.model_validate(SETUP["setup"])
        listener = Listener(
            speech,
            resolve_config(setup, speech_available=True),
            on_speech_started=nothing,
            on_transcript=lambda *_: None,
            on_user_turn=nothing,
            model_is_audible=lambda: False,
            recent_speech=lambda: "",
        )
        frames = messages(mode, seconds, seed=0)
        started = time.process_time()
        for frame in frames:
            audio = decode_client_message(frame).message.audio  # type: ignore[union-attr]
            await listener.feed(audio.data, audio.mime_type)
        used = time.process_time() - started
        await listener.aclose()
        executor.shutdown()
        return used / (seconds / 60)

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    console = Console(stderr=True)
    rows = []
    servers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for label, mode, env in RUNS:
                key = json.dumps(env, sort_keys=True)
                if key not in servers:
                    for server in servers.values():
                        server.stop()  # one voice server at a time: they share the CPU
                    console.print(f"starting openlive serve (voice pipeline) {env or ''}…")
                    servers = {
                        key: start_server(
                            Path(tmp) / str(len(rows)), tls=False, speech=True, env=env
                        )
                    }
                console.print(f"{label}: {args.sessions} sessions × {args.seconds:.0f} s…")
                rows.append(
                    asyncio.run(measure(servers[key], label, mode, args.sessions, args.seconds))
                )
        finally:
            for server in servers.values():
                server.stop()
    console.print("the same streams through decode + Listener.feed in this process…")
    for row, (_, mode, env) in zip(rows, RUNS, strict=True):
        coalesce = int(env.get("OPENLIVE_AUDIO_COALESCE_MS", "20"))
        row["session_path_cpu_s_per_minute"] = round(listener_cpu(mode, coalesce, args.seconds), 3)
    baseline = max(rows[-1]["cpu_s_per_session_minute"], 1e-9)
    path_baseline = max(rows[-1]["session_path_cpu_s_per_minute"], 1e-9)
    for row in rows:
        row["ratio_to_20ms"] = round(row["cpu_s_per_session_minute"] / baseline, 2)
        row["session_path_ratio_to_20ms"] = round(
            row["session_path_cpu_s_per_minute"] / path_baseline, 2
        )
    if args.json:
        print(json.dumps({"rows": rows}))
        return 0
    table = Table(title="CPU to take in a microphone stream (server: idle subtracted)")
    columns = (
        "stream",
        "msg/s",
        "server CPU s / session-minute",
        "× 20 ms",
        "session path CPU s / minute",
        "× 20 ms",
    )
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["mode"],
            str(row["messages_per_s"]),
            f"{row['cpu_s_per_session_minute']:.2f} ({row['cpu_share_of_one_core']:.1%} core)",
            f"{row['ratio_to_20ms']:.2f}",
            f"{row['session_path_cpu_s_per_minute']:.2f}",
            f"{row['session_path_ratio_to_20ms']:.2f}",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

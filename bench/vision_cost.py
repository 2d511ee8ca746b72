"""What camera frames cost: per-frame analysis, a silent 1 FPS stream, and the latency a frame
adds to a turn.

Three measurements, in one run so that they can be compared:

* **analysis**: the embedded stack (OCR + objects + faces) in this process on a sign, a receipt,
  a photo of a man at a table and a face, ``--runs`` times each at 768 px (``mediaResolution``
  HIGH, the default) and 384 px (LOW); plus the per-frame check every frame gets (validation and
  the scene thumbnail). p50 / p95 in milliseconds, one thread.
* **stream CPU**: a real ``openlive serve`` (vision on, speech off). Its process CPU seconds
  (``/proc/<pid>/stat`` utime + stime, every thread) over ``--seconds`` idle, then over the same
  time while one session streams a still scene at 1 FPS with sensor noise (every frame differs a
  little, as from a real camera) and no audio.
* **turn latency**: send → first reply text for a typed question, ``--turns`` times each:
  without video; with a new scene sent just before the question (the worst case: it is analysed
  while the turn waits); and with the scene held still for two frames first (analysed in the
  background, so the turn only formats the note).

    ./run bench vision_cost
    ./run bench vision_cost --seconds 10 --turns 3 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.frames (test pictures) and tests.servers

from google.genai import types  # noqa: E402
from tests import frames  # noqa: E402
from tests.genai_helpers import MODEL, client_for, text_config  # noqa: E402
from tests.servers import ServerProcess, start_server  # noqa: E402

from openlive.engines.vision import ImageLimits, decode, probe  # noqa: E402
from openlive.engines.vision.embedded import EmbeddedVision  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def pictures() -> dict[str, Image.Image]:
    return {
        "sign": frames.sign(),
        "receipt": frames.receipt(),
        "photo": frames.dinner(),
        "face": frames.smiling_face(),
    }


def measure_analysis(runs: int) -> list[dict[str, Any]]:
    engine = EmbeddedVision(frames.vision_assets())
    engine.load()
    limits = ImageLimits()
    rows = []
    for name, image in pictures().items():
        data = frames.jpeg(image)
        checks = []
        for _ in range(runs):
            started = time.perf_counter()
            probe(data, limits)
            checks.append((time.perf_counter() - started) * 1000)
        for side in (768, 384):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                engine.describe(decode(data, limits, side))
                times.append((time.perf_counter() - started) * 1000)
            rows.append(
                {
                    "frame": name,
                    "side": side,
                    "analysis_p50_ms": round(percentile(times, 50), 1),
                    "analysis_p95_ms": round(percentile(times, 95), 1),
                    "check_p50_ms": round(percentile(checks, 50), 2),
                    "check_p95_ms": round(percentile(checks, 95), 2),
                }
            )
    return rows


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def noisy_frames(count: int) -> list[bytes]:
    """A still scene as a camera sends it: the same picture, new sensor noise every frame."""
    rng = np.random.default_rng(1)
    base = np.asarray(frames.receipt(), dtype=np.int16)
    return [
        frames.jpeg(
            Image.fromarray((base + rng.integers(-6, 7, base.shape)).clip(0, 255).astype("uint8"))
        )
        for _ in range(count)
    ]


async def measure_stream(server: ServerProcess, seconds: float) -> dict[str, Any]:
    pid = server.process.pid
    await asyncio.sleep(2.0)  # let start-up work settle
    start = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    idle = cpu_seconds(pid) - start

    count = int(seconds)
    stream = noisy_frames(count)
    async with client_for(server).aio.live.connect(model=MODEL, config=text_config()) as session:
        start = cpu_seconds(pid)
        began = time.monotonic()
        for i, data in enumerate(stream):
            await asyncio.sleep(max(0.0, began + i - time.monotonic()))
            await session.send_realtime_input(video=types.Blob(data=data, mime_type="image/jpeg"))
        await asyncio.sleep(max(0.0, began + seconds - time.monotonic()))
        streaming = cpu_seconds(pid) - start
    return {
        "seconds": seconds,
        "frames": count,
        "idle_cpu_s": round(idle, 3),
        "stream_cpu_s": round(streaming, 3),
        "added_cpu_s": round(streaming - idle, 3),
        "added_cpu_ms_per_frame": round((streaming - idle) / max(1, count) * 1000, 1),
        "core_share_percent": round((streaming - idle) / seconds * 100, 2),
        "server_rss_mb": round(rss_mb(pid)),
    }


async def first_text_s(session: Any, question: str) -> float:
    started = time.perf_counter()
    await session.send_realtime_input(text=question)
    first = None
    async for message in session.receive():
        content = message.server_content
        if first is None and content and content.model_turn:
            first = time.perf_counter() - started
    return first if first is not None else float("nan")


async def measure_turns(server: ServerProcess, turns: int) -> list[dict[str, Any]]:
    images = list(pictures().values())
    config = text_config(max_output_tokens=8)
    results: dict[str, list[float]] = {"no video": [], "new scene": [], "settled scene": []}
    for i in range(turns):
        for case in results:
            async with client_for(server).aio.live.connect(model=MODEL, config=config) as session:
                image = frames.jpeg(images[(i + len(results[case])) % len(images)])
                blob = types.Blob(data=image, mime_type="image/jpeg")
                if case == "new scene":
                    await session.send_realtime_input(video=blob)
                elif case == "settled scene":
                    await session.send_realtime_input(video=blob)
                    await session.send_realtime_input(video=blob)
                    await asyncio.sleep(1.5)  # the background analysis has time to finish
                results[case].append(await first_text_s(session, f"Latency turn {case} {i}?"))
    baseline = statistics.median(results["no video"])
    return [
        {
            "case": case,
            "ttft_p50_ms": round(statistics.median(times) * 1000),
            "ttft_max_ms": round(max(times) * 1000),
            "added_p50_ms": round((statistics.median(times) - baseline) * 1000),
        }
        for case, times in results.items()
    ]


def table(title: str, rows: list[dict[str, Any]]) -> Table:
    view = Table(title=title)
    for key in rows[0]:
        view.add_column(key, justify="right")
    for row in rows:
        view.add_row(*(str(value) for value in row.values()))
    return view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="analyses per picture and size")
    parser.add_argument("--seconds", type=float, default=30.0, help="idle and stream windows")
    parser.add_argument("--turns", type=int, default=5, help="turns per latency case")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    console = Console(stderr=True)
    console.print("per-frame analysis (this process, one thread)…")
    analysis = measure_analysis(args.runs)
    with tempfile.TemporaryDirectory(prefix="vision-bench-") as tmp:
        console.print("starting openlive serve (vision on, speech off)…")
        server = start_server(Path(tmp), vision=True)
        try:
            console.print(f"idle, then a 1 FPS stream: {args.seconds:.0f} s each…")
            stream = asyncio.run(measure_stream(server, args.seconds))
            console.print("turn latency with and without video…")
            turns = asyncio.run(measure_turns(server, args.turns))
        finally:
            server.stop()

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "analysis": analysis,
        "stream": stream,
        "turns": turns,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    out = Console()
    out.print(table("per-frame analysis (ms)", analysis))
    out.print(table("silent 1 FPS stream vs idle (server process CPU)", [stream]))
    out.print(table("send → first reply text, typed question", turns))


if __name__ == "__main__":
    main()

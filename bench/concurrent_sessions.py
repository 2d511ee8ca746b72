"""Many text sessions at once: does the embedded LLM share itself between them, and what does an
idle session cost?

Starts ``openlive serve --tls`` (text only unless ``--server-args`` say otherwise), then:

* **concurrent**: ``--sessions`` sessions open at once (or one every ``--arrive-every`` seconds,
  as users arrive), each sending ``--turns`` short text turns back to back; send → first text
  token per turn, p50/p95 over the sessions the server admitted. With fewer LLM slots
  (``--llm-parallel``) than sessions, the extra ones queue behind whole replies; a server that
  refuses sessions while its LLM is behind (docs/limits.md) counts them as refused.
* **idle**: ``--idle`` sessions opened and left idle; the server's RSS (``/proc/<pid>/status``)
  before and after, per session.

    ./run bench concurrent_sessions
    ./run bench concurrent_sessions --sessions 10 --llm-parallel 4
    ./run bench concurrent_sessions --sessions 10 --arrive-every 1 --turns 6
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import time
from pathlib import Path

import websockets
from rich.console import Console

from openlive.benchmarks.server import get_health, own_server

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def setup(max_tokens: int) -> dict:
    config = {"responseModalities": ["TEXT"], "maxOutputTokens": max_tokens}
    return {"setup": {"model": "models/x", "generationConfig": config}}


async def session_turns(
    url: str, context: ssl.SSLContext, turns: int, max_tokens: int
) -> list[float]:
    samples: list[float] = []
    try:
        await _turns(url, context, turns, max_tokens, samples)
    except websockets.ConnectionClosed as closed:  # e.g. 1011 from the turn watchdog
        reason = closed.rcvd.reason if closed.rcvd else "no close frame"
        if samples or "exhausted" not in reason:
            samples.extend([float("inf")] * (turns - len(samples)))
            CLOSES.append(f"{closed.rcvd.code if closed.rcvd else 1006} {reason}")
        else:
            REFUSED.append(reason)
    return samples


CLOSES: list[str] = []
REFUSED: list[str] = []


async def _turns(
    url: str, context: ssl.SSLContext, turns: int, max_tokens: int, samples: list[float]
) -> None:
    async with websockets.connect(url, ssl=context) as ws:
        await ws.send(json.dumps(setup(max_tokens)))
        await ws.recv()
        for n in range(turns):
            started, first = time.perf_counter(), None
            await ws.send(json.dumps({"realtimeInput": {"text": f"Count to {n + 3}."}}))
            while True:
                content = json.loads(await ws.recv()).get("serverContent", {})
                if first is None and content.get("modelTurn"):
                    first = time.perf_counter() - started
                if content.get("turnComplete"):
                    break
            samples.append(first if first is not None else float("inf"))


async def ready(base_url: str, bundle: Path, within_s: float = 60) -> None:
    """Wait for /healthz to say ok (it says saturated while the LLM is behind)."""
    deadline = time.monotonic() + within_s
    while (await asyncio.to_thread(get_health, base_url, bundle))[0] != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not recover")
        await asyncio.sleep(0.5)


def server_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in argv and str(port).encode() in argv:
                return int(entry.name)
    return None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentiles(samples: list[float]) -> str:
    done = sorted(samples)
    failed = sum(1 for s in done if s == float("inf"))
    if failed == len(done):
        return f"all {failed} turns failed"
    p95 = done[min(len(done) - 1, int(0.95 * len(done)))]
    p50 = statistics.median(done)
    return f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms ({len(done)} turns, {failed} failed)"


async def main(args: argparse.Namespace, console: Console) -> None:
    os.environ["OPENLIVE_LLM_PARALLEL"] = str(args.llm_parallel)  # the server inherits it
    with own_server(["--no-speech", *args.server_args], 300, console) as (
        base_url,
        bundle,
        _,
        _log,
    ):
        context = ssl.create_default_context(cafile=str(bundle))
        url = base_url.replace("https://", "wss://") + PATH
        pid = server_pid(int(base_url.rsplit(":", 1)[1]))
        console.print(f"load before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        await session_turns(url, context, 1, args.max_tokens)  # warm-up

        async def arrive(n: int) -> list[float]:
            await asyncio.sleep(n * args.arrive_every)
            return await session_turns(url, context, args.turns, args.max_tokens)

        runs = await asyncio.gather(*(arrive(n) for n in range(args.sessions)))
        admitted = [run for run in runs if run]
        console.print(
            f"{args.sessions} sessions (one every {args.arrive_every:g} s), {args.llm_parallel} "
            f"LLM slots: {len(admitted)} admitted, {len(REFUSED)} refused; first token of the "
            f"admitted: {percentiles([s for run in admitted for s in run])}"
        )
        if CLOSES:
            console.print(f"sessions closed by the server: {CLOSES}")
        if pid is not None and args.idle:
            await ready(base_url, bundle)  # a server that refuses for load recovers first
            before = rss_kib(pid)
            idle = [await websockets.connect(url, ssl=context) for _ in range(args.idle)]
            for ws in idle:
                await ws.send(json.dumps(setup(8)))
                await ws.recv()
            await asyncio.sleep(1)
            after = rss_kib(pid)
            console.print(f"RSS per idle session: {(after - before) / args.idle:.0f} KiB")
            for ws in idle:
                await ws.close()
        console.print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--llm-parallel", type=int, default=4)
    parser.add_argument("--arrive-every", type=float, default=0.0)
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    asyncio.run(main(parser.parse_args(), Console()))

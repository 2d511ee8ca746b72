"""A bystander's latency while a fuzzer attacks the server, and how every fuzzed connection ended.

Starts ``openlive serve --tls`` (voice pipeline on, so fuzzed audio is decoded too), opens one
bystander text session and measures send → first text token over ``--turns`` ordinary turns,
first with the server quiet, then while ``--connections`` fuzzed connections (seeded mutator over
every message kind, benchmarks/fuzzing.py; ``--concurrency`` at once) run. Prints the close codes
(only 1000/1007/1008 are clean) and the bystander's p50/p95 in both phases, each beside the
server's event-loop lag over that phase (p99 and max, from its /metrics: server/loop_lag.py).

    ./run bench fuzz
    ./run bench fuzz --connections 3800 --turns 30 --server-args --no-speech
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import time

import websockets
from rich.console import Console

from openlive.benchmarks.fuzzing import CLEAN_CLOSES, fuzz
from openlive.benchmarks.loop_lag import fetch_lag, lag_summary
from openlive.benchmarks.server import own_server

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
SETUP = {
    "setup": {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["TEXT"], "maxOutputTokens": 16},
    }
}


async def first_token_s(ws: websockets.ClientConnection, text: str, timeout: float) -> float:
    """Send one turn; seconds to its first text (inf on timeout); read to turnComplete."""
    started = time.perf_counter()
    first = float("inf")
    await ws.send(json.dumps({"realtimeInput": {"text": text}}))
    try:
        async with asyncio.timeout(timeout):
            while True:
                content = json.loads(await ws.recv()).get("serverContent", {})
                if first == float("inf") and content.get("modelTurn"):
                    first = time.perf_counter() - started
                if content.get("turnComplete"):
                    return first
    except TimeoutError:
        return float("inf")


async def bystander(
    url: str,
    context: ssl.SSLContext,
    timeout: float,
    turns: int = 0,
    until: asyncio.Task | None = None,
) -> list[float]:
    """One session's first-token times: ``turns`` turns, or turns until ``until`` is done."""
    samples: list[float] = []
    async with websockets.connect(url, ssl=context) as ws:
        await ws.send(json.dumps(SETUP))
        await ws.recv()
        while len(samples) < turns or (until is not None and not until.done()):
            samples.append(await first_token_s(ws, f"Say a word ({len(samples)}).", timeout))
    return samples


def summary(samples: list[float]) -> str:
    done = sorted(s for s in samples if s != float("inf"))
    timeouts = len(samples) - len(done)
    if not done:
        return f"all {timeouts} turns timed out"
    p95 = done[min(len(done) - 1, int(0.95 * len(done)))]
    return (
        f"p50 {statistics.median(done) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, {timeouts} timeouts"
    )


async def main(args: argparse.Namespace, console: Console) -> None:
    with own_server(args.server_args, 300, console) as (base_url, bundle, _, log_path):
        context = ssl.create_default_context(cafile=str(bundle))
        url = base_url.replace("https://", "wss://") + PATH
        console.print(f"machine load before: {os.getloadavg()[0]:.2f}")
        lag_before = await asyncio.to_thread(fetch_lag, base_url, context)
        quiet = await bystander(url, context, args.turn_timeout, turns=args.turns)
        lag_quiet = await asyncio.to_thread(fetch_lag, base_url, context)
        started = time.perf_counter()
        attack = asyncio.create_task(
            fuzz(url, args.seed, args.connections, ssl=context, concurrency=args.concurrency)
        )
        loud = await bystander(url, context, args.turn_timeout, until=attack)
        codes = await attack
        elapsed = time.perf_counter() - started
        lag_loud = await asyncio.to_thread(fetch_lag, base_url, context)
        console.print(f"fuzzed connections: {args.connections} in {elapsed:.0f} s, codes {codes}")
        unclean = {code: n for code, n in codes.items() if code not in CLEAN_CLOSES}
        console.print(f"unclean closes: {unclean or 'none'}")
        console.print(f"bystander, quiet: {summary(quiet)}")
        console.print(f"  event-loop lag, quiet: {lag_summary(lag_before, lag_quiet)}")
        console.print(f"bystander, during the fuzz ({len(loud)} turns): {summary(loud)}")
        console.print(f"  event-loop lag, during the fuzz: {lag_summary(lag_quiet, lag_loud)}")
        console.print(f"machine load after: {os.getloadavg()[0]:.2f}")
        log = log_path.read_text(errors="replace")
        console.print(f"tracebacks in the server log: {log.count('Traceback')}")
        if "Traceback" in log:
            at = log.index("Traceback")
            console.print(log[max(0, at - 300) : at + 1500], markup=False, highlight=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--turn-timeout", type=float, default=60.0)
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    asyncio.run(main(parser.parse_args(), Console()))

"""The server's event-loop lag as its ``/metrics`` tell it (server/loop_lag.py), for a bench:
the histogram before and after a phase gives the phase's p99 (to a bucket's bound), and the
10-second recent maximum, polled through the phase, its exact worst tick."""

from __future__ import annotations

import asyncio
import math
import ssl
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

LAG = "openlive_event_loop_lag_seconds"
RECENT_MAX = "openlive_event_loop_lag_recent_max_seconds"
POLL_S = 2.0  # well inside the recent maximum's 10 s: no tick goes unseen


@dataclass(frozen=True)
class LagReading:
    buckets: dict[float, float]  # upper bound (s) → ticks at most that late, cumulative
    recent_max: float


def read_lag(metrics_text: str) -> LagReading:
    buckets: dict[float, float] = {}
    recent_max = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == f"{LAG}_bucket":
                buckets[float(sample.labels["le"])] = sample.value
            elif sample.name == RECENT_MAX:
                recent_max = sample.value
    return LagReading(buckets, recent_max)


def fetch_lag(base_url: str, context: ssl.SSLContext | None) -> LagReading:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10, context=context) as answer:
        return read_lag(answer.read().decode())


async def worst_lag_while(
    base_url: str, context: ssl.SSLContext | None, running: asyncio.Future[object]
) -> float:
    """The largest lag the server saw while ``running`` runs (polled, so to the tick; the
    first poll also sees up to 10 s from before)."""
    worst = 0.0
    while True:
        reading = await asyncio.to_thread(fetch_lag, base_url, context)
        worst = max(worst, reading.recent_max)
        if running.done():
            return worst
        await asyncio.wait({running}, timeout=POLL_S)


def lag_summary(before: LagReading, after: LagReading, worst_s: float) -> str:
    """``p99 ≤ 5 ms, max 12 ms (300 ticks)`` for the ticks between two readings."""
    counts = {le: after.buckets[le] - before.buckets.get(le, 0.0) for le in sorted(after.buckets)}
    ticks = counts.get(math.inf, 0.0)
    if not ticks:
        return "no ticks"
    p99 = next(le for le, count in counts.items() if count >= 0.99 * ticks)
    bound = "over 10 s" if p99 == math.inf else f"≤ {p99 * 1000:g} ms"
    return f"p99 {bound}, max {worst_s * 1000:.0f} ms ({ticks:.0f} ticks)"

"""The server's event-loop lag as its ``/metrics`` tell it (server/loop_lag.py), for a bench:
the lag histogram read before and after a phase gives that phase's p99 and maximum, each to a
bucket's bounds. (The 10-second recent maximum is for alerts: read at a phase's start it still
holds the seconds before it, server start-up included.)"""

from __future__ import annotations

import ssl
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

LAG = "openlive_event_loop_lag_seconds"


@dataclass(frozen=True)
class LagReading:
    buckets: dict[float, float]  # upper bound (s) → ticks at most that late, cumulative


def read_lag(metrics_text: str) -> LagReading:
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == f"{LAG}_bucket":
                buckets[float(sample.labels["le"])] = sample.value
    return LagReading(buckets)


def fetch_lag(base_url: str, context: ssl.SSLContext | None) -> LagReading:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10, context=context) as answer:
        return read_lag(answer.read().decode())


STALL_S = 0.05  # a tick later than this is a stall every session felt (docs/limits.md)


def lag_summary(before: LagReading, after: LagReading) -> str:
    """``p99 ≤ 5 ms, max 10-20 ms, 0 over 50 ms (300 ticks)`` for the ticks between two
    readings."""
    bounds = sorted(after.buckets)  # the last is +Inf
    counts = [after.buckets[le] - before.buckets.get(le, 0.0) for le in bounds]
    ticks = counts[-1] if counts else 0.0
    if not ticks:
        return "no ticks"
    ms = [le * 1000 for le in bounds]
    p99 = next(i for i, count in enumerate(counts) if count >= 0.99 * ticks)
    top = next(i for i, count in enumerate(counts) if count >= ticks)  # the slowest tick's
    p99_text = f"over {ms[-2]:g} ms" if p99 == len(ms) - 1 else f"≤ {ms[p99]:g} ms"
    if top == len(ms) - 1:
        worst = f"over {ms[-2]:g} ms"
    else:
        worst = f"{ms[top - 1] if top else 0:g}-{ms[top]:g} ms"
    stalls = ""
    if STALL_S in after.buckets:
        late = ticks - (after.buckets[STALL_S] - before.buckets.get(STALL_S, 0.0))
        stalls = f", {late:.0f} over {STALL_S * 1000:g} ms"
    return f"p99 {p99_text}, max {worst}{stalls} ({ticks:.0f} ticks)"

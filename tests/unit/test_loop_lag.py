"""The event-loop lag monitor (server/loop_lag.py) and how a bench reads it from /metrics."""

from __future__ import annotations

import asyncio
import time

from openlive.benchmarks.loop_lag import lag_summary, read_lag
from openlive.server.loop_lag import LoopLag
from openlive.server.metrics import Metrics


async def test_a_held_loop_shows_as_a_late_tick_in_the_metrics():
    metrics, seen = Metrics(), []

    def observe(seconds: float) -> None:
        seen.append(seconds)
        metrics.loop_lag.observe(seconds)

    lag = LoopLag(observe, tick_s=0.01)
    metrics.loop_lag_recent_max.set_function(lag.recent_max)
    lag.start()
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # something holds the loop: every session waits
        await asyncio.sleep(0.05)
    finally:
        lag.stop()
    ticks = len(seen)
    assert ticks >= 3
    assert max(seen) >= 0.15  # the tick due during the hold ran that late
    assert min(seen) >= 0.0
    assert lag.recent_max() == max(seen)
    rendered = metrics.render().decode()
    assert f"openlive_event_loop_lag_recent_max_seconds {max(seen)}" in rendered
    reading = read_lag(rendered)
    assert reading.buckets[float("inf")] == ticks
    assert reading.buckets[0.1] < ticks  # the held tick is past 100 ms
    await asyncio.sleep(0.05)
    assert len(seen) == ticks  # stopped: no more ticks


def test_a_phase_lag_is_read_from_two_histograms():
    def histogram(counts: list[int]) -> str:
        bounds = ["0.001", "0.01", "0.05", "0.1", "+Inf"]
        bucket = "openlive_event_loop_lag_seconds_bucket"
        lines = [f'{bucket}{{le="{le}"}} {n}' for le, n in zip(bounds, counts, strict=True)]
        return "\n".join(["# TYPE openlive_event_loop_lag_seconds histogram", *lines]) + "\n"

    before = read_lag(histogram([50, 50, 50, 50, 50]))
    # 100 ticks since: 97 within 1 ms, 2 more within 10 ms, the slowest within 50-100 ms.
    after = read_lag(histogram([147, 149, 149, 150, 150]))
    assert lag_summary(before, after) == "p99 ≤ 10 ms, max 50-100 ms, 1 over 50 ms (100 ticks)"
    stalled = read_lag(histogram([147, 149, 149, 149, 150]))  # one tick past the last bound
    assert lag_summary(before, stalled) == "p99 ≤ 10 ms, max over 100 ms, 1 over 50 ms (100 ticks)"
    quick = read_lag(histogram([150, 150, 150, 150, 150]))
    assert lag_summary(before, quick) == "p99 ≤ 1 ms, max 0-1 ms, 0 over 50 ms (100 ticks)"
    assert lag_summary(after, after) == "no ticks"

"""Prometheus metrics (``GET /metrics``): sessions, turns, close codes, per-stage latency, and
the event loop's lag (server/loop_lag.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

STAGE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
# A healthy loop is late by a millisecond or less; a ping waits on anything past a second.
LOOP_LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sessions_open = Gauge(
            "openlive_sessions_open", "Live sessions open now.", registry=self.registry
        )
        self.sessions = Counter(
            "openlive_sessions", "Sessions started.", ["kind"], registry=self.registry
        )
        self.turns = Counter(
            "openlive_turns", "Model turns ended.", ["modality", "outcome"], registry=self.registry
        )
        self.closes = Counter(
            "openlive_closes",
            "Connections closed by the server, by close code.",
            ["code"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "openlive_stage_seconds",
            "Per-turn latency of each pipeline stage.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "openlive_event_loop_lag_seconds",
            "How late the event loop ran a timer due every 100 ms: what every session waited.",
            buckets=LOOP_LAG_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag_recent_max = Gauge(
            "openlive_event_loop_lag_recent_max_seconds",
            "The largest event-loop lag of the last 10 s.",
            registry=self.registry,
        )

    def observe_turn(self, modality: str, outcome: str, stages_ms: dict[str, float]) -> None:
        self.turns.labels(modality=modality, outcome=outcome).inc()
        for stage, milliseconds in stages_ms.items():
            self.stage_seconds.labels(stage=stage).observe(milliseconds / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)

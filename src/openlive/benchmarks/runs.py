"""One voice-latency run as numbers: what the picture and the comparison table are drawn from.

A run is read back from the bench's ``--json`` output, so runs made on different days (or
machines) can be compared later with ``--compare``.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the client measures, by its key in the JSON and the name tables and pictures give it.
CLIENT_FIGURES = {
    "voice_to_voice": "voice-to-voice (client)",
    "voice_to_voice_heard": "voice-to-voice, heard (client)",
    "reply_gaps": "silence inside a reply (client)",
    "barge_in": "barge-in → interrupted (client)",
}
# The server's stages in the order a spoken turn passes them (session/trace.py).
STAGES = ("endpointing", "asr_final", "llm_first_token", "tts_first_chunk")
TOTAL = "voice_to_voice"
TRACE = re.compile(r"turn trace \w+ (\{.*\})")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def turn_traces(log_text: str) -> list[dict[str, float]]:
    """Each turn's stages (ms) from a server log, in the order the turns ended."""
    return [json.loads(match.group(1)) for match in TRACE.finditer(log_text)]


@dataclass
class Run:
    label: str
    client_ms: dict[str, list[float]] = field(default_factory=dict)  # keys of CLIENT_FIGURES
    server_turns: list[dict[str, float]] = field(default_factory=list)

    def figures(self) -> dict[str, list[float]]:
        """Every measured figure's samples: the client's, then the server's stages."""
        figures = {
            title: self.client_ms[key]
            for key, title in CLIENT_FIGURES.items()
            if self.client_ms.get(key)
        }
        for name in (*STAGES, TOTAL):
            values = [turn[name] for turn in self.server_turns if name in turn]
            if values:
                figures[f"server: {name}"] = values
        return figures

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "samples_ms": self.client_ms,
            "server_turns": self.server_turns,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], default_label: str) -> Run:
        samples = data.get("samples_ms")
        if samples is None:  # written before samples were kept: the per-clip turns have them
            turns = data.get("turns", [])
            samples = {"voice_to_voice": [t["voice_to_voice_ms"] for t in turns]}
        return cls(
            label=data.get("label") or default_label,
            client_ms={name: [float(v) for v in values] for name, values in samples.items()},
            server_turns=list(data.get("server_turns", [])),
        )


def load_runs(paths: list[Path]) -> list[Run]:
    """Runs from ``--json`` outputs: one run a file, or several (``{"runs": [...]}``)."""
    runs = []
    for path in paths:
        data = json.loads(path.read_text())
        for index, item in enumerate(data.get("runs", [data])):
            name = path.stem if "runs" not in data else f"{path.stem}[{index}]"
            runs.append(Run.from_json(item, name))
    return runs

"""Kokoro graphs: int8 (as packaged) vs float (rebuilt at install time) × intra-op threads.

For clauses of 2, 3, 4, 6 and 10 words the script reports the p50 over ``--runs`` runs of the
synthesis time (which is the clause's first-audio latency: the session synthesizes one clause
at a time), the CPU time of the synthesizing thread (all of the work on one thread), and the
real-time factor (synthesis / audio; above 1 the reply falls back to the fast voice). Variants
are interleaved within each run (A, B, A, B…) so a change in the machine's load hits them all
alike. ``--busy N`` repeats the table while N busy-looping processes compete for the cores, as
the LLM does while it decodes the rest of the reply.

    ./run bench kokoro_graphs
    ./run bench kokoro_graphs --runs 7 --busy 1 --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from openlive.assets import ensure_speech_assets
from openlive.engines.tts.base import SAMPLE_RATE
from openlive.engines.tts.kokoro import KokoroTTS
from openlive.settings import Settings

CLAUSES = {
    2: "Sure thing.",
    3: "Yes, of course.",
    4: "Sure, I can help.",
    6: "I think that sounds really good.",
    10: "I think the weather will be nice and sunny today.",
}


@dataclass(frozen=True)
class Variant:
    graph: str
    threads: int
    spinning: bool = True

    @property
    def label(self) -> str:
        return f"{self.graph} {self.threads}t" + ("" if self.spinning else " nospin")


@dataclass
class Row:
    load: str
    variant: str
    words: int
    synth_ms: float
    cpu_ms: float
    audio_s: float
    rtf: float


def _spin() -> None:  # pragma: no cover - runs in a child process
    while True:
        pass


def measure(engines: dict[Variant, KokoroTTS], runs: int, load: str, voice: str) -> list[Row]:
    times: dict[tuple[Variant, int], list[float]] = {key: [] for key in _keys(engines)}
    cpus: dict[tuple[Variant, int], list[float]] = {key: [] for key in _keys(engines)}
    audio: dict[tuple[Variant, int], float] = {}
    for _ in range(runs):
        for words, text in CLAUSES.items():
            for variant, engine in engines.items():
                started, cpu = time.perf_counter(), time.thread_time()
                pcm = engine.synthesize(text, voice=voice)
                times[variant, words].append(time.perf_counter() - started)
                cpus[variant, words].append(time.thread_time() - cpu)
                audio[variant, words] = len(pcm) / SAMPLE_RATE
    rows = []
    for (variant, words), walls in times.items():
        p50 = statistics.median(walls)
        a = audio[variant, words]
        cpu_p50 = statistics.median(cpus[variant, words])
        rows.append(Row(load, variant.label, words, p50 * 1000, cpu_p50 * 1000, a, p50 / a))
    return rows


def _keys(engines: dict[Variant, KokoroTTS]) -> list[tuple[Variant, int]]:
    return [(variant, words) for variant in engines for words in CLAUSES]


def _cell(row: Row, variant: Variant) -> str:
    cpu = f" / {row.cpu_ms:.0f}" if variant.threads == 1 else ""
    return f"{row.synth_ms:.0f}{cpu} ms ({row.rtf:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per clause (median reported)")
    parser.add_argument("--busy", type=int, default=1, help="busy processes for the loaded table")
    parser.add_argument("--voice", default="Puck")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    for words, text in CLAUSES.items():
        assert len(text.split()) == words, (words, text)
    assets = ensure_speech_assets(Settings().models_dir, progress=not args.json)
    variants = [
        Variant(graph, threads, spinning)
        for graph in ("int8", "float")
        for threads, spinning in ((1, True), (2, True), (2, False))
    ]
    engines: dict[Variant, KokoroTTS] = {}
    loads: dict[str, float] = {}
    for variant in variants:
        engine = KokoroTTS.from_assets(
            assets, threads=variant.threads, graph=variant.graph, spinning=variant.spinning
        )
        started = time.perf_counter()
        engine.load()
        loads[variant.label] = time.perf_counter() - started
        engines[variant] = engine

    rows = measure(engines, args.runs, "as found", args.voice)
    if args.busy:
        spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
        for process in spinners:
            process.start()
        try:
            rows += measure(engines, args.runs, f"+{args.busy} busy", args.voice)
        finally:
            for process in spinners:
                process.terminate()

    if args.json:
        body: dict[str, Any] = {"load_s": loads, "rows": [asdict(r) for r in rows]}
        print(json.dumps(body, indent=2))
        return
    console = Console()
    for load in dict.fromkeys(row.load for row in rows):
        table = Table(title=f"Kokoro synthesis p50 of {args.runs}, load {load}, {args.voice}")
        table.add_column("words", justify="right")
        for variant in variants:
            table.add_column(variant.label, justify="right")
        for words in CLAUSES:
            cells = {r.variant: r for r in rows if r.load == load and r.words == words}
            table.add_row(
                str(words),
                *(_cell(cells[v.label], v) for v in variants),
            )
        console.print(table)
    console.print(
        "cells: wall ms (/ CPU ms, on one thread) of the synthesis = first-audio time of that "
        "clause (real-time factor) · load with "
        f"warm-up: {', '.join(f'{k} {v:.2f} s' for k, v in loads.items())} · "
        f"{os.cpu_count()} CPUs, loadavg {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()

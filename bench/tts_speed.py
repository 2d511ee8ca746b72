"""TTS speed: first-audio time and real-time factor, quality (Kokoro) vs fast (hibari) mode.

The session synthesizes one clause at a time, so a clause's synthesis time *is* the time to its
first audio. For each mode and clause length (4, 8 and 25 words) the script reports the median
(p50) over ``--runs`` runs of: wall time, CPU time, seconds of audio and the real-time factor
(wall time / audio time; below 1 is faster than real time).

    ./run bench tts_speed
    ./run bench tts_speed --runs 9 --threads 2 --voice Kore --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from openlive.assets import ensure_speech_assets
from openlive.engines.tts.base import SAMPLE_RATE, TTSEngine
from openlive.engines.tts.fast import FastTTS
from openlive.engines.tts.kokoro import KokoroTTS
from openlive.settings import Settings

CLAUSES = {
    4: "Sure, I can help.",
    8: "I think the weather will be nice today.",
    25: (
        "When you get to the station, take the exit, walk past the bakery on the "
        "corner, and you will see our office across the street."
    ),
}


@dataclass
class Row:
    mode: str
    words: int
    first_audio_s: float
    cpu_s: float
    audio_s: float
    rtf: float


def measure(engine: TTSEngine, mode: str, voice: str, runs: int) -> list[Row]:
    rows = []
    for words, text in CLAUSES.items():
        walls, cpus, audio = [], [], 0.0
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            pcm = engine.synthesize(text, voice=voice)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            audio = len(pcm) / SAMPLE_RATE
        wall_p50 = statistics.median(walls)
        rows.append(Row(mode, words, wall_p50, statistics.median(cpus), audio, wall_p50 / audio))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per clause (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="default: settings.tts_threads")
    parser.add_argument("--voice", default="Puck")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    args = parser.parse_args()

    for words, text in CLAUSES.items():
        assert len(text.split()) == words, (words, text)
    settings = Settings()
    threads = args.threads or settings.tts_threads
    assets = ensure_speech_assets(settings.models_dir, progress=not args.json)

    engines: dict[str, TTSEngine] = {
        "quality": KokoroTTS.from_assets(assets, threads=threads),
        "fast": FastTTS(threads=threads),
    }
    rows: list[Row] = []
    loads: dict[str, float] = {}
    for mode, engine in engines.items():
        started = time.perf_counter()
        engine.load()
        loads[mode] = time.perf_counter() - started
        rows += measure(engine, mode, args.voice, args.runs)

    if args.json:
        body: dict[str, Any] = {
            "threads": threads,
            "load_s": loads,
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(body, indent=2))
        return
    table = Table(title=f"TTS speed, p50 of {args.runs} runs, {threads} thread(s), {args.voice}")
    for column in ("mode", "words", "first audio", "CPU", "audio", "RTF"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for row in rows:
        table.add_row(
            row.mode,
            str(row.words),
            f"{row.first_audio_s * 1000:.0f} ms",
            f"{row.cpu_s * 1000:.0f} ms",
            f"{row.audio_s:.2f} s",
            f"{row.rtf:.3f}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"load: quality {loads['quality']:.2f} s, fast {loads['fast']:.2f} s (with warm-up) · "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()

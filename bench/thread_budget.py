"""Threads per engine under the full voice pipeline: the same clips against servers that differ
only in one engine's thread count, in one run, so the table compares like with like.

    ./run bench thread_budget                 # automatic budget vs 2 threads for each stage
    ./run bench thread_budget --clips 4 --variants auto llm2

Each variant is a set of ``OPENLIVE_*`` settings for the server (see VARIANTS). The table
prints voice-to-voice p50/p95 and each stage's p50, and each variant's p50 over the first's.
"""

from __future__ import annotations

import argparse
import os
import sys
from types import SimpleNamespace

from rich.console import Console
from rich.table import Table

from openlive.assets import ensure_speech_assets
from openlive.benchmarks.clips import QUESTIONS, human_recordings, synthesized
from openlive.benchmarks.latency import Target, cpu_description, measure
from openlive.engines.tts.registry import create_tts_engine
from openlive.settings import Settings

VARIANTS: dict[str, dict[str, str]] = {
    "auto": {},  # the server's own budget (settings.py: llm 1 decode / all-core prefill, 1 each)
    "llm2": {"OPENLIVE_LLM_THREADS": "2"},
    "tts2": {"OPENLIVE_TTS_THREADS": "2"},
    "asr2": {"OPENLIVE_ASR_THREADS": "2"},
}
STAGES = ("endpointing", "asr_final", "llm_first_token", "tts_first_chunk")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=30)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    settings = Settings()
    tts = create_tts_engine(settings, ensure_speech_assets(settings.models_dir, progress=False))
    tts.load()
    clips = (synthesized(QUESTIONS, tts) + human_recordings())[: args.clips]
    print(f"{len(clips)} clips × {args.rounds}; on {cpu_description()}", file=sys.stderr)
    options = SimpleNamespace(
        server_args=[], rounds=args.rounds, barge_ins=0, max_tokens=args.max_tokens
    )
    summaries = []
    saved = dict(os.environ)
    for name in args.variants:
        os.environ.clear()
        os.environ.update({**saved, **VARIANTS[name]})  # the server inherits them
        try:
            summaries.append((name, measure(Target(name), options, clips, [])))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    table = Table(title=f"threads per engine, full voice pipeline ({cpu_description()})")
    for column in ("variant", "v2v p50", "v2v p95", *STAGES, "p50 / first"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    first = summaries[0][1]["voice_to_voice_ms"]["p50"]
    for name, summary in summaries:
        v2v = summary["voice_to_voice_ms"]
        stages = summary["server_stages_ms"]
        table.add_row(
            f"{name} {VARIANTS[name] or ''}",
            f"{v2v['p50']:.0f}",
            f"{v2v['p95']:.0f}",
            *(f"{stages.get(stage, {}).get('p50', float('nan')):.0f}" for stage in STAGES),
            f"{v2v['p50'] / first:.2f}",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

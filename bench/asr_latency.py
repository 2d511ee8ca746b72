"""Speech recognition latency: short-window decoding vs faster-whisper's transcribe().

The number that matters for a live turn is the time from the end of the user's audio to the
final transcript. Both methods run in this process, on the same model, threads and clips
(hibari speech, 2-5 s turns), so they can be compared directly:

* **short window**: ``WhisperASR.transcribe`` — the log-mel of the real audio padded to 8 s,
  one encoder pass for language detection and decoding, beam 1, no timestamps;
* **transcribe()**: faster-whisper's own call, which pads every input to 30 s (beam 1, no
  timestamps, language given; with ``--detect`` it also detects the language, a second pass).

Also measured: the cost of a live partial transcript (re-running the short window on the
growing turn every second), one Smart Turn decision and one VAD frame. Times are wall seconds,
p50 / p90 over ``--repeats`` runs of every clip; CPU is process CPU-seconds per call.

    ./run bench asr_latency
    ./run bench asr_latency --threads 2 --repeats 5 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.speech, the test-speech maker

from tests.speech import SpeechMaker, join, pad  # noqa: E402
from tests.wer import corpus_wer  # noqa: E402

from openlive.assets import ensure_speech_assets  # noqa: E402
from openlive.engines.asr import WhisperASR  # noqa: E402
from openlive.engines.turn import SmartTurn  # noqa: E402
from openlive.engines.vad import FRAME_SAMPLES, SileroVAD  # noqa: E402
from openlive.settings import Settings  # noqa: E402

CLIPS = [
    "What time does the museum open on Sunday mornings?",
    "Can you tell me what the weather will be like tomorrow in London?",
    "Please remind me to call my sister when I get home tonight.",
    "I think we should leave early because the traffic will be terrible.",
    "Turn off the lights in the kitchen and lock the back door.",
]
TRAILING_SILENCE_S = 0.2  # what the endpointer hands over: the turn plus its 200 ms pause


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure_final(
    name: str, transcribe: Callable[[np.ndarray], str], clips: list[np.ndarray], repeats: int
) -> dict[str, Any]:
    transcribe(clips[0])  # warm-up
    walls, cpus = [], []
    texts: list[str] = []
    for _ in range(repeats):
        texts = []
        for clip in clips:
            text, wall, cpu = timed(lambda clip=clip: transcribe(clip))
            texts.append(text)
            walls.append(wall)
            cpus.append(cpu)
    return {
        "method": name,
        "p50_s": statistics.median(walls),
        "p90_s": percentile(walls, 90),
        "cpu_s": statistics.mean(cpus),
        "wer": corpus_wer(list(zip(CLIPS, texts, strict=True))),
    }


def measure_partials(asr: WhisperASR, turn: np.ndarray, repeats: int) -> list[dict[str, Any]]:
    """Re-run recognition on the first 1, 2, 3, ... seconds of a long turn, as partials do."""
    rows = []
    for seconds in range(1, int(len(turn) / 16000) + 1):
        prefix = turn[: seconds * 16000]
        runs = [timed(lambda prefix=prefix: asr.transcribe(prefix, "en")) for _ in range(repeats)]
        rows.append(
            {
                "audio_s": seconds,
                "p50_s": statistics.median(r[1] for r in runs),
                "cpu_s": statistics.mean(r[2] for r in runs),
                "text": runs[-1][0].text,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=Settings().asr_threads)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--models-dir", type=Path, default=Settings().models_dir)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".pytest_cache/d/openlive-speech")
    parser.add_argument("--detect", action="store_true", help="detect the language, both ways")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)

    assets = ensure_speech_assets(args.models_dir, progress=not args.json)
    speech = SpeechMaker(args.cache_dir)
    clips = [pad(speech.say(text), after=TRAILING_SILENCE_S) for text in CLIPS]
    language = None if args.detect else "en"

    asr = WhisperASR(assets.whisper_dir, threads=args.threads, compute_type=args.compute_type)
    _, load_s, _ = timed(asr.load)
    assert asr._model is not None
    model = asr._model  # the same loaded weights serve both methods

    def short_window(clip: np.ndarray) -> str:
        return asr.transcribe(clip, language).text

    def thirty_seconds(clip: np.ndarray) -> str:
        segments, _ = model.transcribe(
            clip, language=language, beam_size=1, without_timestamps=True
        )
        return " ".join(s.text.strip() for s in segments)

    finals = [
        measure_final("short window (WhisperASR)", short_window, clips, args.repeats),
        measure_final("transcribe() (30 s pad)", thirty_seconds, clips, args.repeats),
    ]
    long_turn = join(*(speech.say(text) for text in CLIPS[:3]), gap=0.4)[: 9 * 16000]
    partials = measure_partials(asr, long_turn, args.repeats)

    smart_turn = SmartTurn(assets.smart_turn_model, threads=1)
    smart_turn.predict(clips[0])
    turn_runs = [timed(lambda c=c: smart_turn.predict(c))[1] for c in clips * args.repeats]
    stream = SileroVAD().new_stream()
    frames = [clips[0][i : i + FRAME_SAMPLES] for i in range(0, 40 * FRAME_SAMPLES, FRAME_SAMPLES)]
    _, vad_wall, _ = timed(lambda: [stream.process(f) for f in frames * 25])

    report = {
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "threads": args.threads,
        "compute_type": asr.compute_type,
        "language": language or "detected",
        "clip_seconds": [round(len(c) / 16000, 2) for c in clips],
        "load_s": load_s,
        "final": finals,
        "partials": partials,
        "smart_turn_p50_s": statistics.median(turn_runs),
        "vad_frame_ms": vad_wall / (len(frames) * 25) * 1000,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    render(report, console)


def render(report: dict[str, Any], console: Console) -> None:
    console.print(
        f"\nASR: Whisper base, {report['compute_type']}, {report['threads']} thread(s), "
        f"language {report['language']}, clips {report['clip_seconds']} s "
        f"(+{TRAILING_SILENCE_S} s pause), load {report['load_s']:.2f} s"
    )
    table = Table(title="end of audio → final transcript")
    for column in ("method", "p50 s", "p90 s", "CPU s/turn", "WER"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for row in report["final"]:
        table.add_row(
            row["method"],
            f"{row['p50_s']:.3f}",
            f"{row['p90_s']:.3f}",
            f"{row['cpu_s']:.3f}",
            f"{row['wer']:.1%}",
        )
    console.print(table)

    table = Table(title="partial transcript: one re-run on the growing turn")
    for column in ("audio s", "p50 s", "CPU s", "text"):
        table.add_column(column, justify="left" if column == "text" else "right")
    for row in report["partials"]:
        table.add_row(
            str(row["audio_s"]), f"{row['p50_s']:.3f}", f"{row['cpu_s']:.3f}", row["text"]
        )
    console.print(table)
    console.print(
        f"Smart Turn decision p50 {report['smart_turn_p50_s'] * 1000:.0f} ms; "
        f"VAD {report['vad_frame_ms']:.3f} ms per 32 ms frame"
    )


if __name__ == "__main__":
    main()

"""Voice latency through google-genai, measured at the audio level, as a user would feel it.

- voice-to-voice: the end of the user's speech → the first reply audio byte received;
- barge-in: the onset of speech during a reply → ``interrupted`` received.

Clips are streamed in real time (40 ms chunks, each sent when its audio has been "captured"), with
the microphone kept open (silence) while the reply plays, like a real client. When the benchmark
starts the server itself it also reads the server's per-turn traces, to say where the time went
(endpointing, ASR, LLM, TTS).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from .clips import INTERRUPTIONS, QUESTIONS, Clip, human_recordings, synthesized
from .server import own_server

CHUNK_S = 0.04  # what a browser AudioWorklet client sends; larger chunks add their length
TRACE = re.compile(r"turn trace \w+ (\{.*\})")


@dataclass
class Results:
    voice_to_voice_ms: list[float] = field(default_factory=list)
    barge_in_ms: list[float] = field(default_factory=list)
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    turns: list[dict[str, Any]] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


class Microphone:
    """Streams audio in real time; silence whenever nothing is queued, as an open mic does.

    Like a real microphone, a chunk is sent once its audio has been captured: the speech in it
    began ``CHUNK_S`` before the send, and the last chunk's speech ended at its send."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.queue: list[bytes] = []
        self.sent_speech: asyncio.Event = asyncio.Event()
        self.speech_started_at: float | None = None
        self.speech_ended_at: float | None = None

    def say(self, clip: Clip) -> None:
        pcm = clip.pcm16()
        step = int(16000 * CHUNK_S) * 2
        self.queue = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        self.speech_started_at = self.speech_ended_at = None

    async def run(self) -> None:
        from google.genai import types

        silence = bytes(int(16000 * CHUNK_S) * 2)
        next_at = time.monotonic()
        while True:
            next_at += CHUNK_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # capture the chunk
            chunk = self.queue.pop(0) if self.queue else silence
            now = time.monotonic()
            if chunk is not silence and self.speech_started_at is None:
                self.speech_started_at = now - CHUNK_S
            if chunk is not silence and not self.queue:
                self.speech_ended_at = now
            await self.session.send_realtime_input(
                audio=types.Blob(data=chunk, mime_type="audio/pcm;rate=16000")
            )


async def run_benchmark(
    base_url: str, clips: list[Clip], interruptions: list[Clip], barge_ins: int, max_tokens: int
) -> Results:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key="bench", http_options=types.HttpOptions(base_url=base_url, api_version="v1beta")
    )
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        max_output_tokens=max_tokens,
        system_instruction="You are a helpful voice assistant. Answer in one or two sentences.",
    )
    results = Results()
    async with client.aio.live.connect(model="gemini-live-2.5-flash", config=config) as session:
        mic = Microphone(session)
        sender = asyncio.create_task(mic.run())
        try:
            for clip in clips:
                mic.say(clip)
                first_audio = None
                async for message in session.receive():
                    content = message.server_content
                    if content and content.model_turn and first_audio is None:
                        first_audio = time.monotonic()
                if first_audio is not None and mic.speech_ended_at is not None:
                    latency = (first_audio - mic.speech_ended_at) * 1000
                    results.voice_to_voice_ms.append(latency)
                    results.turns.append({"clip": clip.name, "voice_to_voice_ms": round(latency)})
                    print(f"  {clip.name:24s} voice-to-voice {latency:6.0f} ms", file=sys.stderr)
            for index in range(barge_ins):
                question = clips[index % len(clips)]
                interruption = interruptions[index % len(interruptions)]
                mic.say(question)
                interrupted_at = None
                async for message in session.receive():
                    content = message.server_content
                    if (
                        content
                        and content.model_turn
                        and not mic.queue
                        and (mic.speech_started_at is not None and interrupted_at is None)
                        and question is not None
                    ):
                        await asyncio.sleep(0.4)  # let the reply play a little
                        mic.say(interruption)
                        question = None  # type: ignore[assignment]
                    if content and content.interrupted:
                        interrupted_at = time.monotonic()
                if interrupted_at is not None and mic.speech_started_at is not None:
                    latency = (interrupted_at - mic.speech_started_at) * 1000
                    results.barge_in_ms.append(latency)
                    print(
                        f"  barge-in {index}            onset → interrupted {latency:6.0f} ms",
                        file=sys.stderr,
                    )
                async for _ in session.receive():  # the interrupting question's answer
                    pass
        finally:
            sender.cancel()
    return results


def stage_traces(log: Path) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = {}
    for match in TRACE.finditer(log.read_text(errors="replace")):
        for name, value in json.loads(match.group(1)).items():
            stages.setdefault(name, []).append(value)
    return stages


def main(argv: list[str] | None = None) -> int:
    import argparse

    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="benchmark a running TLS server (https://host:port)")
    parser.add_argument("--barge-ins", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2, help="times each clip is asked")
    parser.add_argument("--max-tokens", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args(argv)

    from ..assets import ensure_speech_assets
    from ..engines.tts.registry import create_tts_engine
    from ..settings import Settings

    settings = Settings()
    tts = create_tts_engine(settings, ensure_speech_assets(settings.models_dir, progress=False))
    tts.load()
    clips = synthesized(QUESTIONS, tts) + human_recordings()
    interruptions = synthesized(INTERRUPTIONS, tts)
    print(f"{len(clips)} clips × {args.rounds} rounds, {args.barge_ins} barge-ins", file=sys.stderr)

    with contextlib.ExitStack() as stack:
        log = None
        url = args.url
        if url is None:
            url, bundle, health, log = stack.enter_context(
                own_server(args.server_args, 300, Console(stderr=True))
            )
            os.environ["SSL_CERT_FILE"] = str(bundle)
        else:
            health = httpx.get(f"{url}/healthz", verify=False).json()
        results = asyncio.run(
            run_benchmark(url, clips * args.rounds, interruptions, args.barge_ins, args.max_tokens)
        )
        if log is not None:
            results.stages_ms = stage_traces(log)

    summary = {
        "machine": {"cpus": os.cpu_count()},
        "llm": health.get("llm"),
        "voice_to_voice_ms": _stats(results.voice_to_voice_ms),
        "barge_in_ms": _stats(results.barge_in_ms),
        "server_stages_ms": {name: _stats(v) for name, v in results.stages_ms.items()},
        "turns": results.turns,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    table = Table(title=f"voice latency ({os.cpu_count()} CPUs; {health.get('llm')})")
    for column in ("measure", "n", "p50 ms", "p95 ms", "mean ms"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    rows = [
        ("voice-to-voice (client)", summary["voice_to_voice_ms"]),
        ("barge-in → interrupted (client)", summary["barge_in_ms"]),
    ]
    rows += [(f"server: {name}", stats) for name, stats in summary["server_stages_ms"].items()]
    for name, stats in rows:
        table.add_row(
            name,
            str(stats["n"]),
            f"{stats['p50']:.0f}",
            f"{stats['p95']:.0f}",
            f"{stats['mean']:.0f}",
        )
    Console(stderr=args.json).print(table)
    return 0


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": float(np.mean(values)) if values else float("nan"),
    }


if __name__ == "__main__":
    raise SystemExit(main())

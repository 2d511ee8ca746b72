"""Capacity: how many concurrent sessions one server holds before latency turns up (the knee).

Ramps concurrent sessions step by step through google-genai, over TLS, as users would:

* **voice**: each session streams real clips (the benchmark voices and human recordings of
  ``openlive bench latency``) at real-time pace, 40 ms chunks with the microphone left open, and
  waits for the spoken answer; measured: the end of the user's speech → the first reply audio;
* **text**: each session sends text turns; measured: send → the first text.

Every step prints p50/p95 and errors; the knee is the first step whose p95 passes ``--knee``
times the single-session p95 (or that has errors), and "sessions per core" is the step before it
divided by the cores. Beside it, the most sessions whose p95 stays within the product's budget
(``--voice-target-ms`` 1500, ``--text-target-ms`` 1000) with no errors: that may be none, where
even one session is slower than the budget on this CPU. The numbers are the machine's, and only
on a machine nothing else uses.

    ./run bench capacity                                   # embedded engines, own server
    ./run bench capacity --voice-steps 1,2,4 --text-steps 1,4,16
    ./run bench capacity --remote-speech                   # faster-whisper-server + fastkokoro
    ./run bench capacity --server-args --llm openai:http://gpu:8000/v1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from openlive.benchmarks.clips import QUESTIONS, Clip, human_recordings, synthesized
from openlive.benchmarks.latency import Microphone, percentile
from openlive.benchmarks.server import own_server

MODEL = "gemini-live-2.5-flash"
TEXT_PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Name four planets of the solar system.",
    "Tell me a short joke about computers.",
]


@dataclass
class Step:
    kind: str
    sessions: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def row(self) -> dict[str, Any]:
        def ms(value: float) -> int | None:
            return None if math.isnan(value) else round(value)

        return {
            "kind": self.kind,
            "sessions": self.sessions,
            "n": len(self.latencies_ms),
            "p50_ms": ms(self.p(50)),
            "p95_ms": ms(self.p(95)),
            "errors": len(self.errors),
            "wall_s": round(self.wall_s, 1),
        }


def client_for(base_url: str) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=base_url, api_version="v1beta")
    return genai.Client(api_key="bench", http_options=options)


async def voice_session(base_url: str, clips: list[Clip], turns: int, step: Step) -> None:
    from google.genai import types

    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        max_output_tokens=30,
        system_instruction="You are a helpful voice assistant. Answer in one sentence.",
    )
    async with client_for(base_url).aio.live.connect(model=MODEL, config=config) as session:
        mic = Microphone(session)
        sender = asyncio.create_task(mic.run())
        try:
            for clip in clips[:turns]:
                mic.say(clip)
                first_audio = None
                async with asyncio.timeout(120):
                    async for message in session.receive():
                        content = message.server_content
                        if content and content.model_turn and first_audio is None:
                            first_audio = time.monotonic()
                if first_audio is None or mic.speech_ended_at is None:
                    step.errors.append(f"{clip.name}: no reply audio")
                    continue
                step.latencies_ms.append((first_audio - mic.speech_ended_at) * 1000)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender


async def text_session(base_url: str, offset: int, turns: int, step: Step) -> None:
    from google.genai import types

    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT], max_output_tokens=40
    )
    async with client_for(base_url).aio.live.connect(model=MODEL, config=config) as session:
        for turn in range(turns):
            prompt = TEXT_PROMPTS[(offset + turn) % len(TEXT_PROMPTS)]
            sent = time.monotonic()
            await session.send_realtime_input(text=prompt)
            first = None
            async with asyncio.timeout(120):
                async for message in session.receive():
                    content = message.server_content
                    if content and content.model_turn and first is None:
                        first = time.monotonic()
            if first is None:
                step.errors.append(f"turn {turn}: no text")
                continue
            step.latencies_ms.append((first - sent) * 1000)


async def run_step(base_url: str, kind: str, sessions: int, turns: int, clips: list[Clip]) -> Step:
    step = Step(kind, sessions)
    started = time.monotonic()

    async def one(index: int) -> None:
        try:
            if kind == "voice":
                rotated = clips[index % len(clips) :] + clips[: index % len(clips)]
                # Sessions start a little apart, as real users do, not in lock step.
                await asyncio.sleep(index * 0.7)
                await voice_session(base_url, rotated, turns, step)
            else:
                await asyncio.sleep(index * 0.1)
                await text_session(base_url, index, turns, step)
        except Exception as error:  # a refused or dropped session is this step's result
            step.errors.append(f"session {index}: {type(error).__name__}: {error}"[:200])

    await asyncio.gather(*(one(index) for index in range(sessions)))
    step.wall_s = time.monotonic() - started
    return step


def knee(steps: list[Step], factor: float) -> tuple[int | None, int]:
    """(the first step over the knee, the most sessions before it)."""
    if not steps:
        return None, 0
    base = steps[0].p(95)
    best = 0
    for step in steps:
        if step.errors or not step.latencies_ms or step.p(95) > factor * base:
            return step.sessions, best
        best = step.sessions
    return None, best


def within(steps: list[Step], target_ms: float) -> int:
    """The most sessions of a step with no errors and its p95 within ``target_ms``."""
    held = [s.sessions for s in steps if s.latencies_ms and not s.errors and s.p(95) <= target_ms]
    return max(held, default=0)


def print_steps(
    console: Console, kind: str, steps: list[Step], factor: float, target_ms: float
) -> dict:
    cores = os.cpu_count() or 1
    over, best = knee(steps, factor)
    budget = within(steps, target_ms)
    measure = "end of speech → first audio" if kind == "voice" else "send → first text"
    console.print(f"\n[bold]{kind}[/] ({measure})")
    console.print(
        f"{'sessions':>9} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'wall s':>7}"
    )
    for step in steps:
        row = step.row()
        console.print(
            f"{row['sessions']:>9} {row['n']:>4} {row['p50_ms'] or '-':>8} "
            f"{row['p95_ms'] or '-':>8} "
            f"{row['errors']:>7} {row['wall_s']:>7}"
        )
        for error in step.errors[:3]:
            console.print(f"          [red]{error}[/]")
    where = f"at {over} sessions" if over is not None else "not reached"
    console.print(
        f"knee ({factor:g}x the 1-session p95 or errors): {where}; "
        f"{best} sessions held = {best / cores:.2f} sessions per core ({cores} cores)"
    )
    console.print(
        f"within the {target_ms:g} ms p95 budget: {budget} sessions = "
        f"{budget / cores:.2f} sessions per core"
    )
    return {
        "target_ms": target_ms,
        "within_target": budget,
        "within_target_per_core": round(budget / cores, 2),
        "steps": [s.row() for s in steps],
        "knee_at": over,
        "held": best,
        "sessions_per_core": round(best / cores, 2),
    }


@contextlib.contextmanager
def remote_speech_servers(workdir: Path) -> Any:
    """faster-whisper-server and fastkokoro on the packaged weights (as the tests run them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.speech_servers import start_kokoro_server, start_whisper_server

    whisper = start_whisper_server(workdir)
    try:
        kokoro = start_kokoro_server(workdir, workdir / "fastkokoro-cache")
        try:
            yield ["--asr", f"openai:{whisper.base_url}", "--tts", f"openai:{kokoro.base_url}"]
        finally:
            kokoro.stop()
    finally:
        whisper.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running TLS server (https://host:port)")
    parser.add_argument("--voice-steps", default="1,2,3", help="concurrent voice sessions")
    parser.add_argument("--text-steps", default="1,2,4,8", help="concurrent text sessions")
    parser.add_argument("--turns", type=int, default=2, help="turns per session per step")
    parser.add_argument("--knee", type=float, default=2.0, help="p95 growth that is the knee")
    parser.add_argument("--voice-target-ms", type=float, default=1500.0)
    parser.add_argument("--text-target-ms", type=float, default=1000.0)
    parser.add_argument("--remote-speech", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    console = Console(stderr=True)
    voice_steps = [int(n) for n in args.voice_steps.split(",") if n.strip() and int(n) > 0]
    text_steps = [int(n) for n in args.text_steps.split(",") if n.strip() and int(n) > 0]

    clips: list[Clip] = []
    if voice_steps:
        from openlive.assets import ensure_speech_assets
        from openlive.engines.tts.registry import create_tts_engine
        from openlive.settings import Settings

        settings = Settings()
        tts = create_tts_engine(settings, ensure_speech_assets(settings.models_dir, progress=False))
        tts.load()
        clips = synthesized(QUESTIONS, tts) + human_recordings()

    summary: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        }
    }
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            import tempfile

            server_args = list(args.server_args)
            if args.remote_speech:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                server_args += stack.enter_context(remote_speech_servers(workdir))
            url, bundle, health, _ = stack.enter_context(own_server(server_args, 300, console))
            os.environ["SSL_CERT_FILE"] = str(bundle)
        else:
            import httpx

            health = httpx.get(f"{url}/healthz", verify=False).json()
        summary["engines"] = {k: health.get(k) for k in ("llm", "voice_llm", "asr", "tts")}
        console.print(f"engines: {summary['engines']}")
        for kind, counts in (("voice", voice_steps), ("text", text_steps)):
            steps = []
            for sessions in counts:
                console.print(f"{kind}: {sessions} concurrent session(s) ...")
                step = asyncio.run(run_step(url, kind, sessions, args.turns, clips))
                steps.append(step)
                if knee(steps, args.knee)[0] is not None:
                    break  # past the knee: the next step only measures a queue
            if steps:
                target = args.voice_target_ms if kind == "voice" else args.text_target_ms
                summary[kind] = print_steps(console, kind, steps, args.knee, target)
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

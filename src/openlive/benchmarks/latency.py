"""Voice latency through google-genai, measured at the audio level, as a user would feel it.

- voice-to-voice: the end of the user's speech → the first reply audio byte received;
- voice-to-voice, heard: the end of the user's speech → the first audible sample of the reply
  played, by a client that plays audio as it arrives (silence at the start of a reply is dead
  air too, so it counts);
- silence inside a reply: how long that client's speaker ran dry between the reply's first and
  last audio (a clause that came after the one before it had played out), summed per reply;
- barge-in: the onset of speech during a reply → ``interrupted`` received (and how many
  talk-overs got none);
- false alarms: a backchannel ("Mm-hmm.") over a reply: how many replies played on to their
  end instead of being cut (and answering the "mm-hmm");
- speculation: how many replies the server started at the user's first pause and kept.

Clips are streamed in real time (40 ms chunks, each sent when its audio has been "captured"), with
the microphone kept open (silence) while the reply plays, like a real client. When the benchmark
starts the server itself it also reads the server's per-turn traces, to say where the time went
(endpointing, ASR, LLM, TTS).

``--baseline CHECKOUT`` runs another checkout's server beside this one, with the same clips,
and prints p50/p95 of both and new/old; ``--picture PATH.svg`` draws the runs (picture.py);
``--compare A.json B.json`` does both from earlier ``--json`` outputs, without running anything.

Both servers run at once and take turns, one session each per round (old, new, then new, old...),
and the barge-ins and false alarms come last in the same order: a machine whose speed drifts
while the bench runs (a VM's did by up to 1.7x within an hour) then slows both alike, where
running one server after the other gave the drift to one of them. Only the server in a session
is busy; the other idles (no model runs without a session).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from .clips import BACKCHANNELS, INTERRUPTIONS, QUESTIONS, Clip, human_recordings, synthesized
from .compare import comparison_table
from .picture import write_picture
from .runs import Run, load_runs, percentile, turn_traces
from .server import own_server

CHUNK_S = 0.04  # what a browser AudioWorklet client sends; larger chunks add their length
OUTPUT_RATE = 24000
AUDIBLE = 100  # PCM16 magnitude (-50 dBFS): quieter samples at a reply's start are not heard


@dataclass
class Results:
    voice_to_voice_ms: list[float] = field(default_factory=list)
    voice_to_voice_heard_ms: list[float] = field(default_factory=list)
    reply_gaps_ms: list[float] = field(default_factory=list)  # silence inside each reply
    barge_in_ms: list[float] = field(default_factory=list)
    barge_in_missed: int = 0  # talked over a reply and got no ``interrupted``
    false_alarms: int = 0  # backchannels said over a reply
    false_alarms_resumed: int = 0  # ... after which the reply played on to generationComplete
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    turns: list[dict[str, Any]] = field(default_factory=list)
    server_turns: list[dict[str, float]] = field(default_factory=list)  # each turn's trace


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


class Speaker:
    """Plays reply audio as it arrives, with no jitter buffer, and tells when the first audible
    sample was played: a chunk starts when it has arrived and the one before it has played."""

    def __init__(self) -> None:
        self.played_until = 0.0
        self.first_audible_at: float | None = None
        self.gaps_s = 0.0  # waits for audio once the reply had started playing

    def play(self, arrived_at: float, pcm: bytes) -> None:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
        if self.played_until and arrived_at > self.played_until:
            self.gaps_s += arrived_at - self.played_until
        starts_at = max(arrived_at, self.played_until)
        if self.first_audible_at is None:
            loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= AUDIBLE)
            if loud.size:
                self.first_audible_at = starts_at + loud[0] / OUTPUT_RATE
        self.played_until = starts_at + len(samples) / OUTPUT_RATE


async def run_benchmark(
    base_url: str,
    clips: list[Clip],
    interruptions: list[Clip],
    barge_ins: int,
    max_tokens: int,
    backchannels: list[Clip] | None = None,
    results: Results | None = None,
    ask_each: bool = True,
) -> Results:
    """One session against ``base_url``: each clip asked in turn (unless not ``ask_each``), then
    the barge-ins and the false alarms (which ask clips too); what it measures is added to
    ``results`` (a new one by default)."""
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
    results = results if results is not None else Results()
    async with client.aio.live.connect(model="gemini-live-2.5-flash", config=config) as session:
        mic = Microphone(session)
        sender = asyncio.create_task(mic.run())
        try:
            for clip in clips if ask_each else []:
                mic.say(clip)
                first_audio = None
                speaker = Speaker()
                async for message in session.receive():
                    content = message.server_content
                    if content and content.model_turn:
                        arrived_at = time.monotonic()
                        first_audio = first_audio or arrived_at
                        for part in content.model_turn.parts or []:
                            if part.inline_data and part.inline_data.data:
                                speaker.play(arrived_at, part.inline_data.data)
                if first_audio is not None and mic.speech_ended_at is not None:
                    latency = (first_audio - mic.speech_ended_at) * 1000
                    results.voice_to_voice_ms.append(latency)
                    turn = {"clip": clip.name, "voice_to_voice_ms": round(latency)}
                    heard = ""
                    if speaker.first_audible_at is not None:
                        heard_ms = (speaker.first_audible_at - mic.speech_ended_at) * 1000
                        results.voice_to_voice_heard_ms.append(heard_ms)
                        turn["voice_to_voice_heard_ms"] = round(heard_ms)
                        heard = f", heard {heard_ms:6.0f} ms"
                    gaps_ms = speaker.gaps_s * 1000
                    results.reply_gaps_ms.append(gaps_ms)
                    turn["reply_gaps_ms"] = round(gaps_ms)
                    heard += f", silence inside {gaps_ms:5.0f} ms"
                    results.turns.append(turn)
                    print(
                        f"  {clip.name:24s} voice-to-voice {latency:6.0f} ms{heard}",
                        file=sys.stderr,
                    )
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
                else:
                    results.barge_in_missed += 1
                    print(f"  barge-in {index}            no interrupted", file=sys.stderr)
                async for _ in session.receive():  # the interrupting question's answer
                    pass
            for index, backchannel in enumerate(backchannels or []):
                resumed = await _false_alarm(session, mic, clips[index % len(clips)], backchannel)
                results.false_alarms += 1
                results.false_alarms_resumed += resumed
                outcome = "reply played on" if resumed else "reply cut"
                print(f"  {backchannel.name:24s} over a reply: {outcome}", file=sys.stderr)
        finally:
            sender.cancel()
    return results


async def _false_alarm(session: Any, mic: Microphone, question: Clip, backchannel: Clip) -> bool:
    """Ask, say ``backchannel`` 0.4 s into the reply; whether the reply then played to its end
    (``generationComplete``), not cut. Whatever the server says after it is drained."""
    mic.say(question)
    said = False
    completed = False
    async for message in session.receive():
        content = message.server_content
        if content and content.model_turn and not said and not mic.queue:
            await asyncio.sleep(0.4)
            mic.say(backchannel)
            said = True
        if content and content.generation_complete and said:
            completed = True
    with contextlib.suppress(TimeoutError):  # a server that took the "mm-hmm" as a turn answers
        async with asyncio.timeout(6):
            async for _ in session.receive():
                pass
    return completed


def stage_lists(turns: list[dict[str, float]]) -> dict[str, list[float]]:
    """Each stage's samples across the turns."""
    stages: dict[str, list[float]] = {}
    for turn in turns:
        for name, value in turn.items():
            stages.setdefault(name, []).append(value)
    return stages


@dataclass(frozen=True)
class Target:
    """A server to benchmark: a running one (``url``), or one the bench starts (``openlive``)."""

    label: str
    openlive: list[str] | None = None  # the command; None: this package's own
    url: str | None = None


def checkout_label(name: str, checkout: Path) -> str:
    """``name`` and the checkout's commit, so a picture says which code it measured."""
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip()
    return f"{name} {commit}" if done.returncode == 0 and commit else name


def baseline_target(path: Path) -> Target:
    """Another checkout (its ``.venv/bin/openlive``) or an ``openlive`` executable."""
    command = path / ".venv" / "bin" / "openlive" if path.is_dir() else path
    if not os.access(command, os.X_OK):
        raise SystemExit(
            f"--baseline: {command} is not an executable openlive; a checkout gets its .venv "
            f"from any ./run command there, e.g. (cd {path} && ./run serve --help)"
        )
    checkout = path if path.is_dir() else path.resolve().parent.parent.parent
    return Target(checkout_label("old", checkout), openlive=[str(command)])


def cpu_description() -> str:
    """The CPU model and the vector extensions that matter to the engines, from /proc/cpuinfo."""
    model, flags = "unknown CPU", set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
    isa = " ".join(flag for flag in wanted if flag in flags) or "no AVX2"
    return f"{model}, {os.cpu_count()} CPUs, {isa}"


@dataclass
class Leg:
    """A server under test, up for the whole bench, and what its sessions measured so far."""

    target: Target
    url: str
    bundle: Path | None  # its CA bundle, for the client; None: the environment's
    health: dict[str, Any]
    log: Path | None  # its log, when the bench started it
    results: Results = field(default_factory=Results)


def measure(
    target: Target,
    args: Any,
    clips: list[Clip],
    interruptions: list[Clip],
    backchannels: list[Clip] | None = None,
) -> dict:
    """One benchmark run against ``target``: the summary ``--json`` prints."""
    return measure_side_by_side([target], args, clips, interruptions, backchannels)[0]


def measure_side_by_side(
    targets: list[Target],
    args: Any,
    clips: list[Clip],
    interruptions: list[Clip],
    backchannels: list[Clip] | None = None,
) -> list[dict]:
    """Every target up at once, taking turns round by round (module docstring); a summary each."""
    with contextlib.ExitStack() as stack:
        legs = [_start(target, args, stack) for target in targets]  # one at a time: warm-ups
        for round_ in range(args.rounds):
            for leg in legs if round_ % 2 == 0 else legs[::-1]:
                print(f"{leg.target.label}, round {round_ + 1}", file=sys.stderr)
                _session(leg, clips, [], 0, args.max_tokens)
        if args.barge_ins or backchannels:
            for leg in legs if args.rounds % 2 == 0 else legs[::-1]:
                print(f"{leg.target.label}, barge-ins and false alarms", file=sys.stderr)
                _session(leg, clips, interruptions, args.barge_ins, args.max_tokens, backchannels)
        return [_summary(leg) for leg in legs]  # before the logs are deleted


def _start(target: Target, args: Any, stack: contextlib.ExitStack) -> Leg:
    if target.url is not None:
        health = httpx.get(f"{target.url}/healthz", verify=False).json()
        return Leg(target, target.url, None, health, None)
    console = Console(stderr=True)
    url, bundle, health, log = stack.enter_context(
        own_server(args.server_args, 300, console, target.openlive)
    )
    return Leg(target, url, bundle, health, log)


def _session(
    leg: Leg,
    clips: list[Clip],
    interruptions: list[Clip],
    barge_ins: int,
    max_tokens: int,
    backchannels: list[Clip] | None = None,
) -> None:
    """One session of ``leg``: the clips as turns, or (with barge-ins or backchannels) only
    those, which ask the clips themselves."""
    saved = os.environ.get("SSL_CERT_FILE")
    if leg.bundle is not None:  # this session's client only
        os.environ["SSL_CERT_FILE"] = str(leg.bundle)
    try:
        asyncio.run(
            run_benchmark(
                leg.url,
                clips,
                interruptions,
                barge_ins,
                max_tokens,
                backchannels,
                leg.results,
                ask_each=not (barge_ins or backchannels),
            )
        )
    finally:
        _restore_env("SSL_CERT_FILE", saved)


def _summary(leg: Leg) -> dict:
    results, health = leg.results, leg.health
    hits = misses = 0
    if leg.log is not None:
        text = leg.log.read_text(errors="replace")
        results.server_turns = turn_traces(text)
        results.stages_ms = stage_lists(results.server_turns)
        hits, misses = text.count("speculation: hit"), text.count("speculation: miss")
    return {
        "label": leg.target.label,
        "machine": {"cpus": os.cpu_count()},
        "llm": health.get("voice_llm") or health.get("llm"),
        "cpu": cpu_description(),
        "speculation": {"hits": hits, "misses": misses},
        "barge_in_missed": results.barge_in_missed,
        "false_alarms": {"said": results.false_alarms, "resumed": results.false_alarms_resumed},
        "voice_to_voice_ms": _stats(results.voice_to_voice_ms),
        "voice_to_voice_heard_ms": _stats(results.voice_to_voice_heard_ms),
        "reply_gaps_ms": _stats(results.reply_gaps_ms),
        "barge_in_ms": _stats(results.barge_in_ms),
        "server_stages_ms": {name: _stats(v) for name, v in results.stages_ms.items()},
        "turns": results.turns,
        # Every sample, not only their statistics: --compare and --picture redraw from these.
        "samples_ms": {
            "voice_to_voice": results.voice_to_voice_ms,
            "voice_to_voice_heard": results.voice_to_voice_heard_ms,
            "reply_gaps": results.reply_gaps_ms,
            "barge_in": results.barge_in_ms,
        },
        "server_turns": results.server_turns,
    }


def summary_table(summary: dict) -> Table:
    table = Table(
        title=f"{summary['label']}: voice latency ({os.cpu_count()} CPUs; {summary['llm']})"
    )
    for column in ("measure", "n", "p50 ms", "p95 ms", "mean ms"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    rows = [
        ("voice-to-voice (client)", summary["voice_to_voice_ms"]),
        ("voice-to-voice, heard (client)", summary.get("voice_to_voice_heard_ms", _stats([]))),
        ("silence inside a reply (client)", summary.get("reply_gaps_ms", _stats([]))),
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
    speculation = summary.get("speculation") or {}
    tried = speculation.get("hits", 0) + speculation.get("misses", 0)
    false_alarms = summary.get("false_alarms") or {}
    table.caption = (
        f"{summary.get('cpu', '')}\n"
        f"barge-ins with no interrupted: {summary.get('barge_in_missed', 0)}; "
        f"backchannels over a reply that played on: {false_alarms.get('resumed', 0)} of "
        f"{false_alarms.get('said', 0)}; speculation kept {speculation.get('hits', 0)} "
        f"of {tried} replies started early"
    )
    return table


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="benchmark a running TLS server (https://host:port)")
    parser.add_argument("--barge-ins", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2, help="times each clip is asked")
    parser.add_argument(
        "--false-alarms", type=int, default=3, help="backchannels said over a reply (max 3)"
    )
    parser.add_argument("--clips", type=int, default=0, help="use only the first N clips")
    parser.add_argument("--max-tokens", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="first benchmark another checkout's server (its .venv/bin/openlive), same clips",
    )
    parser.add_argument("--label", help="name this run (default: new and its commit)")
    parser.add_argument(
        "--picture", type=Path, metavar="PATH.svg", help="draw the runs to an SVG file"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="RUN.json",
        help="compare earlier --json outputs (oldest first) instead of running",
    )
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args(argv)
    if args.url and args.baseline:
        parser.error("--baseline starts both servers itself: drop --url")

    console = Console(stderr=True)
    if args.compare:
        summaries = []
        runs = load_runs(args.compare)
    else:
        summaries = _run_targets(args)
        runs = [Run.from_json(summary, summary["label"]) for summary in summaries]
    if args.json:
        saved = summaries or [run.to_json() for run in runs]
        print(json.dumps(saved[0] if len(saved) == 1 else {"runs": saved}, indent=2))
    if len(runs) > 1:
        Console(stderr=args.json).print(comparison_table(runs))
    if args.picture is not None:
        title = (
            "voice latency"
            if len(runs) == 1
            else f"voice latency: {runs[-1].label} vs {runs[0].label}"
        )
        if summaries:  # measured here: say on what (saved runs may come from other machines)
            title += f" ({os.cpu_count()} CPUs; {summaries[-1]['llm']})"
        write_picture(runs, args.picture, title)
        console.print(f"picture: {args.picture}")
    return 0


def _run_targets(args: Any) -> list[dict]:
    from ..assets import ensure_speech_assets
    from ..engines.tts.registry import create_tts_engine
    from ..settings import Settings

    targets = []
    if args.baseline is not None:
        targets.append(baseline_target(args.baseline))
    current = args.label or checkout_label("new", Path(__file__).resolve().parents[3])
    targets.append(Target(current, url=args.url))

    # One set of clips for every server: the runs differ in the server only.
    settings = Settings()
    tts = create_tts_engine(settings, ensure_speech_assets(settings.models_dir, progress=False))
    tts.load()
    clips = synthesized(QUESTIONS, tts) + human_recordings()
    if args.clips > 0:
        clips = clips[: args.clips]
    interruptions = synthesized(INTERRUPTIONS, tts)
    backchannels = synthesized(BACKCHANNELS, tts)[: args.false_alarms]
    print(
        f"{len(clips)} clips × {args.rounds} rounds, {args.barge_ins} barge-ins, "
        f"{len(backchannels)} false alarms; on {cpu_description()}",
        file=sys.stderr,
    )

    summaries = measure_side_by_side(targets, args, clips, interruptions, backchannels)
    for summary in summaries:
        Console(stderr=args.json).print(summary_table(summary))
    return summaries


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": float(np.mean(values)) if values else float("nan"),
    }


if __name__ == "__main__":
    raise SystemExit(main())

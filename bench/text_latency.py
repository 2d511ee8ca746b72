"""Text latency through the official google-genai client, over TLS, exactly as a user sees it.

Two measurements, in one process so that they can be compared:

* **one session**: ``--turns`` text turns in a single Live session. The conversation grows, and
  the server should reuse its prompt cache, so time-to-first-token (TTFT) stays flat.
* **fresh sessions**: ``--fresh-sessions`` times a new session with one turn (cold conversation).
  Reports connect → first token and send → first token.

For every turn: send → first text chunk (TTFT), send → ``turnComplete`` (total), the response
tokens from the ``turnComplete`` message's ``usageMetadata``, the decode rate
``(response_tokens - 1) / (t_last_text - t_first_text)`` and the cached prompt tokens.

By default the script starts its own ``openlive serve --tls`` on a free port and stops it at the
end; ``--url https://host:port --cert-file bundle.pem`` measures a running server instead.

    ./run bench text_latency
    ./run bench text_latency --turns 5 --fresh-sessions 3
    ./run bench text_latency --json --server-args --llm openai:http://127.0.0.1:11434/v1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from openlive.benchmarks.server import get_health, own_server

MODEL = "gemini-live-2.5-flash"
SYSTEM_INSTRUCTION = "You are a helpful assistant."
PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain in two sentences why the sky is blue.",
    "Give me three tips for sleeping better.",
    "What is 17 times 23?",
    "Name four planets of the solar system.",
    "Translate 'good morning, my friend' into Spanish.",
    "Describe a cat to someone who has never seen one.",
    "What should I pack for a weekend hiking trip?",
    "Tell me a short joke about computers.",
]


@dataclass
class Turn:
    mode: str  # "session" or "fresh"
    index: int
    prompt: str
    ttft_s: float | None  # send → first text chunk
    total_s: float  # send → turnComplete
    connect_s: float | None  # fresh only: connect() start → session ready
    connect_ttft_s: float | None  # fresh only: connect() start → first text chunk
    response_tokens: int | None
    prompt_tokens: int | None
    cached_tokens: int | None
    decode_tokens_per_s: float | None
    text: str


# ---------------------------------------------------------------------------------------------
# The server under test


# ---------------------------------------------------------------------------------------------
# The client side


def make_client(base_url: str) -> Any:
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key="bench",
        http_options=types.HttpOptions(base_url=base_url, api_version="v1beta"),
    )


def live_config(max_output_tokens: int) -> Any:
    from google.genai import types

    return types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        max_output_tokens=max_output_tokens,
        system_instruction=SYSTEM_INSTRUCTION,
    )


async def one_turn(session: Any, prompt: str, timeout: float) -> dict[str, Any]:
    """Send ``prompt`` and read the reply up to turnComplete. Times are perf_counter values."""
    t_send = time.perf_counter()
    t_first = t_last = None
    pieces: list[str] = []
    usage = None
    async with asyncio.timeout(timeout):
        await session.send_realtime_input(text=prompt)
        async for message in session.receive():
            now = time.perf_counter()
            content = message.server_content
            if content is None:
                continue
            if content.model_turn is not None:
                for part in content.model_turn.parts or []:
                    if part.text:
                        t_first = t_first if t_first is not None else now
                        t_last = now
                        pieces.append(part.text)
            if content.turn_complete:
                usage = message.usage_metadata
                break
    t_done = time.perf_counter()
    return {
        "t_send": t_send,
        "t_first": t_first,
        "t_last": t_last,
        "t_done": t_done,
        "usage": usage,
        "text": "".join(pieces),
    }


def to_turn(
    mode: str,
    index: int,
    prompt: str,
    raw: dict[str, Any],
    connect_start: float | None = None,
    connect_s: float | None = None,
) -> Turn:
    usage = raw["usage"]
    response_tokens = getattr(usage, "response_token_count", None)
    if response_tokens is None:  # Vertex naming, should a server use it
        response_tokens = getattr(usage, "candidates_token_count", None)
    t_first, t_last = raw["t_first"], raw["t_last"]
    rate = None
    if response_tokens and response_tokens > 1 and t_first is not None and t_last > t_first:
        rate = (response_tokens - 1) / (t_last - t_first)
    return Turn(
        mode=mode,
        index=index,
        prompt=prompt,
        ttft_s=None if t_first is None else t_first - raw["t_send"],
        total_s=raw["t_done"] - raw["t_send"],
        connect_s=connect_s,
        connect_ttft_s=(
            None if t_first is None or connect_start is None else t_first - connect_start
        ),
        response_tokens=response_tokens,
        prompt_tokens=getattr(usage, "prompt_token_count", None),
        cached_tokens=getattr(usage, "cached_content_token_count", None),
        decode_tokens_per_s=rate,
        text=raw["text"],
    )


async def run_session(
    client: Any, turns: int, max_tokens: int, timeout: float, console: Console
) -> list[Turn]:
    results: list[Turn] = []
    async with client.aio.live.connect(model=MODEL, config=live_config(max_tokens)) as session:
        for index in range(turns):
            prompt = PROMPTS[index % len(PROMPTS)]
            turn = to_turn("session", index, prompt, await one_turn(session, prompt, timeout))
            results.append(turn)
            console.print(f"[dim]session turn {index + 1}/{turns}: {_line(turn)}[/]")
    return results


async def run_fresh(
    client: Any, sessions: int, max_tokens: int, timeout: float, console: Console
) -> list[Turn]:
    results: list[Turn] = []
    for index in range(sessions):
        prompt = PROMPTS[index % len(PROMPTS)]
        connect_start = time.perf_counter()
        async with asyncio.timeout(timeout):
            async with client.aio.live.connect(
                model=MODEL, config=live_config(max_tokens)
            ) as session:
                connect_s = time.perf_counter() - connect_start
                raw = await one_turn(session, prompt, timeout)
        turn = to_turn("fresh", index, prompt, raw, connect_start, connect_s)
        results.append(turn)
        console.print(f"[dim]fresh session {index + 1}/{sessions}: {_line(turn)}[/]")
    return results


def _line(turn: Turn) -> str:
    ttft = "-" if turn.ttft_s is None else f"{turn.ttft_s * 1000:.0f} ms"
    rate = "-" if turn.decode_tokens_per_s is None else f"{turn.decode_tokens_per_s:.1f} tok/s"
    return (
        f"TTFT {ttft}, total {turn.total_s * 1000:.0f} ms, {turn.response_tokens} tokens, "
        f"{rate}, prompt {turn.prompt_tokens} (cached {turn.cached_tokens})"
    )


# ---------------------------------------------------------------------------------------------
# Numbers


def summary(values: list[float | None]) -> dict[str, float | int | None]:
    data = [value for value in values if value is not None]
    if not data:
        return {"n": 0, "p50": None, "p95": None, "mean": None, "min": None, "max": None}
    if len(data) == 1:
        p50 = p95 = data[0]
    else:
        cuts = statistics.quantiles(data, n=100, method="inclusive")
        p50, p95 = cuts[49], cuts[94]
    return {
        "n": len(data),
        "p50": p50,
        "p95": p95,
        "mean": statistics.fmean(data),
        "min": min(data),
        "max": max(data),
    }


def summarise(turns: list[Turn]) -> dict[str, Any]:
    return {
        "ttft_ms": summary([_ms(turn.ttft_s) for turn in turns]),
        "total_ms": summary([_ms(turn.total_s) for turn in turns]),
        "decode_tokens_per_s": summary([turn.decode_tokens_per_s for turn in turns]),
        "response_tokens": summary([turn.response_tokens for turn in turns]),
        "prompt_tokens": summary([turn.prompt_tokens for turn in turns]),
        "cached_tokens": summary([turn.cached_tokens or 0 for turn in turns]),
        "connect_ms": summary([_ms(turn.connect_s) for turn in turns]),
        "connect_ttft_ms": summary([_ms(turn.connect_ttft_s) for turn in turns]),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def machine() -> dict[str, Any]:
    gpu = None
    if shutil.which("nvidia-smi"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            gpu = (
                subprocess.run(
                    ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                    capture_output=True,
                    text=True,
                    timeout=10,
                ).stdout.strip()
                or None
            )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "gpu": gpu,
        "platform": platform.platform(),
        "processor": _cpu_model() or platform.processor(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def load_average() -> float | None:
    """The 1-minute load: other work on the machine skews every number here, so we record it."""
    with contextlib.suppress(OSError, AttributeError):
        return os.getloadavg()[0]
    return None


def render(report: dict[str, Any], console: Console) -> None:
    info = report["machine"]
    console.print()
    console.print(f"[bold]engine[/]: {report['engine']}")
    console.print(
        f"[bold]machine[/]: {info['cpu_count']} CPUs ({info['usable_cpus']} usable, "
        f"{info['processor']}), GPU: {info['gpu'] or 'none'}, {info['platform']}, "
        f"Python {info['python']}"
    )
    load = report["load_average_1m"]
    console.print(
        f"[bold]load average (1 min)[/]: {_fmt(load['before'])} before the server "
        f"started, {_fmt(load['after'])} at the end (other work on the machine "
        "skews these numbers)"
    )
    console.print(
        f"[bold]client[/]: google-genai {report['client']} over TLS to "
        f"{report['url']}, max_output_tokens={report['max_output_tokens']}"
    )
    table = Table(title="text latency (google-genai Live API, TEXT modality)")
    table.add_column("mode")
    table.add_column("metric")
    for column in ("n", "p50", "p95", "mean", "min", "max"):
        table.add_column(column, justify="right")
    rows = [
        ("session", "TTFT (send → first text) ms", "ttft_ms"),
        ("session", "turn (send → turnComplete) ms", "total_ms"),
        ("session", "decode tokens/s", "decode_tokens_per_s"),
        ("session", "response tokens", "response_tokens"),
        ("session", "prompt tokens", "prompt_tokens"),
        ("session", "cached prompt tokens", "cached_tokens"),
        ("fresh", "connect ms", "connect_ms"),
        ("fresh", "connect → first text ms", "connect_ttft_ms"),
        ("fresh", "TTFT (send → first text) ms", "ttft_ms"),
        ("fresh", "turn (send → turnComplete) ms", "total_ms"),
        ("fresh", "decode tokens/s", "decode_tokens_per_s"),
        ("fresh", "response tokens", "response_tokens"),
        ("fresh", "prompt tokens", "prompt_tokens"),
        ("fresh", "cached prompt tokens", "cached_tokens"),
    ]
    for mode, label, key in rows:
        numbers = report[mode]["summary"][key] if report[mode]["turns"] else None
        if not numbers or not numbers["n"]:
            continue
        table.add_row(
            mode,
            label,
            str(numbers["n"]),
            *(_fmt(numbers[name]) for name in ("p50", "p95", "mean", "min", "max")),
        )
    console.print(table)
    ratio = report["ttft_p50_ratio_fresh_over_session"]
    if ratio is not None:
        session, fresh = report["session"]["summary"], report["fresh"]["summary"]
        console.print(
            f"TTFT p50: fresh session {_fmt(fresh['ttft_ms']['p50'])} ms "
            f"({_prompt(fresh)}) / same session {_fmt(session['ttft_ms']['p50'])} ms "
            f"({_prompt(session)}) = [bold]{ratio:.2f}×[/]"
        )
        console.print(
            "[dim]A warm session sends its whole history every turn; the prompt cache is what "
            "keeps its TTFT near a fresh session's despite the longer prompt.[/]"
        )


def _prompt(summary: dict[str, Any]) -> str:
    prompt, cached = summary["prompt_tokens"]["mean"], summary["cached_tokens"]["mean"]
    if not prompt:
        return "prompt tokens unknown"
    return f"prompt {prompt:.0f} tokens on average, {100 * (cached or 0) / prompt:.0f}% cached"


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


# ---------------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, base_url: str, console: Console) -> dict[str, Any]:
    client = make_client(base_url)
    session_turns = (
        await run_session(client, args.turns, args.max_output_tokens, args.turn_timeout, console)
        if args.turns
        else []
    )
    fresh_turns = (
        await run_fresh(
            client, args.fresh_sessions, args.max_output_tokens, args.turn_timeout, console
        )
        if args.fresh_sessions
        else []
    )
    session_summary, fresh_summary = summarise(session_turns), summarise(fresh_turns)
    ratio = None
    warm, cold = session_summary["ttft_ms"]["p50"], fresh_summary["ttft_ms"]["p50"]
    if warm and cold:
        ratio = cold / warm
    return {
        "session": {"turns": [asdict(turn) for turn in session_turns], "summary": session_summary},
        "fresh": {"turns": [asdict(turn) for turn in fresh_turns], "summary": fresh_summary},
        "ttft_p50_ratio_fresh_over_session": ratio,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=20, help="turns in one session (0: skip)")
    parser.add_argument(
        "--fresh-sessions",
        type=int,
        default=10,
        help="new sessions with one turn each, cold conversation (0: skip)",
    )
    parser.add_argument("--max-output-tokens", type=int, default=64)
    parser.add_argument("--turn-timeout", type=float, default=120.0, help="seconds per turn")
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the server's /healthz",
    )
    parser.add_argument("--url", help="measure a running server (https://host:port)")
    parser.add_argument(
        "--cert-file", type=Path, help="with --url: the CA bundle that trusts it (its bundle.pem)"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    parser.add_argument("--output", type=Path, help="write the numbers as JSON to this file")
    parser.add_argument(
        "--server-args",
        nargs=argparse.REMAINDER,
        default=[],
        help="everything after this goes to `openlive serve`",
    )
    args = parser.parse_args(argv)
    if args.url and not args.cert_file:
        parser.error("--url needs --cert-file (the server's bundle.pem)")
    if args.url and args.server_args:
        parser.error("--server-args only applies to the server this script starts")
    if args.turns < 0 or args.fresh_sessions < 0 or not (args.turns or args.fresh_sessions):
        parser.error("nothing to measure: give --turns and/or --fresh-sessions > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # With --json, stdout carries only the JSON; progress and the table go to stderr.
    console = Console(stderr=args.json)
    if not console.is_terminal:  # piped or logged: do not squeeze the table into 80 columns
        console.width = 120
    load_before = load_average()
    with contextlib.ExitStack() as stack:
        if args.url:
            base_url, bundle = args.url.rstrip("/"), args.cert_file
            status, health = get_health(base_url, bundle)
            if status != 200:
                console.print(f"[red]{base_url}/healthz answered {status}: {health}[/]")
                return 1
        else:
            try:
                base_url, bundle, health, _log = stack.enter_context(
                    own_server(args.server_args, args.startup_timeout, console)
                )
            except RuntimeError as error:
                console.print(str(error), style="red", highlight=False, markup=False)
                return 1
        # google-genai builds its SSL context when the client is made: set this first.
        os.environ["SSL_CERT_FILE"] = str(bundle)
        from google.genai import __version__ as genai_version

        results = asyncio.run(measure(args, base_url, console))
        load_after = load_average()
    report = {
        "benchmark": "text_latency",
        "url": base_url,
        "engine": health.get("llm"),
        "client": genai_version,
        "model": MODEL,
        "max_output_tokens": args.max_output_tokens,
        "machine": machine(),
        "load_average_1m": {"before": load_before, "after": load_after},
        **results,
    }
    render(report, console)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json:
        print(text)
    if args.output:
        args.output.write_text(text + "\n")
        console.print(f"[dim]wrote {args.output}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

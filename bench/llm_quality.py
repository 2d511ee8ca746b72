"""Answer quality and cost of the packaged chat models, through google-genai over TLS, in one run.

For each model (default: SmolLM2-135M, Qwen2.5-Coder-0.5B, Qwen2.5-Coder-1.5B) the script starts
its own ``openlive serve --tls --no-speech --llm embedded:<name>`` and asks a fixed set of short
prompts at temperature 0, each in a fresh session with no system instruction (what a new user
gets), graded automatically by the words of the answer:

* **facts**, **arithmetic**, **language**, a **trick** question: required / forbidden words;
* **one sentence**: "answer in one sentence" is obeyed (one sentence, under 30 words);
* **memory**: a fact given in an earlier turn of the same session is recalled;
* **identity**: asked who it is, the model does not claim to be another company's model;
* **tools**: with functions declared (AUTO), the obvious one is called with the right argument,
  and none is called when none is needed.

Cost, per model: time to first token (p50/p95 over the prompts), decode tokens/s with the
runtime on 1 and on 2 threads (the second server only measures speed), and the server's RSS.

    ./run bench llm_quality
    ./run bench llm_quality --models qwen2.5-coder-1.5b --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from text_latency import make_client, own_server

MODEL = "gemini-live-2.5-flash"
MODELS = ["smollm2", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
MAX_TOKENS = 120


@dataclass(frozen=True)
class Prompt:
    kind: str
    turns: tuple[str, ...]  # earlier turns first; the last one is graded
    must: tuple[str, ...] = ()  # each alternative group: "a|b" means a or b
    must_not: tuple[str, ...] = ()
    one_sentence: bool = False
    call: str | None = None  # tools: the function that must be called ("" = none)
    call_arg: tuple[str, str] | None = None


def p(kind: str, question: str, *must: str, **rest: Any) -> Prompt:
    return Prompt(kind, (question,), must, **rest)


PROMPTS = [
    p("facts", "What is the capital of Japan? Answer briefly.", "tokyo"),
    p("facts", "Who wrote Romeo and Juliet? Answer briefly.", "shakespeare"),
    p("facts", "What is the largest planet in our solar system? Answer briefly.", "jupiter"),
    p("facts", "How many legs does a spider have? Answer briefly.", "eight|8"),
    p("facts", "What gas do plants absorb from the air? Answer briefly.", "carbon dioxide|co2"),
    p("facts", "In which continent is Kenya? Answer briefly.", "africa"),
    p("facts", "What is the boiling point of water in Celsius at sea level?", "100"),
    p("facts", "What is the chemical symbol for gold?", "au"),
    p("arithmetic", "What is 17 plus 25? Reply with the number.", "42"),
    p("arithmetic", "What is 9 times 8? Reply with the number.", "72"),
    p("arithmetic", "What is 100 minus 37? Reply with the number.", "63"),
    p("arithmetic", "If today is Monday, what day is it in three days?", "thursday"),
    p("language", "How do you say 'thank you' in Spanish?", "gracias"),
    p("language", "Translate 'good night' into French.", "bonne nuit"),
    p(
        "trick",
        "Which is heavier, a kilogram of feathers or a kilogram of iron?",
        "same|equal|neither|both",
    ),
    p("one sentence", "In one sentence, why is the sky blue?", one_sentence=True),
    p("one sentence", "In one short sentence, what is a volcano?", one_sentence=True),
    p("one sentence", "Answer in one sentence: what does a bee make?", "honey", one_sentence=True),
    Prompt("memory", ("My name is Priya and I live in Lisbon.", "What is my name?"), ("priya",)),
    Prompt("memory", ("My favourite colour is green.", "What is my favourite colour?"), ("green",)),
    p("identity", "Who are you? Answer in one sentence.", must_not=("openai", "chatgpt", "gpt-")),
    p(
        "tools",
        "What's the weather in Paris right now?",
        call="get_weather",
        call_arg=("city", "paris"),
    ),
    p("tools", "Set a timer for 10 minutes.", call="set_timer", call_arg=("minutes", "10")),
    p(
        "tools",
        "Is it raining in Berlin at the moment?",
        call="get_weather",
        call_arg=("city", "berlin"),
    ),
    p("tools", "What is 2 plus 2?", "4|four", call=""),
    p("tools", "Tell me a fun fact about octopuses.", call=""),
]

FUNCTIONS = [
    {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}},
            "required": ["city"],
        },
    },
    {
        "name": "set_timer",
        "description": "Start a countdown timer.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"minutes": {"type": "INTEGER"}},
            "required": ["minutes"],
        },
    },
]


@dataclass
class Answer:
    model: str
    kind: str
    question: str
    text: str
    call: str | None
    args: dict[str, Any]
    right: bool
    ttft_s: float | None
    tokens: int | None
    decode_tps: float | None


@dataclass
class Cost:
    model: str
    threads: int
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    decode_tps_p50: float | None
    rss_mib: float | None
    answers: list[Answer] = field(default_factory=list)


def grade(prompt: Prompt, text: str, call: str | None, args: dict[str, Any]) -> bool:
    lowered = text.lower()
    if prompt.call is not None:
        if (call or "") != prompt.call:
            return False
        if prompt.call_arg is not None:
            key, expected = prompt.call_arg
            if expected not in str(args.get(key, "")).lower():
                return False
        if prompt.call:
            return True
    if not all(any(option in lowered for option in group.split("|")) for group in prompt.must):
        return False
    if any(word in lowered for word in prompt.must_not):
        return False
    if prompt.one_sentence:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
        if len(sentences) > 1 or len(text.split()) > 30:
            return False
    return True


async def ask(client: Any, prompt: Prompt, model: str) -> Answer:
    from google.genai import types

    tools = [types.Tool(function_declarations=FUNCTIONS)] if prompt.call is not None else None
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        temperature=0.0,
        max_output_tokens=MAX_TOKENS,
        tools=tools,
    )
    ttft = tokens = decode = None
    text, call, args = "", None, {}
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        for index, turn in enumerate(prompt.turns):
            last = index == len(prompt.turns) - 1
            sent = time.perf_counter()
            first = last_chunk = None
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text=turn)])
            )
            async for message in session.receive():
                if message.text and last:
                    now = time.perf_counter()
                    first = first or now
                    last_chunk = now
                    text += message.text
                if message.tool_call and last:
                    first = first or time.perf_counter()
                    called = message.tool_call.function_calls[0]
                    call, args = called.name, dict(called.args or {})
                    await session.send_tool_response(
                        function_responses=[
                            types.FunctionResponse(
                                id=called.id, name=called.name, response={"result": "ok"}
                            )
                        ]
                    )
                usage = message.usage_metadata
                if last and usage and usage.response_token_count:
                    tokens = usage.response_token_count
            if last and first is not None:
                ttft = first - sent
                if tokens and last_chunk and last_chunk > first and tokens > 1:
                    decode = (tokens - 1) / (last_chunk - first)
    return Answer(
        model, prompt.kind, prompt.turns[-1], text.strip(), call, args,
        grade(prompt, text, call, args), ttft, tokens, decode,
    )  # fmt: skip


def server_rss_mib(port: int) -> float | None:
    """Resident memory of the ``openlive serve`` process listening on ``port``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in cmdline and str(port).encode() in cmdline:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            continue
    return None


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(name: str, threads: int, prompts: list[Prompt], console: Console) -> Cost:
    os.environ["OPENLIVE_LLM_THREADS"] = str(threads)
    args = ["--no-speech", "--llm", f"embedded:{name}"]
    with own_server(args, 300, console) as (base_url, bundle, _health, _log):
        os.environ["SSL_CERT_FILE"] = str(bundle)
        client = make_client(base_url)
        answers = [await ask(client, prompt, name) for prompt in prompts]
        rss = server_rss_mib(int(base_url.rsplit(":", 1)[1]))
    ttfts = [a.ttft_s for a in answers if a.ttft_s is not None]
    rates = [a.decode_tps for a in answers if a.decode_tps is not None]
    return Cost(
        name,
        threads,
        quantile(ttfts, 0.5),
        quantile(ttfts, 0.95),
        statistics.median(rates) if rates else None,
        rss,
        answers,
    )


def fmt(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


async def main_async(args: argparse.Namespace) -> int:
    console = Console(width=150)
    console.print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    speed_prompts = [prompt for prompt in PROMPTS if prompt.kind in ("facts", "one sentence")]
    results: list[Cost] = []
    for name in args.models:
        console.print(f"[bold]{name}[/]: quality and cost on 1 thread")
        results.append(await measure(name, 1, PROMPTS, console))
        console.print(f"[bold]{name}[/]: speed on 2 threads")
        results.append(await measure(name, 2, speed_prompts, console))

    kinds = list(dict.fromkeys(prompt.kind for prompt in PROMPTS))
    table = Table(title="Answers graded right (temperature 0, no client system instruction)")
    table.add_column("model")
    for kind in [*kinds, "total"]:
        table.add_column(kind, justify="right")
    for cost in results:
        if cost.threads != 1:
            continue
        row = [cost.model]
        for kind in kinds:
            marks = [a.right for a in cost.answers if a.kind == kind]
            row.append(f"{sum(marks)}/{len(marks)}")
        row.append(f"{sum(a.right for a in cost.answers)}/{len(cost.answers)}")
        table.add_row(*row)
    console.print(table)

    cost_table = Table(title="Cost (text, embedded runtime)")
    for column in ("model", "threads", "TTFT p50 ms", "TTFT p95 ms", "decode tok/s", "RSS MiB"):
        cost_table.add_column(column, justify="right")
    for cost in results:
        cost_table.add_row(
            cost.model,
            str(cost.threads),
            fmt(cost.ttft_p50_s, 1000),
            fmt(cost.ttft_p95_s, 1000),
            fmt(cost.decode_tps_p50, digits=1),
            fmt(cost.rss_mib),
        )
    console.print(cost_table)
    if args.show_answers:
        for cost in results:
            for answer in cost.answers if cost.threads == 1 else []:
                mark = "✓" if answer.right else "✗"
                said = answer.text or f"call {answer.call}({answer.args})"
                console.print(f"{mark} {cost.model} | {answer.question} → {said[:100]!r}")
    if args.json:
        print(json.dumps([asdict(cost) for cost in results], indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show-answers", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

"""Function-calling accuracy and latency through the official google-genai client, over TLS.

A fixed set of prompts against six declared functions (OpenAPI-style ``parameters``, as google-genai
sends them), each in a fresh session at temperature 0 (greedy decoding, repeatable):

* **right function**: for prompts that need one, the first call names it;
* **valid args**: the call's arguments validate against the declared schema (``jsonschema``), and
  **expected values**: they contain the values the prompt gave (city, amount, ...);
* **no call**: prompts that need no function get an answer, not a call;
* **latency**: end of the user turn (the text is sent) → ``toolCall`` received, p50/p95; and for
  answered prompts send → first text, to compare how constrained replies stream.

By default the script starts its own ``openlive serve --tls --no-speech`` (the embedded default
model) and stops it at the end; ``--server-args`` passes anything else to it.

    ./run bench tool_calls
    ./run bench tool_calls --reply-mode two_step
    ./run bench tool_calls --json --server-args --llm openai:http://127.0.0.1:11434/v1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jsonschema
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from text_latency import make_client, own_server

MODEL = "gemini-live-2.5-flash"


def _object(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {"type": "OBJECT", "properties": properties, "required": required}


STRING, INTEGER, NUMBER = {"type": "STRING"}, {"type": "INTEGER"}, {"type": "NUMBER"}
FUNCTIONS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": _object(
            {"city": STRING, "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]}},
            ["city"],
        ),
    },
    {
        "name": "set_timer",
        "description": "Start a countdown timer.",
        "parameters": _object({"minutes": INTEGER, "label": STRING}, ["minutes"]),
    },
    {
        "name": "send_email",
        "description": "Send an email to someone.",
        "parameters": _object({"to": STRING, "subject": STRING, "body": STRING}, ["to", "body"]),
    },
    {
        "name": "play_music",
        "description": "Play a song or an artist's music.",
        "parameters": _object({"song": STRING, "artist": STRING}, ["song"]),
    },
    {
        "name": "convert_currency",
        "description": "Convert an amount of money from one currency to another.",
        "parameters": _object(
            {"amount": NUMBER, "from_currency": STRING, "to_currency": STRING},
            ["amount", "from_currency", "to_currency"],
        ),
    },
    {
        "name": "turn_on_lights",
        "description": "Switch on the lights in a room of the house.",
        "parameters": _object({"room": STRING}, ["room"]),
    },
]

# (prompt, expected function or None, values its args should contain)
CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("What's the weather in Paris?", "get_weather", {"city": "Paris"}),
    ("Is it raining in Tokyo right now?", "get_weather", {"city": "Tokyo"}),
    ("How cold is it in Oslo today?", "get_weather", {"city": "Oslo"}),
    ("Tell me the weather forecast for Madrid in fahrenheit.", "get_weather", {"city": "Madrid"}),
    ("Do I need an umbrella in London today?", "get_weather", {"city": "London"}),
    ("Set a timer for 10 minutes.", "set_timer", {"minutes": 10}),
    ("Start a 5 minute timer for the pasta.", "set_timer", {"minutes": 5}),
    ("Remind me in 20 minutes with a timer.", "set_timer", {"minutes": 20}),
    ("Send an email to bob@example.com saying the meeting moved to 3pm.", "send_email", {}),
    ("Email alice@example.com that I will be late.", "send_email", {"to": "alice@example.com"}),
    ("Write to carol@example.com: thanks for the flowers!", "send_email", {}),
    ("Play Bohemian Rhapsody.", "play_music", {"song": "Bohemian Rhapsody"}),
    ("Put on Yesterday by the Beatles.", "play_music", {"song": "Yesterday"}),
    ("I want to hear some Taylor Swift.", "play_music", {}),
    ("How much is 100 dollars in euros?", "convert_currency", {"amount": 100}),
    ("Convert 50 GBP to JPY.", "convert_currency", {"amount": 50}),
    ("What are 2500 yen in US dollars?", "convert_currency", {"amount": 2500}),
    ("Turn on the lights in the kitchen.", "turn_on_lights", {"room": "kitchen"}),
    ("Switch the bedroom lights on, please.", "turn_on_lights", {"room": "bedroom"}),
    ("It's dark in the living room, lights on!", "turn_on_lights", {"room": "living room"}),
    ("What's the weather like in Berlin this morning?", "get_weather", {"city": "Berlin"}),
    ("Set a timer for one hour.", "set_timer", {}),
    ("Tell me a joke.", None, {}),
    ("What is the capital of France?", None, {}),
    ("Hello, how are you?", None, {}),
    ("What is 2 plus 2?", None, {}),
    ("Who wrote Hamlet?", None, {}),
    ("Thanks, that's all.", None, {}),
    ("Explain why the sky is blue in one sentence.", None, {}),
    ("Give me a synonym for happy.", None, {}),
    ("What's your name?", None, {}),
    ("Write a haiku about the sea.", None, {}),
]


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The declared OpenAPI-style schema as JSON Schema, for validating the calls."""
    out = {k: v for k, v in schema.items() if k != "properties"}
    out["type"] = schema["type"].lower()
    if "properties" in schema:
        out["properties"] = {k: json_schema(v) for k, v in schema["properties"].items()}
    return out


SCHEMAS = {f["name"]: json_schema(f["parameters"]) for f in FUNCTIONS}


@dataclass
class Result:
    prompt: str
    expected: str | None
    called: list[str]
    args: dict[str, Any] | None
    args_valid: bool | None
    values_match: bool | None
    call_s: float | None  # send → toolCall
    first_text_s: float | None  # send → first text (answered prompts)
    text: str

    @property
    def right_function(self) -> bool:
        return (self.called[:1] == [self.expected]) if self.expected else not self.called

    @property
    def correct(self) -> bool:
        if self.expected is None:
            return not self.called
        return self.right_function and bool(self.args_valid)


def config(max_output_tokens: int) -> Any:
    from google.genai import types

    return types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        max_output_tokens=max_output_tokens,
        temperature=0.0,
        tools=[
            types.Tool(function_declarations=[types.FunctionDeclaration(**f) for f in FUNCTIONS])
        ],
    )


def values_match(args: dict[str, Any], expected: dict[str, Any]) -> bool:
    return all(
        str(value).lower() in str(args.get(key, "")).lower() for key, value in expected.items()
    )


async def one(client: Any, case: tuple[str, str | None, dict[str, Any]], timeout: float) -> Result:
    from google.genai import types

    prompt, expected, values = case
    called: list[str] = []
    args: dict[str, Any] | None = None
    call_s = first_text_s = None
    text = ""
    async with client.aio.live.connect(model=MODEL, config=config(40)) as session:
        sent = time.perf_counter()
        await session.send_realtime_input(text=prompt)
        async with asyncio.timeout(timeout):
            async for message in session.receive():
                now = time.perf_counter() - sent
                if message.tool_call and not called:
                    call_s = now
                    calls = message.tool_call.function_calls
                    called = [call.name for call in calls]
                    args = dict(calls[0].args or {})
                    await session.send_tool_response(
                        function_responses=[
                            types.FunctionResponse(id=c.id, name=c.name, response={"ok": True})
                            for c in calls
                        ]
                    )
                content = message.server_content
                if content and content.model_turn and not called:
                    if first_text_s is None:
                        first_text_s = now
                    text += "".join(part.text or "" for part in content.model_turn.parts or [])
    valid = None
    if called and args is not None and called[0] in SCHEMAS:
        try:
            jsonschema.validate(args, SCHEMAS[called[0]])
            valid = True
        except jsonschema.ValidationError:
            valid = False
    matched = values_match(args, values) if (called and args is not None and expected) else None
    return Result(prompt, expected, called, args, valid, matched, call_s, first_text_s, text)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summarise(results: list[Result]) -> dict[str, Any]:
    needing = [r for r in results if r.expected]
    plain = [r for r in results if not r.expected]
    calls = [r for r in results if r.called]
    call_times = [r.call_s for r in results if r.call_s is not None]
    text_times = [r.first_text_s for r in results if r.first_text_s is not None]

    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "n/a"

    return {
        "accuracy": share(sum(r.correct for r in results), len(results)),
        "right_function": share(sum(r.right_function for r in needing), len(needing)),
        "valid_args": share(sum(bool(r.args_valid) for r in calls), len(calls)),
        "expected_values": share(sum(bool(r.values_match) for r in needing), len(needing)),
        "no_call_when_none_needed": share(sum(not r.called for r in plain), len(plain)),
        "calls_made": len(calls),
        "tool_call_p50_ms": _ms(percentile(call_times, 50)),
        "tool_call_p95_ms": _ms(percentile(call_times, 95)),
        "first_text_p50_ms": _ms(percentile(text_times, 50)),
        "first_text_p95_ms": _ms(percentile(text_times, 95)),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def render(report: dict[str, Any], console: Console) -> None:
    table = Table(title="Per prompt", show_lines=False)
    for column in ("prompt", "expected", "called", "args", "valid", "call ms", "text ms"):
        table.add_column(column)
    for r in report["results"]:
        table.add_row(
            r["prompt"][:44],
            r["expected"] or "—",
            ",".join(r["called"]) or "—",
            json.dumps(r["args"])[:40] if r["args"] is not None else "",
            "" if r["args_valid"] is None else ("yes" if r["args_valid"] else "NO"),
            f"{r['call_s'] * 1000:.0f}" if r["call_s"] is not None else "",
            f"{r['first_text_s'] * 1000:.0f}" if r["first_text_s"] is not None else "",
        )
    console.print(table)
    summary = Table(title=f"Summary ({report['llm']}, reply mode {report['reply_mode']})")
    summary.add_column("metric")
    summary.add_column("value")
    for key, value in report["summary"].items():
        summary.add_row(key, str(value))
    console.print(summary)


async def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    os.environ["OPENLIVE_LLM_TOOLS_REPLY"] = args.reply_mode  # the server inherits it
    extra = ["--no-speech", *args.server_args]
    with own_server(extra, args.startup_timeout, console) as (base_url, bundle, health, _log):
        os.environ["SSL_CERT_FILE"] = str(bundle)
        client = make_client(base_url)
        results = []
        for case in CASES:
            result = await one(client, case, args.timeout)
            results.append(result)
            if not args.json:
                mark = "ok " if result.correct else "MISS"
                console.print(f"{mark} {case[0][:50]:50s} → {result.called or 'reply'}")
    return {
        "llm": health.get("llm", "?"),
        "reply_mode": args.reply_mode,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "summary": summarise(results),
        "results": [asdict(r) for r in results],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reply-mode", choices=["inline", "two_step"], default="inline")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    console = Console(stderr=args.json)
    report = asyncio.run(run(args, console))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report, console)


if __name__ == "__main__":
    main()

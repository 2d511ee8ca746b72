"""Per-turn OpenTelemetry spans from a turn's recorded times, on the SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openlive.server.telemetry import TurnSpans, otlp_turn_spans
from openlive.session.trace import ToolCallSpan, TurnRecord, TurnTrace
from openlive.settings import Settings


def exported(record: TurnRecord, trace: TurnTrace) -> dict[str, object]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    TurnSpans(provider)(record, trace)
    return {span.name: span for span in exporter.get_finished_spans()}


def test_a_spoken_turn_has_a_span_per_stage_under_one_turn_span() -> None:
    t = time.monotonic() - 10
    trace = TurnTrace(
        speech_end=t,
        turn_end=t + 0.3,
        transcript_ready=t + 0.4,
        reply_start=t + 0.41,
        first_token=t + 0.9,
        first_audio=t + 1.2,
        playback_end=t + 4.0,
        ended=t + 4.1,
    )
    trace.tool_calls.append(ToolCallSpan(("get_weather",), t + 0.5, t + 0.8))
    spans = exported(TurnRecord("sess-1", 3, "AUDIO", "played"), trace)

    assert set(spans) == {
        "turn",
        "endpointing",
        "asr",
        "llm_first_token",
        "tts_first_chunk",
        "playout",
        "tool_call",
    }
    root = spans["turn"]
    assert dict(root.attributes) == {
        "openlive.session_id": "sess-1",
        "openlive.turn": 3,
        "openlive.modality": "AUDIO",
        "openlive.outcome": "played",
    }
    for name, span in spans.items():
        if name == "turn":
            continue
        assert span.parent is not None and span.parent.span_id == root.context.span_id, name
        assert span.context.trace_id == root.context.trace_id
        assert span.attributes["openlive.session_id"] == "sess-1"
        assert root.start_time <= span.start_time <= span.end_time <= root.end_time, name

    def ms(name: str) -> float:
        return (spans[name].end_time - spans[name].start_time) / 1e6

    assert abs(ms("endpointing") - 300) < 1
    assert abs(ms("llm_first_token") - 490) < 1
    assert abs(ms("playout") - 2800) < 1
    assert abs(ms("tool_call") - 300) < 1
    assert spans["tool_call"].attributes["openlive.tool.names"] == ("get_weather",)
    # The turn starts where the user stopped speaking.
    assert spans["turn"].start_time == spans["endpointing"].start_time


def test_a_text_turn_has_only_the_stages_it_went_through() -> None:
    t = time.monotonic()
    trace = TurnTrace(reply_start=t, first_token=t + 0.2, ended=t + 0.5)
    spans = exported(TurnRecord("sess-2", 1, "TEXT", "generation_done"), trace)
    assert set(spans) == {"turn", "llm_first_token"}


def test_an_interrupted_reply_plays_out_only_until_the_interruption() -> None:
    t = time.monotonic()
    trace = TurnTrace(reply_start=t, first_token=t + 0.1, first_audio=t + 0.2)
    trace.playback_end, trace.ended = t + 9.0, t + 1.2
    spans = exported(TurnRecord("sess-3", 2, "AUDIO", "interrupted"), trace)
    assert abs((spans["playout"].end_time - spans["playout"].start_time) / 1e6 - 1000) < 1


def test_tracing_is_off_without_an_endpoint() -> None:
    assert otlp_turn_spans(Settings(otlp_endpoint="")) is None


def test_no_opentelemetry_module_is_loaded_when_tracing_is_off(tmp_path) -> None:
    """Off means free: a server without an endpoint never loads the tracing SDK or an
    exporter. (redis-py imports OpenTelemetry's metrics SDK when it is installed: not ours.)"""
    code = (
        "import sys\n"
        "TRACING = ('opentelemetry.sdk.trace', 'opentelemetry.exporter')\n"
        "from openlive.server.app import create_app\n"
        "from openlive.server.runtime import Runtime\n"
        "from openlive.settings import Settings\n"
        f"settings = Settings(speech=False, llm='embedded:smollm2', data_dir={str(tmp_path)!r})\n"
        "runtime = Runtime(settings)\n"
        "assert runtime.turn_spans is None and runtime.services.trace_turn is None\n"
        "print(sorted(m for m in sys.modules if m.startswith(TRACING)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout

"""Per-turn OpenTelemetry traces (``--otlp-endpoint``): where one slow turn spent its time.

Each model turn becomes one trace: a ``turn`` span with the session id, the turn number, the
modality and how it ended, and one child span per stage the turn went through, drawn from the
turn's :class:`~openlive.session.trace.TurnTrace` once it is over:

==================  ===========================================================================
``endpointing``     the user's last speech → the endpointer decided the turn was over
``asr``             → the final transcript was ready
``llm_first_token`` the LLM request went out → its first text
``tts_first_chunk`` the first text → the first reply audio queued for the socket
``playout``         the first audio → the client's playback ends (or the turn was cut off)
``tool_call``       a ``toolCall`` went out → the client answered (blocking calls)
==================  ===========================================================================

The spans are made after the turn, with the times it recorded, so the session's hot path only
fills in a few floats; with no endpoint configured no OpenTelemetry module is even imported.
Export is batched in the SDK's own thread (OTLP over HTTP/protobuf, ``pip install
openlive[otel]``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..session.trace import TurnRecord, TurnTrace
from ..settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)


class TelemetryUnavailable(RuntimeError):
    """``--otlp-endpoint`` is set but the OpenTelemetry packages are not installed."""


class TurnSpans:
    """Turns → spans on ``provider`` (the SDK's; tests give it an in-memory exporter)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("openlive")

    def __call__(self, record: TurnRecord, trace: TurnTrace) -> None:
        from opentelemetry import trace as otel

        # The turn's times are on the monotonic clock; spans want the wall clock in ns.
        offset_ns = time.time_ns() - int(time.monotonic() * 1e9)

        def ns(moment: float) -> int:
            return int(moment * 1e9) + offset_ns

        stages = _stages(trace)
        end = trace.ended if trace.ended is not None else time.monotonic()
        start = min([end, *(begin for _, begin, _ in stages)])
        root = self._tracer.start_span(
            "turn",
            start_time=ns(start),
            attributes={
                "openlive.session_id": record.session_id,
                "openlive.turn": record.turn,
                "openlive.modality": record.modality,
                "openlive.outcome": record.outcome,
            },
        )
        parent = otel.set_span_in_context(root)
        for name, begin, finish in stages:
            span = self._tracer.start_span(
                name,
                context=parent,
                start_time=ns(begin),
                attributes={"openlive.session_id": record.session_id, "openlive.turn": record.turn},
            )
            span.end(end_time=ns(finish))
        for call in trace.tool_calls:
            span = self._tracer.start_span(
                "tool_call",
                context=parent,
                start_time=ns(call.sent),
                attributes={
                    "openlive.session_id": record.session_id,
                    "openlive.turn": record.turn,
                    "openlive.tool.names": list(call.names),
                    "openlive.tool.blocking": call.answered is not None,
                },
            )
            span.end(end_time=ns(call.answered if call.answered is not None else call.sent))
        root.end(end_time=ns(max(end, *(finish for _, _, finish in stages))))

    def shutdown(self) -> None:
        """Export what is still queued (the server is stopping)."""
        self.provider.shutdown()


def _stages(trace: TurnTrace) -> list[tuple[str, float, float]]:
    """(name, start, end) of each stage whose two ends the turn recorded."""
    playout_end = trace.playback_end
    if playout_end is not None and trace.ended is not None:
        playout_end = min(playout_end, trace.ended)  # cut off: the user heard no more
    points = [
        ("endpointing", trace.speech_end, trace.turn_end),
        ("asr", trace.turn_end, trace.transcript_ready),
        ("llm_first_token", trace.reply_start, trace.first_token),
        ("tts_first_chunk", trace.first_token, trace.first_audio),
        ("playout", trace.first_audio, playout_end),
    ]
    return [
        (name, start, end)
        for name, start, end in points
        if start is not None and end is not None and end >= start
    ]


def otlp_turn_spans(settings: Settings) -> TurnSpans | None:
    """The exporter ``settings.otlp_endpoint`` asks for, or None (tracing off)."""
    endpoint = settings.otlp_endpoint.strip().rstrip("/")
    if not endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise TelemetryUnavailable(
            f"--otlp-endpoint needs the OpenTelemetry SDK: pip install 'openlive[otel]' ({error})"
        ) from error
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    log.info("per-turn traces exported over OTLP/HTTP to %s", endpoint)
    return TurnSpans(provider)

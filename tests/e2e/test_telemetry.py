"""``--otlp-endpoint``: a real server exports one trace per turn over OTLP/HTTP (the SDK's
protobuf exporter) to a collector endpoint; here the collector is a loopback HTTP receiver of
the test's own that decodes what arrives with OpenTelemetry's own protobuf classes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ..genai_helpers import MODEL, client_for, receive_turn, text_config, user_text
from ..servers import free_port


class Collector:
    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.requests.append(request)
                collector.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def spans(self) -> list[tuple[str, dict[str, object], object]]:
        found = []
        for request in self.requests:
            for resource in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {
                            a.key: a.value.string_value or a.value.int_value
                            for a in span.attributes
                        }
                        attributes["service.name"] = service.get("service.name")
                        found.append((span.name, attributes, span))
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    thread = threading.Thread(target=collector.server.serve_forever, daemon=True)
    thread.start()
    yield collector
    collector.server.shutdown()
    collector.server.server_close()


async def test_each_turn_is_exported_as_a_trace(server_factory, collector: Collector) -> None:
    server = server_factory("--otlp-endpoint", collector.url)
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
        await session.send_client_content(turns=user_text("First traced turn"))
        await receive_turn(session)
        await session.send_realtime_input(text="Second traced turn")
        await receive_turn(session)
    server.stop()  # the exporter flushes on shutdown

    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    spans = collector.spans()
    turns = [attributes for name, attributes, _ in spans if name == "turn"]
    assert len(turns) == 2, spans
    assert {t["service.name"] for t in turns} == {"openlive"}
    assert turns[0]["openlive.session_id"] == turns[1]["openlive.session_id"] != ""
    assert turns[0]["openlive.turn"] != turns[1]["openlive.turn"]
    assert {t["openlive.modality"] for t in turns} == {"TEXT"}
    roots = {span.span_id: span for name, _, span in spans if name == "turn"}
    firsts = [span for name, _, span in spans if name == "llm_first_token"]
    assert len(firsts) == 2
    for span in firsts:
        parent = roots[span.parent_span_id]
        assert parent.trace_id == span.trace_id
        assert parent.start_time_unix_nano <= span.start_time_unix_nano
        assert span.end_time_unix_nano <= parent.end_time_unix_nano

"""A real OpenAI-compatible chat server for tests: llama.cpp's HTTP server (xllamacpp) on the
packaged placeholder weights. Usage: python -m tests.llm_http_server PORT"""

from __future__ import annotations

import sys
import threading

import xllamacpp

from openlive.engines.llm.model_source import packaged_placeholder


def main() -> None:
    port = int(sys.argv[1])
    params = xllamacpp.CommonParams()
    params.model.path = str(packaged_placeholder().path)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 8192
    params.n_parallel = 2
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.verbosity = -1
    server = xllamacpp.Server(params)
    print(f"listening on {server.listening_address}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()

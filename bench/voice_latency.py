"""Voice-to-voice and barge-in latency through google-genai (also: ``openlive bench latency``)."""

from openlive.benchmarks.latency import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Turn taking: cut-offs in mid-sentence pauses and the endpointing delay, old vs new rules."""

from openlive.benchmarks.turn_taking import main

if __name__ == "__main__":
    raise SystemExit(main())

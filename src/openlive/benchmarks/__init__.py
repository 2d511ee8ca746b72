"""Benchmarks shipped with the package (``openlive bench ...``): they print numbers."""

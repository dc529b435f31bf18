"""Benchmarks: scripts that measure, never tests. `make bench` runs `python -m fl.tools.bench suite`."""

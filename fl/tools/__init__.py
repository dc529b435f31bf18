"""Tools on top of runs: comparisons, tables, benchmarks."""

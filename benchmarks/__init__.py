"""Benchmarks: each bench_*.py prints measured figures; `make bench` runs them all."""

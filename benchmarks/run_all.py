"""Run every benchmark and print its ratio against the anchors measured in the same run:
python benchmarks/run_all.py (exit code 1 if any target is not met)."""
from __future__ import annotations

import sys

import bench_check
import bench_derivation
import bench_engine
import bench_full_batch
import bench_html
import bench_memory
import bench_render
import bench_variants

if __name__ == "__main__":
    results = [module.main() for module in (bench_engine, bench_render, bench_html, bench_derivation, bench_full_batch,
                                                 bench_memory, bench_check,
                                                 bench_variants)]
    sys.exit(0 if all(results) else 1)

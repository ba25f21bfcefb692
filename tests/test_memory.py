"""Memory grows with what a run keeps, not with the square of the rows (measured, not timed)."""
from __future__ import annotations

import tracemalloc

import numpy as np

import derive
from derive.api import compile_problem


def test_batched_run_in_order_keeps_memory_linear_in_the_rows():
    # Each step once kept a view of a fresh full-length index array: 100 steps of 100,000 rows
    # held 100 x 800 kB. What a run keeps is one row of outputs (and its index) per row fed.
    n = 100_000
    rng = np.random.default_rng(0)
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"yhat": "w*x + b", "L": "(yhat - y)**2"}, loss="L",
        params={"w": 0.1, "b": 0.0}, data={"x": rng.normal(size=n), "y": rng.normal(size=n)},
        learning_rate=0.01, training={"batch_size": 1000, "shuffle": False})
    compiled = compile_problem(problem)
    tracemalloc.start()
    try:
        trace = compiled.train()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(trace.steps) == 100
    kept = n * (compiled.layout.width + 1) * 8  # every row's outputs and its row number
    assert peak <= 2 * kept, f"peak {peak / 1e6:.0f} MB for {kept / 1e6:.0f} MB of numbers kept"

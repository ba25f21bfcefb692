"""Memory grows with what a run keeps, not with the square of the rows (measured, not timed)."""
from __future__ import annotations

import tracemalloc

import numpy as np

import derive
from derive import api
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


def _report_peak(epochs: int) -> int:
    """Peak memory (bytes, tracemalloc) of training 4 rows for `epochs` epochs and writing its
    Markdown report; the model is compiled before measuring."""
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"yhat": "w*x + b", "L": "(yhat - y)**2"}, loss="L",
        params={"w": 0.1, "b": 0.0}, data={"x": [1.0, 2.0, -1.0, 0.5], "y": [1.0, 0.0, 2.0, 1.5]},
        learning_rate=0.01, training={"epochs": epochs})
    compiled = compile_problem(problem)
    assert compiled.loop is not None  # the generated loop is made once, before measuring
    tracemalloc.start()
    try:
        trace = api.train_compiled(compiled, "markdown")
        report = api.render(trace, "markdown")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert trace.n_steps == 4 * epochs and "## The final model" in report
    return peak


def test_a_long_run_for_a_report_holds_what_the_report_shows_not_every_step():
    # Every step held cost some 240 bytes: 80,000 steps would hold 17 MB more than 8,000. The
    # report keeps its first steps, a sample and running facts; the rest goes as it is made.
    _report_peak(10)  # the templates are loaded once, by the first report
    short, long = _report_peak(2_000), _report_peak(20_000)
    assert long < 1.5 * short, f"peak {long / 1e6:.1f} MB for 80,000 steps, {short / 1e6:.1f} MB for 8,000"

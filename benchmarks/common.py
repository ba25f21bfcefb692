"""Shared helpers for the benchmarks: best-of interleaved timing and seed A's model at any size."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

import derive
from derive.api import compile_problem


def interleaved(functions, repeats: int = 5, before=None) -> list[float]:
    """The fastest of `repeats` runs of each function, in seconds, taken in turns (one run of each,
    then again), so that every side meets the same load on a shared machine; `before`, if given,
    is called before each run, outside its time."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, kept in zip(functions, times):
            if before is not None:
                before()
            start = time.perf_counter()
            function()
            kept.append(time.perf_counter() - start)
    return [min(kept) for kept in times]


def command(arguments: list[str], codes: tuple[int, ...] = (0,)):
    """A function running `derive ARGUMENTS` in a fresh process, stopping the benchmark with its
    error when the exit code is not one of `codes`."""
    def run() -> None:
        result = subprocess.run([sys.executable, "-m", "derive", *arguments], capture_output=True, text=True)
        if result.returncode not in codes:
            raise SystemExit(result.stderr)
    return run


def seed_a_data(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 0.5 * x1 - 0.3 * x2 + 0.1 + rng.normal(scale=0.1, size=n)
    return {"x1": x1, "x2": x2, "y": y}


def seed_a_problem(n: int, **training) -> derive.Problem:
    """Seed A's model and starting point on n rows of synthetic data."""
    return derive.Problem.build(
        inputs=["x1", "x2"], targets=["y"], nodes={"yhat": "w1*x1 + w2*x2 + b", "L": "(yhat - y)**2"}, loss="L",
        params={"w1": -0.017, "w2": -0.048, "b": 0.0}, data=seed_a_data(n), learning_rate=0.01,
        training=training or None)


def verdict(name: str, ratio: float, target: str, ok: bool) -> str:
    return f"{name:<12} {ratio:8.2f}x   target {target:<8} {'met' if ok else 'NOT met'}"


def network_spec(widths: list[int], n_rows: int = 4) -> dict:
    """A sigmoid network of explicit nodes, e.g. [2, 16, 16, 1]: h<layer>_<j> = sigmoid(sum w x + b)."""
    rng = np.random.default_rng(0)
    inputs = [f"x{i}" for i in range(widths[0])]
    nodes, params, previous = {}, {}, inputs
    for layer, width in enumerate(widths[1:], start=1):
        names = []
        for j in range(width):
            terms = []
            for i, source in enumerate(previous):
                w = f"w{layer}_{i:02d}_{j:02d}"  # w2_1_10 and w2_11_0 would print alike
                params[w] = float(rng.normal(scale=0.5))
                terms.append(f"{w}*{source}")
            params[f"b{layer}_{j}"] = 0.0
            name = f"h{layer}_{j}"
            nodes[name] = f"sigmoid({' + '.join(terms)} + b{layer}_{j})"
            names.append(name)
        previous = names
    nodes["L"] = f"({previous[0]} - y)**2"
    data = {x: rng.normal(size=n_rows).tolist() for x in inputs}
    data["y"] = rng.uniform(size=n_rows).tolist()
    return dict(inputs=inputs, targets=["y"], nodes=nodes, loss="L", params=params, data=data, learning_rate=0.1)


def load(spec: dict):
    """Build, derive and compile: everything done once before training."""
    compiled = compile_problem(derive.Problem.build(**spec))
    compiled.loop  # noqa: B018 (made on first use)
    return compiled

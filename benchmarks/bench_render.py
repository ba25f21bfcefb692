"""Rendering: a Markdown report of 1,000 steps of seed A's model, every step in full, against
printing six of its formulas (yhat, L, dL/dyhat and the three updates), symbolic and with each
step's numbers substituted, with SymPy's latex(), best of interleaved repetitions; and the size and writing time of a full-batch
report over 200,000 rows against the time its training takes."""
from __future__ import annotations

import dataclasses
import sys
import time

import sympy

from common import seed_a_problem, verdict

import derive
from derive import api

N = 1000


def sympy_latex_per_step(trace, steps: int = 200) -> float:
    w1, w2, b, x1, x2, y, yhat, eta, g = sympy.symbols("w1 w2 b x1 x2 y yhat eta g")
    forms = [w1 * x1 + w2 * x2 + b, (yhat - y) ** 2, 2 * (yhat - y), w1 - eta * g, w2 - eta * g, b - eta * g]
    data = trace.problem.data
    start = time.perf_counter()
    for step in list(trace.steps)[:steps]:
        r = step.rows[0]
        values = {w1: step.params["w1"], w2: step.params["w2"], b: step.params["b"], x1: data["x1"][r],
                  x2: data["x2"][r], y: data["y"][r], yhat: step.values["yhat"], eta: 0.01,
                  g: step.gradients["w1"]}
        for form in forms:
            sympy.latex(form)
            sympy.latex(form.subs(values))
    return (time.perf_counter() - start) / steps


def main(repeats: int = 5) -> bool:
    problem = seed_a_problem(N)
    trace = problem.train()
    # The run as its report carries numbers (rounded as shown, what derive.render trains again
    # before writing): the report's second training is the same for 100 steps shown as for 1,000.
    carried = api.carried(trace)

    def shown(steps: int):
        settings = dataclasses.replace(carried.problem.report, steps=steps)
        problem = dataclasses.replace(carried.problem, report=settings)
        return dataclasses.replace(carried, compiled=dataclasses.replace(carried.compiled, problem=problem))

    runs = {N: shown(N), 100: shown(100)}
    times: dict = {N: [], 100: [], "sympy": []}
    for _ in range(repeats):  # interleaved, so that both sides meet the same load
        for steps, run in runs.items():
            start = time.perf_counter()
            derive.render(run, "markdown")
            times[steps].append(time.perf_counter() - start)
        times["sympy"].append(sympy_latex_per_step(trace))
    # Per step: what showing 900 more steps in full adds; the formulas are printed once per report.
    whole, few = min(times[N]), min(times[100])
    ours = (whole - few) / (N - 100)
    anchor = min(times["sympy"])
    ratio = anchor / ours
    print(f"rendering: derive {ours * 1e6:.0f} us a step in full ({whole * 1e3:.0f} ms for the whole "
          f"{N}-step report); SymPy latex() of six formulas {anchor * 1e3:.1f} ms a step; "
          f"best of {repeats} interleaved")
    print(verdict("rendering", ratio, ">= 100x", ratio >= 100) + " (faster)")
    return full_batch_report() and ratio >= 100


def full_batch_report(n: int = 200_000) -> bool:
    """A full-batch report over n rows shows one row worked and a table of the first rows."""
    problem = seed_a_problem(n, batch_size=None, epochs=5)
    start = time.perf_counter()
    trace = problem.train()
    trained = time.perf_counter() - start
    start = time.perf_counter()
    size = len(derive.render(trace, "markdown").encode())
    written = time.perf_counter() - start
    ok = size < 1_000_000 and written < 10 * max(trained, 0.1)
    print(f"full-batch report: {n:,} rows, 5 steps: {size / 1e3:.0f} kB written in {written:.2f} s "
          f"(training {trained:.2f} s); target under 1 MB and at most 10x the training: "
          f"{'met' if ok else 'NOT met'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

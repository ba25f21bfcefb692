"""Rendering: a Markdown report of 1,000 steps of seed A's model, every step in full, against
printing six of its formulas (yhat, L, dL/dyhat and the three updates), symbolic and with each
step's numbers substituted, with SymPy's latex(); and the size and writing time of a full-batch
report over 200,000 rows against the time its training takes."""
from __future__ import annotations

import dataclasses
import sys
import time

import sympy

from common import best_of, seed_a_problem, verdict

import derive

N = 1000


def sympy_latex_per_step(trace, steps: int = 200) -> float:
    w1, w2, b, x1, x2, y, yhat, eta, g = sympy.symbols("w1 w2 b x1 x2 y yhat eta g")
    forms = [w1 * x1 + w2 * x2 + b, (yhat - y) ** 2, 2 * (yhat - y), w1 - eta * g, w2 - eta * g, b - eta * g]
    data = trace.problem.data

    def run():
        for step in list(trace.steps)[:steps]:
            r = step.rows[0]
            values = {w1: step.params["w1"], w2: step.params["w2"], b: step.params["b"], x1: data["x1"][r],
                      x2: data["x2"][r], y: data["y"][r], yhat: step.values["yhat"], eta: 0.01,
                      g: step.gradients["w1"]}
            for form in forms:
                sympy.latex(form)
                sympy.latex(form.subs(values))

    return best_of(run, 1) / steps


def main() -> bool:
    problem = seed_a_problem(N)
    trace = problem.train()

    def render(steps: int) -> float:
        shown = dataclasses.replace(problem, report=dataclasses.replace(problem.report, steps=steps))
        run = dataclasses.replace(trace, compiled=dataclasses.replace(trace.compiled, problem=shown))
        derive.render(run, "markdown")
        return best_of(lambda: derive.render(run, "markdown"))

    # Per step: what showing 900 more steps in full adds; the formulas are printed once per report.
    whole, few = render(N), render(100)
    ours = (whole - few) / (N - 100)
    anchor = sympy_latex_per_step(trace)
    ratio = anchor / ours
    print(f"rendering: derive {ours * 1e6:.0f} us a step in full ({whole * 1e3:.0f} ms for the whole "
          f"{N}-step report); SymPy latex() of six formulas {anchor * 1e3:.1f} ms a step")
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

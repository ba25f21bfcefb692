"""The HTML page against the Markdown report of the same run: 1,000 steps of seed A's model, every
step in full, measured side by side; the page's size per step (its numbers for the explorer,
the steps written out, the graph and the chart)."""
from __future__ import annotations

import dataclasses
import sys

from common import interleaved, seed_a_problem, verdict

import derive

N = 1000


def main() -> bool:
    problem = seed_a_problem(N)
    shown = dataclasses.replace(problem, report=dataclasses.replace(problem.report, steps="all"))
    trace = problem.train()
    run = dataclasses.replace(trace, compiled=dataclasses.replace(trace.compiled, problem=shown))
    sizes = {fmt: len(derive.render(run, fmt).encode()) for fmt in ("markdown", "html")}
    markdown, html = interleaved([lambda: derive.render(run, "markdown"), lambda: derive.render(run, "html")], 3)
    ratio = html / markdown
    print(f"html: {N}-step page in {html * 1e3:.0f} ms, Markdown report {markdown * 1e3:.0f} ms; "
          f"page {sizes['html'] / 1e6:.2f} MB ({sizes['html'] / N / 1e3:.1f} kB a step), "
          f"Markdown {sizes['markdown'] / 1e6:.2f} MB ({sizes['markdown'] / N / 1e3:.1f} kB a step)")
    print(verdict("html", ratio, "<= 2x", ratio <= 2))
    return ratio <= 2


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

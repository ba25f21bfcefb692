"""Reports of a trace (a plain table of steps until the worked-solution templates land)."""
from __future__ import annotations


def render_report(trace, fmt: str, **options):
    problem = trace.problem
    names = problem.graph.params
    yield f"# {problem.title or 'Gradient descent'}\n\n"
    yield "| step | epoch | rows | " + " | ".join(names) + " | loss |\n"
    yield "|" + "---|" * (len(names) + 4) + "\n"
    for step in trace.steps:
        cells = " | ".join(f"{float(step.updated[n]):.4f}" for n in names)
        yield f"| {step.step} | {step.epoch} | {', '.join(str(r + 1) for r in step.rows)} | {cells} | {float(step.loss):.4f} |\n"

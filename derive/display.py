"""How a Problem, a Trace and a single Step show themselves in Jupyter: each as text/markdown,
text/latex ($$\\begin{aligned}…\\end{aligned}$$), text/html and text/plain.

The methods are attached here, above the model, engine and report layers, so that those layers
need not know the report; nothing here imports IPython."""
from __future__ import annotations

from types import SimpleNamespace

from . import api
from .engine.trace import Step, Trace
from .model.problem import Problem
from .report import formats
from .report.document import Report


def _latex(blocks) -> str:
    rows = " \\\\\n".join(str(b) for b in blocks if b)
    return f"$$\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}\n$$"


def problem_bundle(problem: Problem, include=None, exclude=None) -> dict:
    """The problem's statement: model, data, starting values, update rule."""
    run = SimpleNamespace(problem=problem, compiled=api.compile_problem(problem))
    out = {"text/plain": _problem_text(problem)}
    for mime, fmt in (("text/markdown", formats.MARKDOWN), ("text/html", formats.HTML)):
        report = Report(run, fmt)
        env = fmt.environment()
        statement = report.statement()
        text = env.get_template(fmt.template("problem")).render(statement=statement)
        out[mime] = f'<div class="derive">{text}</div>' if fmt is formats.HTML else text
    out["text/latex"] = _latex([Report(run, formats.LATEX).statement()["model"]])
    return out


def _problem_text(problem: Problem) -> str:
    graph = problem.graph
    title = problem.title or "A gradient-descent problem"
    nodes = "; ".join(f"{name} = {expr}" for name, expr in graph.nodes)
    return (f"{title}\n  model: {nodes}\n  parameters: {', '.join(graph.params)}; "
            f"{problem.n_rows} rows of data; learning rate {problem.training.learning_rate}")


def trace_bundle(trace: Trace, include=None, exclude=None) -> dict:
    """The worked solution; in HTML with the step explorer."""
    first = trace.steps[0] if len(trace.steps) else None
    return {
        "text/plain": _trace_text(trace),
        "text/markdown": api.render(trace, "markdown"),
        "text/html": api.render(trace, "html", fragment=True),
        "text/latex": step_bundle(first)["text/latex"] if first is not None else "",
    }


def _trace_text(trace: Trace) -> str:
    numbers = Report(trace, formats.MARKDOWN).numbers
    final = ", ".join(f"{name} = {numbers.text(value)}" for name, value in trace.final.items())
    n = len(trace.steps)
    loss = f"; last loss {numbers.text(trace.steps[n - 1].loss)}" if n else ""
    return f"Trace of {n} step{'s' if n != 1 else ''}{loss}; final {final}"


def step_bundle(step: Step, include=None, exclude=None) -> dict:
    """One step worked in full, as the report writes it."""
    trace, index = step._trace, step.step - 1
    out = {"text/plain": repr(step)}
    for mime, fmt in (("text/markdown", formats.MARKDOWN), ("text/html", formats.HTML)):
        report = Report(trace, fmt)
        env = fmt.environment()
        ((layout, texts),) = report.stepview.layouts(env, [index], report.statement())
        text = fmt.fill(layout, texts)
        out[mime] = f'<div class="derive">{text}</div>' if fmt is formats.HTML else text
    report = Report(trace, formats.LATEX)
    previous = trace.steps[index - 1].state if index else None
    context = report.stepview.context(step, previous, [])
    blocks = [b for row in context["per_row"] for b in (row["forward"], row["loss"], row["local"], row["chain"])]
    blocks += [context["mean"]] + [u["lines"] for u in context["updates"]]
    out["text/latex"] = _latex(blocks)
    return out


Problem._repr_mimebundle_ = problem_bundle
Trace._repr_mimebundle_ = trace_bundle
Step._repr_mimebundle_ = step_bundle

"""The public flow, written once: load -> differentiate -> compile -> train -> carry -> render."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from .engine.compiled import Compiled, compile_model, make_rate_schedule
from .engine.derivation import Derivation, derive
from .engine.optimizers import make_rule
from .engine.trace import Trace
from .errors import DeriveError, SpecError
from .model.functions import not_rational
from .model.problem import Problem
from .model.spec import load as read_spec
from .report.digest import Digest
from .report.document import render_report
from .report.export import JsonSink, json_chunks
from .report.formats import FORMATS
from .report.numformat import number_format


def load(path: str | Path) -> Problem:
    """Read a TOML spec; raises SpecError (exit code 2) naming the file and field. The optimiser
    and the schedule are checked here, before any work, so their errors name the file too."""
    problem = read_spec(path)
    try:
        rule = make_rule(problem.training.optimizer, problem.training.options)
        make_rate_schedule(problem)
        inexact = [not_rational(expr) for _, expr in rule.assignments] if problem.report.exact else []
        if any(inexact):
            raise SpecError(f"exact = true needs every value to be a fraction, and optimizer {rule.name!r} uses "
                            f"{next(filter(None, inexact))}, which has no exact value; use \"sgd\" or set "
                            f"exact = false.", "train.optimizer")
    except SpecError as exc:
        raise exc.at(source=str(path)) from None
    return problem


def differentiate(problem: Problem) -> Derivation:
    """Every local partial, delta and gradient of the problem's graph, symbolically."""
    return derive(problem.graph)


def compile_problem(problem: Problem, derivation: Derivation | None = None) -> Compiled:
    """The row kernel, update rule and schedule; with carry = "rounded", every shown value is
    rounded to the report's digits as it is made."""
    held = problem.report.carry == "rounded" and not problem.report.exact
    rounding = number_format(problem.report).rounded if held else None
    return compile_model(problem, derivation or differentiate(problem), rounding)


def train(problem: Problem, fmt: str | None = None, derivation: Derivation | None = None) -> Trace:
    """Differentiate, compile and run the training; returns the Trace. For a Markdown or LaTeX
    report (`fmt`) a run in floating point keeps only what the report reads (see
    derive.report.digest: the steps it works in full, its first steps, a sample chosen from the
    planned length, and the aggregates of its notes); in exact arithmetic it keeps the outputs of
    the rows fed for the steps worked in full only."""
    return train_compiled(compile_problem(problem, derivation), fmt)


def train_compiled(compiled: Compiled, fmt: str | None = None) -> Trace:
    """Train a compiled problem for an output format (see train)."""
    problem = compiled.problem
    if fmt not in FORMATS or FORMATS[fmt].every_step:
        return compiled.train()
    planned = problem.planned_steps
    shown = problem.report.shown_steps(planned)
    if compiled.exact:
        return compiled.train(shown)
    return compiled.train(sink=Digest(compiled, planned, problem.training.epochs, shown))


def train_json(problem: Problem, write) -> Trace:
    """Train and write the run's JSON through `write` as it trains (the text of render(trace,
    "json")): a run in floating point is not held whole. Returns the Trace, which then holds no steps."""
    compiled = compile_problem(problem)
    if compiled.exact:
        trace = compiled.train()
        for chunk in json_chunks(trace):
            write(chunk)
        return trace
    return compiled.train(sink=JsonSink(compiled, write))


def carried(trace: Trace) -> Trace:
    """The run as its report carries numbers: a run trained with the machine's numbers whose
    report rounds as shown is trained again, rounding each shown value as it is made."""
    problem = trace.problem
    if problem.report.exact or problem.carry == "full" or problem.report.carry == "rounded" or trace.diverged:
        return trace
    rounded = dataclasses.replace(problem, report=dataclasses.replace(problem.report, carry="rounded"))
    return train(rounded, derivation=trace.compiled.derivation)


def render_chunks(trace: Trace, fmt: str = "markdown", **options) -> Iterator[str]:
    """The document for a trace, in pieces, so that long reports stream to their file."""
    if fmt == "json":
        yield from json_chunks(trace)
    elif fmt in FORMATS:
        yield from render_report(carried(trace), fmt, **options)
    else:
        raise DeriveError(f"{fmt!r} is not a format; use {', '.join(FORMATS)} or json.")


def render(trace: Trace, fmt: str = "markdown", **options) -> str:
    """The whole document for a trace as one string: "markdown", "latex" (any format in
    derive.report.formats.FORMATS) or "json"."""
    return "".join(render_chunks(trace, fmt, **options))

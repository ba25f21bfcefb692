"""The public flow, written once: load -> derive -> compile -> train -> render."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .errors import DeriveError
from .model.problem import Problem
from .model.spec import load as _load_spec


def load(path: str | Path) -> Problem:
    """Read a TOML spec; raises SpecError (exit code 2) naming the file and field."""
    return _load_spec(path)


def train(problem: Problem):
    """Derive, compile and run the training; returns the Trace."""
    return problem.train()


def render_chunks(trace, fmt: str = "markdown", **options) -> Iterator[str]:
    """The document for a trace, in pieces, so that long reports stream to their file."""
    if fmt == "json":
        from .report.export import render_json

        yield render_json(trace)
        return
    from .report.formats import FORMATS

    if fmt in FORMATS:
        from .report.document import render_report

        yield from render_report(trace, fmt, **options)
        return
    raise DeriveError(f"{fmt!r} is not a format; use {', '.join(FORMATS)} or json.")


def render(trace, fmt: str = "markdown", **options) -> str:
    """The whole document for a trace as one string: "markdown", "latex" (any format in
    derive.report.formats.FORMATS) or "json"."""
    return "".join(render_chunks(trace, fmt, **options))

"""The IPython extension (`%load_ext derive`): a `%%derive` cell whose body is a TOML spec, and
`%derive_check SPEC ANSWERS...`. IPython is imported here only (pip install "derive[jupyter]")."""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from pathlib import Path

from . import api
from .errors import DeriveError
from .model.spec import loads


def cell_arguments(line: str) -> argparse.Namespace:
    """The options of a %%derive line: --format and --steps, as `derive run` takes them."""
    parser = argparse.ArgumentParser(prog="%%derive", add_help=False, exit_on_error=False)
    parser.add_argument("--format", choices=("markdown", "html", "latex", "json"), default="markdown")
    parser.add_argument("--steps", default=None, help="steps worked in full: a number or all")
    try:
        args = parser.parse_args(shlex.split(line))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise DeriveError(f"%%derive {line.strip()}: {exc}; use --format markdown|html|latex|json and "
                          f"--steps N or all.") from None
    if args.steps is not None and args.steps != "all":
        if not args.steps.isdigit() or int(args.steps) < 1:
            raise DeriveError(f"%%derive --steps {args.steps}: give a positive number of steps or all.")
        args.steps = int(args.steps)
    return args


def run_cell(line: str, cell: str):
    """Train the spec in a cell; (format, document) to display."""
    args = cell_arguments(line)
    problem = loads(cell, name="%%derive cell", base=Path.cwd())
    if args.steps is not None:
        problem = dataclasses.replace(problem, report=dataclasses.replace(problem.report, steps=args.steps))
    trace = api.train(problem)
    options = {"fragment": True} if args.format == "html" else {}
    return args.format, api.render(trace, args.format, **options)


def register(ipython) -> None:
    from IPython.core.error import UsageError
    from IPython.display import HTML, JSON, Markdown, display

    def derive_cell(line: str, cell: str) -> None:
        """%%derive [--format markdown|html|latex|json] [--steps N|all]: train the TOML spec in
        the cell and show its worked solution."""
        try:
            fmt, document = run_cell(line, cell)
        except DeriveError as exc:
            raise UsageError(f"derive: {exc}") from None
        if fmt == "markdown":
            display(Markdown(document))
        elif fmt == "html":
            display(HTML(document))
        elif fmt == "json":
            display(JSON(json.loads(document)))
        else:
            print(document)

    def derive_check(line: str) -> None:
        """%derive_check SPEC ANSWERS... [--format text|markdown|json] [--tolerance X]: mark answers."""
        from .cli import main

        code = main(["check", *shlex.split(line)])
        if code == 2:
            raise UsageError("derive check: a file could not be used (see the message above).")

    ipython.register_magic_function(derive_cell, magic_kind="cell", magic_name="derive")
    ipython.register_magic_function(derive_check, magic_kind="line", magic_name="derive_check")

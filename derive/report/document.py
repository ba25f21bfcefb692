"""Jinja environments and the context handed to the templates; the templates lay out, they do not compute."""
from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import jinja2
from markupsafe import Markup

from .derivations import Derivations
from .digest import digest_trace
from .numformat import number_format
from ..model.graph import symbol
from . import formats
from .escape import safe_math
from .formats import Format
from ..model.names import latex_name
from .names import mermaid_name
from .notes import RunNotes, improvements
from .matrices import MatrixView
from .pagelayout import column_chunks, wrap_sum
from .stepview import FULL_TABLE_ROWS, StepView, row_number
from .summary import Summary
from .worked import Line, Worked, visible_length

HEADINGS = ("section", "subsection", "subsubsection", "paragraph")


def render_report(trace, fmt: str | Format, fragment: bool = False, templates: str | Path | None = None,
                  heading_level: str | None = None) -> Iterator[str]:
    """Stream the worked solution of a trace in a format (a Format or its name). A fragment's
    headings start at `heading_level` (section, subsection or subsubsection; default subsection).
    The trace is the run as the report carries its numbers (see derive.api.carried)."""
    form = formats.get(fmt)
    env = form.environment(templates)
    report = Report(trace, form)
    if fragment and form.fragment_width:
        report.width = form.fragment_width
    context = report.context(env)
    top = HEADINGS.index(heading_level or ("subsection" if fragment else "section"))
    context.update(fragment=fragment, headings=HEADINGS[top:top + 2])
    yield from env.get_template(form.template("document")).generate(context)


class Report:
    """Builds the template context of a trace: statement, graph, worked steps, summary, diagnostics."""

    def __init__(self, trace, fmt: Format):
        self.trace = trace
        self.problem = trace.problem
        self.fmt = fmt
        self.worked = Worked(trace.compiled)
        self.numbers = number_format(self.problem.report)
        self.width = fmt.width
        # A number in a table cell or a sentence (see Format.number): computed, or as given.
        self.cell = fmt.number(self.numbers.latex, self.numbers.text)
        self.given_cell = fmt.number(self.numbers.given_latex, self.numbers.given_text)
        self._cells: dict[int, list[Markup]] = {}
        self._matrix: MatrixView | None = None

    @property
    def matrix(self) -> MatrixView | None:
        """The matrix view of the layers, where the report shows them as matrices."""
        if self._matrix is None and self.problem.form == "matrix":
            # LaTeX sets the matrix lines a size smaller than the text (see matrix_step.tex.j2).
            width = self.width * 11 // 10 if self.fmt.name == "latex" else self.width
            self._matrix = MatrixView(self.worked, self.problem, width, self.trace.compiled.derivation)
        return self._matrix

    @cached_property
    def stepview(self) -> StepView:
        """The steps worked in full (see stepview.py)."""
        return StepView(self)

    @cached_property
    def digest(self):
        """What the summary and the notes read of the run (see digest.py)."""
        return digest_trace(self.trace)

    # -- small helpers -------------------------------------------------------------------
    def tex(self, name: str) -> Markup:
        return Markup(self.worked.names.get(symbol(name)) or latex_name(name, self.problem.report.names))

    def num(self, value, slotted: bool = False, source: tuple | None = None) -> Markup:
        """A number for a table cell: LaTeX math in LaTeX, plain text in Markdown (a token when
        slotted, read from `source` for later steps: see plan.py)."""
        text = self.cell(value)
        return Markup(self.worked.slot(text, source, self.cell) if slotted else text)


    def equations(self, lines: list[Line]) -> Markup:
        """Aligned rows 'lhs &= a = b = c', long ones broken after each '='."""
        rows = []
        for line in lines:
            lhs, rest = line.parts[0], line.parts[1:]
            if not rest:
                continue
            if line.width <= self.width:
                rows.append(f"{lhs} &= " + " = ".join(rest))
            else:
                rows.append(f"{lhs} &= " + r" \\ &= ".join(wrap_sum(part, self.width) for part in rest))
        return Markup(" \\\\\n".join(rows))

    # -- the context ---------------------------------------------------------------------
    def context(self, env: jinja2.Environment) -> dict:
        problem, trace = self.problem, self.trace
        n_steps = len(trace.steps)
        shown = problem.report.shown_steps(n_steps)
        statement = self.statement()
        derivations = self.derivations()
        context = {
            "title": self.title(problem.title or "Gradient descent, worked step by step"),
            "title_text": problem.title or "Gradient descent, worked step by step",
            "notes": self.title(problem.report.notes) if problem.report.notes else None,
            "statement": statement,
            "graph": self.graph(),
            "matrices": None if self.matrix is None else self.matrix_notation(derivations is not None),
            "derivations": derivations,
            "steps": self.stepview.steps(env, shown, statement),
            "shown": shown,
            "n_steps": n_steps,
            "summary": Summary(self).summary(),
            "final": [{"name": self.tex(p), "plain": p, "value": self.num(v)} for p, v in trace.final.items()],
            "diagnostics": self.diagnostics(),
            "progress": Summary(self).progress(),
            "improve": self.improve(),
        }
        if self.fmt.extend is not None:
            self.fmt.extend(self, env, context)
        return context

    def title(self, text: str) -> Markup:
        """The title (or the notes) with its `$...$` spans as math (where they use only plain math commands); the
        rest, and any other span, escaped for the format."""
        pieces, parts = [], text.split("$")
        for i, piece in enumerate(parts):
            closed = i < len(parts) - 1  # an odd piece is math when a `$` follows it
            if i % 2 == 0:
                pieces.append(self.fmt.escape(piece))
            elif closed and safe_math(piece):
                pieces.append(self.fmt.inline_math(piece))
            else:
                pieces.append(self.fmt.escape(f"${piece}$" if closed else f"${piece}"))
        return Markup("".join(pieces))

    def statement(self) -> dict:
        problem, worked = self.problem, self.worked
        initial = [{"name": self.tex(p), "value": self.given(problem.initial[p])} for p in problem.graph.params]
        graph = problem.graph
        # A long sum (a unit fed by many others) is continued on further rows.
        model = [Line((f.lhs, f.form), visible_length(f.lhs) + visible_length(f.form)) for f in worked.forward]
        settings = problem.training
        batch = "all rows (full-batch gradient descent)" if settings.batch_size is None else \
            ("one row per step" if settings.batch_size == 1 else f"{settings.batch_size} rows per step")
        order = f"shuffled each epoch (seed {settings.seed})" if settings.shuffle else "in order"
        return {
            "model": self.equations(model),
            "columns": [self.tex(c) for c in graph.columns],
            "data": self.data_rows(range(problem.n_rows), set()),
            "n_rows": problem.n_rows,
            "initial": initial,
            "initial_chunks": self.chunks([p["name"] for p in initial], [[p["value"] for p in initial]], 0),
            "learning_rate": self.given(self.trace.compiled.schedule(1)),
            "batch": batch, "order": order, "epochs": settings.epochs,
            "optimizer": settings.optimizer, "options": dict(settings.options),
            "frozen": [self.tex(p) for p in settings.frozen],
            "loss": [self.tex(n) for n in graph.loss],
            "rule": self.equations([Line((f.lhs, f.form)) for f in worked.updates.generic]),
            "symbols": [{"tex": Markup(tex), "meaning": words, "value": value and Markup(value)}
                        for tex, words, value in worked.definitions()],
            "eta": Markup(worked.symbols["eta"]), "theta": Markup(worked.symbols["theta"]),
            "rounding": self.rounding(),
        }

    def derivations(self) -> dict | None:
        """The section deriving each local partial rule by rule, and the whole gradient as one formula."""
        context = Derivations(self.trace.compiled).context()
        if context is not None:
            gradient = context["gradient"] if self.matrix is None else self.matrix.gradient_formulas()
            context["gradient"] = self.equations(gradient)
        return context

    def matrix_notation(self, derived: bool) -> dict:
        """The shapes, symbols and formulas of the layers as matrices (the gradients' formulas here
        where the report has no derivations section to give them)."""
        notation = self.matrix.notation()
        formulas = notation["formulas"]
        if not derived:
            formulas += self.matrix.gradient_formulas()
        notation["formulas"] = self.equations(formulas)
        for shape in notation["shapes"]:
            shape.update({k: Markup(v) for k, v in shape.items() if isinstance(v, str)})
        notation.update({k: Markup(v) for k, v in notation.items() if isinstance(v, str)})
        return notation

    def rounding(self) -> dict:
        """How numbers are carried: "exact", "rounded" or "full", the rounding rule in words, and
        why a report that would round as shown carries full precision ("long", "diverged" or None)."""
        problem = self.problem
        diverged = getattr(self.trace, "diverged", None)  # a problem shown before training has no trace
        if problem.report.exact:
            carry = "exact"
        else:
            carry = "rounded" if problem.carry == "rounded" and not diverged else "full"
        why = None
        if carry == "full" and problem.report.carry is None:
            why = "diverged" if diverged else "long"
        return {"carry": carry, "rule": self.numbers.describe(), "why": why}

    def data_rows(self, indices, current: set[int], limit: int = FULL_TABLE_ROWS, slotted: bool = False) -> list[dict]:
        """Table rows (1-based numbers) of the data; long data shows its first rows and the current ones."""
        if len(indices) > limit:
            # Long data: the statement shows its first rows, a step the rows it feeds.
            indices = sorted(current)[:limit] if current else indices[:limit]
        if slotted and self.problem.n_rows > limit:
            slot, cell = self.worked.slot, self.given_cell
            return [{"number": Markup(slot(str(i + 1), ("sorted", j), row_number)), "current": True,
                     "cells": [Markup(slot(c, ("sorted_data", j, k), cell)) for k, c in enumerate(self.cells(i))]}
                    for j, i in enumerate(indices)]
        return [{"number": i + 1, "current": i in current, "cells": self.cells(i)} for i in indices]

    def cells(self, index: int) -> list[Markup]:
        """A data row's cells, formatted once, as given."""
        if index not in self._cells:
            self._cells[index] = [self.given(self.problem.data[c].item(index)) for c in self.problem.graph.columns]
        return self._cells[index]

    def given(self, value, slotted: bool = False, source: tuple | None = None) -> Markup:
        """A number from the spec (data, a starting value, a setting) as it was given, not rounded."""
        text = self.given_cell(value)
        return Markup(self.worked.slot(text, source, self.given_cell) if slotted else text)

    def graph(self) -> dict:
        """Nodes (key, label, LaTeX, kind, position) and edges for the computation-graph figure."""
        graph = self.problem.graph
        # Beyond a dozen parameters the figure shows the nodes alone: each edge carries its weight.
        drawn = graph.params if len(graph.params) <= 12 else ()
        kinds = ([(n, "input") for n in graph.inputs] + [(n, "target") for n in graph.targets]
                 + [(n, "param") for n in drawn]
                 + [(n, "loss" if n in graph.loss else "node") for n in graph.node_names])
        key = {name: Markup(f"n{i}") for i, (name, _) in enumerate(kinds)}
        # Names are identifiers (letters, digits, _), so they are safe as labels as they are.
        nodes = [{"id": key[n], "label": Markup(n), "tex": self.tex(n), "kind": kind,
                  "mermaid": Markup(mermaid_name(self.tex(n)))} for n, kind in kinds]
        edges = [(s.name, n) for n, e in graph.nodes for s in sorted(e.free_symbols, key=str) if s.name in key]
        level = {n: 0 for n, _ in kinds}
        for name, expr in graph.nodes:
            level[name] = 1 + max((level[s.name] for s in expr.free_symbols if s.name in level), default=0)
        for source in (*drawn, *graph.targets):
            children = [n for s, n in edges if s == source]
            level[source] = max(0, min(level[c] for c in children) - 1) if children else 0
        columns: dict[int, list] = {}
        for node, (name, _) in zip(nodes, kinds):
            columns.setdefault(level[name], []).append(node)
        spacing = min(1.1, 14 / max(len(m) for m in columns.values()))  # at most 14 cm tall
        for lvl, members in columns.items():
            for i, node in enumerate(members):
                node["level"] = lvl
                node["x"] = 2.6 * lvl
                node["y"] = spacing * (-i + (len(members) - 1) / 2)
        return {"nodes": nodes, "edges": [(key[a], key[b]) for a, b in edges],
                "hidden_params": len(graph.params) - len(drawn)}

    def chunks(self, header: list, rows: list[list], fixed: int) -> list[tuple[int, int]]:
        room = self.fmt.table_width
        return column_chunks(header, rows, fixed, None if room is None else room * self.width // self.fmt.width)

    def diagnostics(self) -> list[dict]:
        """What happened in this run, as facts; the templates say it in words (`kind` picks the note)."""
        return RunNotes(self.trace, self.digest, lambda name: Markup(self.fmt.inline_math(self.tex(name))),
                        lambda value: Markup(self.numbers.text(value))).notes()

    def improve(self) -> list[dict]:
        """The levers the articles end with that this spec does not already pull; the templates say them."""
        return improvements(self.trace, self.digest)

"""The steps worked in full: what the step template shows of each, and each step's text, its
layout made once for each shape of step and filled with the step's numbers, read from the trace
by the shape's plan where it has one (see plan.py)."""
from __future__ import annotations

import re
from collections.abc import Iterator

import jinja2
from markupsafe import Markup

from ..engine.derivation import delta_symbol, local_symbol
from ..model.graph import symbol
from .pagelayout import Counter
from .plan import Plan, Sourced, make_plan

FULL_TABLE_ROWS = 20
MEAN_TERMS = 3  # terms of a mean written out before the count of the others
_DIGIT = re.compile(r"\d")


def row_number(row: int) -> str:
    """A 0-based data row as the report numbers it."""
    return str(row + 1)


class StepView:
    """The steps of a Report's trace as its step template shows them."""

    def __init__(self, report):
        self.report = report
        self.trace, self.problem, self.fmt = report.trace, report.problem, report.fmt
        self.worked, self.numbers = report.worked, report.numbers
        self._figure: dict | None = None

    def steps(self, env: jinja2.Environment, shown: int, statement: dict) -> Iterator[Markup]:
        """The steps shown in full, each rendered as the document asks for it."""
        for layout, texts in self.layouts(env, range(shown), statement):
            yield Markup(self.fmt.fill(layout, texts))

    def layouts(self, env: jinja2.Environment, indices, statement: dict) -> Iterator[tuple[str, list[str]]]:
        """(layout, numbers) of each step of `indices` (0-based, ascending).

        The step template is rendered once for each shape of step (rows in the batch, rows marked
        in the data table) with numbered tokens in place of every number; each step then fills
        that layout with its own numbers by string formatting, read from the trace by the
        shape's plan where every number has a recipe (see plan.py). A template that compares the
        step's number, epoch or rows (see Counter) is rendered again for every step."""
        template = env.get_template(self.fmt.template("step"))
        trace, worked = self.trace, self.worked
        small = self.problem.n_rows <= FULL_TABLE_ROWS
        limit = self.problem.report.rows_shown
        layouts: dict[tuple, str] = {}
        plans: dict[tuple, Plan | None] = {}
        previous_index, previous_state = -1, None
        for index in indices:
            start, end = int(trace.offsets[index]), int(trace.offsets[index + 1])
            rows = trace.rows[start:end].tolist()
            # The rows' targets put into their loss lines decide the lines' forms (see targets.py).
            shape = (end - start, tuple(rows) if small else (), worked.put_in.rows_key(rows[:limit]))
            plan = plans.get(shape)
            if plan is not None:
                yield layouts[shape], plan.texts(index)
                continue
            step = trace.steps[index]
            if previous_index != index - 1:
                previous_state = trace.steps[index - 1].state if index else None
            texts: list[str] = []
            compared: list[bool] = []
            recipes = [] if shape not in plans else None
            worked.recorder, worked.recipes = texts, recipes
            try:
                context = self.context(step, previous_state, compared)
            finally:
                worked.recorder = worked.recipes = None
            key = shape
            if context["matrix"] is not None:
                # Matrix lines break where their numbers' widths reach the page's: the layout
                # serves the steps whose numbers have the same characters but for their digits.
                key = (shape, tuple(_DIGIT.sub("0", text) for text in texts))
            layout = layouts.get(key)
            if layout is None:
                layout = self.fmt.layout("".join(template.generate(step=context, statement=statement)))
                if not compared:
                    layouts[key] = layout
            if recipes is not None:
                plans[shape] = None if compared else make_plan(trace, end - start, recipes, texts, index, worked.updates)
            yield layout, texts
            previous_index, previous_state = index, step.state

    def context(self, step, previous_state, compared: list[bool]) -> dict:
        """What the step template shows of one step; every number in it is a token (see steps)."""
        report = self.report
        worked, slot = self.worked, self.worked.slot

        def counter(value: int, source: tuple, form=str) -> Counter:
            return Counter(slot(str(value), source, form), value, compared)

        trace, limit = self.trace, self.problem.report.rows_shown
        many = len(step.rows) > limit  # one row worked in full, `limit` rows tabulated, the mean abridged
        table = trace.block(step.step - 1)[:limit if many else len(step.rows)].tolist()
        values = [worked.outputs_values(step.params, row, outputs, j)
                  for j, (row, outputs) in enumerate(zip(step.rows, table))]
        rows = [{
            "number": counter(row + 1, ("row", j), row_number),
            "forward": report.equations(worked.lines_forward(v)),
            "loss": report.equations(worked.lines_loss(v)),
            "put_in": self.put_in(v),
            "local": report.equations(worked.lines_local(v, shown=True)),
            "read_off": {rule: [Markup(self.fmt.inline_math(t)) for t in partials]
                         for rule, partials in worked.read_off(v).items()},
            "chain": report.equations(worked.lines_chain(v)),
        } for j, (row, v) in enumerate(zip(step.rows[:1] if many else step.rows, values))]
        frozen = self.problem.training.frozen
        at = {p: k for k, p in enumerate(trace.layout.params)}
        first = [worked.row_terms(v) for v in values[:MEAN_TERMS]] if many else None
        return {
            "number": counter(step.step, ("step",)), "epoch": counter(step.epoch, ("epoch",)),
            "rows": [counter(r + 1, ("row", j), row_number) for j, r in enumerate(step.rows[:limit])],
            "n_rows": len(step.rows),
            "batch": None if many else report.data_rows(range(self.problem.n_rows), set(step.rows), slotted=True),
            "table": self.row_table(step, values, counter) if many else None,
            "per_row": rows,
            "mean": report.equations(worked.lines_mean(step, first)) if len(step.rows) > 1 else None,
            "updates": self.updates(worked.lines_update(step, previous_state)),
            "held": [{"name": report.tex(p), "value": report.given(step.params[p], slotted=True, source=("param", at[p]))}
                     for p in frozen],
            "rate": Markup(slot(self.numbers.given_latex(step.learning_rate), ("rate",), self.numbers.given_latex)),
            "loss": report.num(step.loss, slotted=True, source=("loss",)),
            "graph": self.graph(step, values[0]) if self.problem.report.graph == "every step" else None,
            "matrix": None if report.matrix is None else self.matrix(step, previous_state, values, many),
        }

    def matrix(self, step, previous_state, values: list[dict], many: bool) -> dict:
        """A step's lines as matrices: a column for each row worked in full (the first rows_shown
        rows of a larger batch), and the lines shortened with ⋯ again with every entry."""
        report = self.report
        view, worked = report.matrix, self.worked
        view.start_step()
        rows = step.rows[:len(values)]
        tags = [worked.slot(str(r + 1)) for r in rows] if len(rows) > 1 else [None]
        per_row = [line for tag, v in zip(tags, values) for line in view.row_lines(v, tag)]
        gradient_rows = min(MEAN_TERMS, len(rows))
        forward, backward = report.equations(view.forward(values)), report.equations(view.backward(values))
        gradients = report.equations(view.gradients(values[:gradient_rows], tags[:gradient_rows]))
        mean = None
        if len(step.rows) > 1 and not many:
            mean = report.equations([worked.lines_mean(step)[0], *view.mean(step, values)])
        rule, frozen = worked.updates.rule, self.problem.training.frozen
        update = None
        if len(rule.assignments) == 1 and not rule.state and not frozen:
            results = {p: step.updated[p] for p in self.problem.graph.params}
            update = report.equations(view.update(step, results))
        return {"forward": forward, "loss": report.equations(per_row), "backward": backward, "gradients": gradients,
                "check": report.equations(view.cross_check(values[0])), "check_row": tags[0],
                "mean": mean, "updated": update, "columns": len(rows) > 1,
                "more": Markup(worked.slot(f"{len(step.rows) - len(rows):,}")) if many else None,
                "gradient_rows": gradient_rows if many else None,
                "in_full": report.equations(view.in_full) if view.in_full else None}

    def put_in(self, values: dict) -> dict | None:
        """What the sentence before a row's loss lines says of the targets put into them (see
        targets.py), as inline math: the targets, the factors of the terms that drop out, the one
        target factor whose term alone remains, and whether local partials have them put in too."""
        put_in = self.worked.put_in
        key = put_in.key(values)
        words = put_in.words(key)
        if words is None:
            return None
        math = self.fmt.inline_math
        return {"values": [Markup(math(t)) for t in words["values"]],
                "dropped": [Markup(math(t)) for t in words["dropped"]],
                "only": Markup(math(words["only"])) if words["only"] else None,
                "partials": bool(self.worked.with_targets(values)[1])}

    def graph(self, step, values: dict) -> dict:
        """The graph figure with a step's numbers: each node's value and dL/dnode (the batch's first
        row; a parameter's gradient is the step's), each edge's local partial."""
        report = self.report
        if self._figure is None:
            self._figure = self.report.graph()
        figure, num = self._figure, report.num
        name_of = {node["id"]: str(node["label"]) for node in figure["nodes"]}
        where = values.where if isinstance(values, Sourced) else {}
        at = {p: k for k, p in enumerate(self.trace.layout.params)}
        nodes = []
        for node in figure["nodes"]:
            name, kind = name_of[node["id"]], node["kind"]
            if kind == "param":
                value, grad = step.params[name], step.gradients[name]
                sources = ("param", at[name]), ("gradient", at[name])
            elif kind in ("input", "target"):
                value, grad, sources = None, None, (None, None)
            else:
                value, grad = values[symbol(name)], values[delta_symbol(name)]
                sources = where.get(symbol(name)), where.get(delta_symbol(name))
            shown = report.given(values[symbol(name)], slotted=True, source=where.get(symbol(name))) if value is None \
                else num(value, slotted=True, source=sources[0])
            nodes.append({**node, "value": shown, "grad": None if grad is None else num(grad, slotted=True, source=sources[1])})
        local = set(self.trace.layout.edges)
        edges = []
        for source, target in figure["edges"]:
            edge = (name_of[target], name_of[source])
            partial = num(values[local_symbol(*edge)], slotted=True, source=where.get(local_symbol(*edge))) \
                if edge in local else None
            edges.append({"source": source, "target": target, "partial": partial})
        return {"nodes": nodes, "edges": edges}

    def row_table(self, step, values: list[dict], counter) -> dict:
        """The first rows of a step over many rows: the data, each row's loss and gradients."""
        report = self.report
        worked = self.worked
        header = [report.tex(c) for c in self.problem.graph.columns]
        header += [Markup(worked.loss_tex)] + [Markup(worked.gradient[p].lhs) for p in self.problem.graph.params]
        rows = []
        for j, (row, v) in enumerate(zip(step.rows, values)):
            loss, gradients = worked.row_terms(v)  # the row's loss is a sum: no plan reads it
            cells = [Markup(worked.slot(c, ("data", j, k), report.given_cell)) for k, c in enumerate(report.cells(row))]
            cells += [report.num(x, slotted=True) for x in (loss, *gradients)]
            rows.append({"number": counter(row + 1, ("row", j), row_number), "cells": cells})
        return {"header": header, "rows": rows, "more": Markup(worked.slot(f"{len(step.rows) - len(rows):,}")),
                "chunks": report.chunks(header, [row["cells"] for row in rows], 6)}

    def updates(self, per_param) -> list[dict]:
        """The update lines: one block for a one-line rule, else a block for each parameter."""
        report = self.report
        if all(len(lines) <= 1 for _, lines in per_param):
            return [{"name": None, "lines": report.equations([line for _, lines in per_param for line in lines])}]
        return [{"name": report.tex(p), "lines": report.equations(lines)} for p, lines in per_param]


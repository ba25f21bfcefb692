"""A step's numbers read straight from the trace by a plan made once per shape of step.

The first step of each shape is worked through the formulas, the worked lines and the step
template (see StepView.layouts); as it is, every number it shows records a recipe: where the
number is read (a source key) and the function that writes it (its form). The plan of the shape
is those recipes with each source as a position in one list of the step's numbers, so that every
later step of the shape is its numbers read from the trace's arrays and each written by its form.

Source keys:
  ("step",), ("epoch",), ("rate",), ("loss",)  the step's number, epoch, learning rate and loss
  ("row", j), ("sorted", j)     the j-th data row fed (0-based), in the batch's order or ascending
  ("data", j, c), ("sorted_data", j, c)   column c of the data of those rows
  ("param", k), ("gradient", k), ("updated", k)   parameter k (in the row layout's order) before
                                the step, its gradient, and its value after the step
  ("state", n), ("previous", n)  the optimiser's state number n (each parameter's in turn) after
                                the step, and before it (its starting value at the first step)
  ("out", j, c)                 column c of the j-th row's outputs (see RowLayout)
  ("row_loss", j)               the j-th row's loss: the sum of its loss nodes' values
  ("assigned", n)               the value of the optimiser's assignment number n (each trained
                                parameter's in turn), where the trace does not keep them all
  ("const", value)              a number every step of the shape shows alike
"""
from __future__ import annotations

from collections.abc import Callable


class Sourced(dict):
    """A row's values by symbol together with where each is read (`where`: symbol -> source key),
    made while a shape's plan is recorded."""

    def __init__(self, values: dict, where: dict):
        super().__init__(values)
        self.where = where


class StepNumbers:
    """The numbers of any step with `m` rows as one list, and the position of each source key in it."""

    def __init__(self, trace, m: int, updates):
        layout, problem = trace.layout, trace.problem
        self.trace, self.m, self.updates = trace, m, updates
        self.assigned = False  # whether a recipe reads the assignments' values
        self.data = [problem.data[c] for c in problem.graph.columns]
        rule = trace.compiled.stepper.rule
        self.initial = [rule.initial.get(s, 0) for _ in layout.params for s in layout.state]
        self.loss = [layout.nodes.index(n) for n in problem.graph.loss]
        self.constants: list = []
        p, s, w, c = len(layout.params), len(self.initial), layout.width, len(self.data)
        starts = {}
        at = 0
        for part, size in (("step", 1), ("epoch", 1), ("rate", 1), ("loss", 1), ("row", m), ("sorted", m),
                           ("param", p), ("gradient", p), ("updated", p), ("state", s), ("previous", s),
                           ("out", m * w), ("row_loss", m), ("data", m * c), ("sorted_data", m * c),
                           ("assigned", p * len(rule.assignments))):
            starts[part] = at
            at += size
        self.starts, self.width, self.columns, self.size = starts, w, c, at
        self.unread = [None] * (at - starts["assigned"])

    def position(self, key: tuple) -> int:
        part, *at = key
        if part == "assigned":
            self.assigned = True
        if part == "const":
            self.constants.append(at[0])
            return self.size + len(self.constants) - 1
        if part == "out":
            return self.starts[part] + at[0] * self.width + at[1]
        if part in ("data", "sorted_data"):
            return self.starts[part] + at[0] * self.columns + at[1]
        return self.starts[part] + (at[0] if at else 0)

    def numbers(self, index: int) -> list:
        """Every number of step `index` (0-based) at its position."""
        trace = self.trace
        start, end = int(trace.offsets[index]), int(trace.offsets[index + 1])
        rows = trace.rows[start:end].tolist()
        ordered = sorted(rows)
        params, gradients, rate = trace.params[index].tolist(), trace.gradients[index].tolist(), _scalar(trace.rates[index])
        previous = trace.state[index - 1].tolist() if index else self.initial
        numbers = [index + 1, int(trace.epochs[index]), rate, _scalar(trace.losses[index]), *rows, *ordered,
                   *params, *gradients, *trace.updated[index].tolist(), *trace.state[index].tolist(), *previous]
        block = trace.block(index).tolist()
        for outputs in block:
            numbers += outputs
        numbers += [sum(outputs[c] for c in self.loss) for outputs in block]
        data = self.data
        for row in rows:
            numbers += [column.item(row) for column in data]
        for row in ordered:
            numbers += [column.item(row) for column in data]
        numbers += self.updates.assigned(index + 1, params, gradients, rate, previous) if self.assigned else self.unread
        numbers += self.constants
        return numbers


def _scalar(value):
    return value.item() if hasattr(value, "item") else value


class Plan:
    """How each number of a shape of step is read and written: (position, form) pairs."""

    def __init__(self, numbers: StepNumbers, recipes: list[tuple[tuple, Callable]]):
        self.numbers = numbers
        self.pairs = [(numbers.position(source), form) for source, form in recipes]

    def texts(self, index: int) -> list[str]:
        """The text of every number step `index` shows, in its layout's order."""
        numbers = self.numbers.numbers(index)
        return [form(numbers[at]) for at, form in self.pairs]


def make_plan(trace, m: int, recipes: list, texts: list[str], index: int, updates) -> Plan | None:
    """The plan of a shape from the recipes of its first step (`index`; `updates`: the
    UpdateFormulas that work out the assignments' values), or None where a number
    has no recipe (it is not read straight from the trace) or the plan does not give that step's
    texts exactly."""
    if any(recipe is None for recipe in recipes):
        return None
    plan = Plan(StepNumbers(trace, m, updates), recipes)
    return plan if plan.texts(index) == texts else None

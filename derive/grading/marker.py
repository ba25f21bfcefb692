"""Checking hand calculations: each answer is correct, wrong, or follows from the student's own earlier error."""
from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass
from functools import cached_property

from .answers import Answer
from ..report.worked import Worked


@dataclass(frozen=True)
class Verdict:
    """`expected` is the true value; `own` what the student's own earlier answers lead to;
    `working` the correct line of working (LaTeX pieces joined by '=')."""

    step: int
    quantity: str
    given: float | list
    expected: float | list
    status: str
    own: float | list | None = None
    working: tuple[str, ...] = ()


def _rounds_to(value: float, given: float, decimals: int) -> bool:
    """True when `value` rounded half up to `decimals` places is what the student wrote."""
    unit = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(unit, ROUND_HALF_UP) == Decimal(repr(float(given))).quantize(unit, ROUND_HALF_UP)


class Checker:
    """Marks answers against a trace; `tolerance` (absolute) replaces the decimals-written rule."""

    def __init__(self, problem, trace, tolerance: float | None = None):
        self.problem, self.trace, self.tolerance = problem, trace, tolerance
        self._rounded: dict[int, object] = {}

    # -- the numbers the answers are compared with -----------------------------------------
    def true_value(self, step, quantity: str):
        group, _, name = quantity.partition(".")
        if group == "loss":
            return float(step.loss)
        source = {"values": step.values, "gradients": step.gradients, "updated": step.updated}[group]
        value = source[name]
        return [float(v) for v in value] if isinstance(value, list) else float(value)

    def rounded_path(self, decimals: int):
        """The run a student makes who carries `decimals` places throughout (carry = "rounded")."""
        if decimals not in self._rounded:
            report = dataclasses.replace(self.problem.report, carry="rounded", precision=decimals,
                                         significant=None, exact=False)
            self._rounded[decimals] = dataclasses.replace(self.problem, report=report).train()
        return self._rounded[decimals]

    def matches(self, given, target, decimals: int, step_index: int | None = None, quantity: str = "") -> bool:
        if isinstance(given, list):
            return isinstance(target, list) and len(given) == len(target) and all(
                self.matches(g, t, d, step_index, quantity) for g, t, d in zip(given, target, decimals))
        if isinstance(target, list):
            return False
        if self.tolerance is not None:
            return abs(given - target) <= self.tolerance
        if _rounds_to(target, given, decimals):
            return True
        if step_index is None or self.problem.report.exact:
            return False
        # Drift: a student who rounds every shown value to these decimals may land one unit away.
        path = self.rounded_path(decimals)
        if step_index >= len(path.steps):
            return False
        drifted = self.true_value(path.steps[step_index], quantity)
        return not isinstance(drifted, list) and _rounds_to(drifted, given, decimals)

    # -- marking ---------------------------------------------------------------------------
    def check(self, answers: list[Answer]) -> list[Verdict]:
        by_step: dict[int, dict[str, Answer]] = {}
        for answer in answers:
            by_step.setdefault(answer.step, {})[answer.quantity] = answer
        verdicts = []
        carried: tuple[int, dict[str, float]] = (0, {})
        for number in sorted(by_step):
            step = self.trace.steps[number - 1]
            given = by_step[number]
            # The student's updated parameters of the step before are this step's starting point.
            own = self.replay(step, given, carried[1] if carried[0] == number - 1 else {})
            working = self.working(step)
            for quantity in self.order(given):
                answer = given[quantity]
                expected = self.true_value(step, quantity)
                mine = own.get(quantity)
                if self.matches(answer.given, expected, answer.decimals, number - 1, quantity):
                    status = "correct"
                elif mine is not None and self.matches(answer.given, mine, answer.decimals) \
                        and not self.matches(mine, expected, answer.decimals):
                    status = "follows"
                else:
                    status = "wrong"
                verdicts.append(Verdict(number, quantity, answer.given, expected, status, mine,
                                        working.get(quantity, ())))
            carried = (number, {q.split(".", 1)[1]: a.given for q, a in given.items() if q.startswith("updated.")})
        return verdicts

    def order(self, given) -> list[str]:
        """Quantities in the order they are computed."""
        graph = self.problem.graph
        ordered = [f"values.{n}" for n in graph.node_names] + ["loss"] + \
                  [f"gradients.{p}" for p in graph.params] + [f"updated.{p}" for p in graph.params]
        return [q for q in ordered if q in given]

    # -- recomputing from the student's own numbers -----------------------------------------
    def replay(self, step, given: dict[str, Answer], student_params: dict[str, float]) -> dict:
        """What each quantity of the step comes to from the student's own numbers (true ones where
        the student gave none), by the compiled row step with the student's node values put in."""
        compiled = self.trace.compiled
        problem, layout = self.problem, compiled.layout
        graph = problem.graph
        params = {p: float(v) for p, v in step.params.items()}
        params.update(student_params)
        point = tuple(params[p] for p in graph.params)
        m = len(step.rows)
        n = len(layout.nodes)
        own_values = {name: [] for name in layout.nodes}
        row_grads, row_losses = [], []
        for i, row in enumerate(step.rows):
            answers = [given.get(f"values.{name}") for name in layout.nodes]
            put = tuple((a.given if m == 1 else a.given[i]) if a and (m == 1 or isinstance(a.given, list)) else None
                        for a in answers)
            out = compiled.replay(point, tuple(float(problem.data[c][row]) for c in graph.columns), put)
            for name, value in zip(layout.nodes, out[layout.width:layout.width + n]):
                own_values[name].append(float(value))
            row_losses.append(sum(float(out[k]) for k in layout.loss_index))
            row_grads.append([float(g) for g in out[layout.gradients]])
        own = {f"values.{name}": (v[0] if m == 1 else v) for name, v in own_values.items()}
        own["loss"] = sum(row_losses) / m
        gradients = {p: sum(column) / m for p, column in zip(graph.params, zip(*row_grads))}
        own.update({f"gradients.{p}": v for p, v in gradients.items()})
        used = [given[f"gradients.{p}"].given if f"gradients.{p}" in given else gradients[p] for p in graph.params]
        index = step.step - 1
        stepper = compiled.stepper
        state = tuple(float(v) for v in self.trace.state[index - 1]) if index > 0 else stepper.initial_state()
        result = stepper.update(point, tuple(used), state, float(step.learning_rate), step.step)
        own.update({f"updated.{p}": float(v) for p, v in zip(graph.params, result)})
        return own

    # -- the correct working ---------------------------------------------------------------
    def working(self, step) -> dict[str, tuple[str, ...]]:
        """The report's line for each quantity of a step, with the true numbers."""
        worked = self.worked
        graph = self.problem.graph
        lines: dict[str, tuple[str, ...]] = {}
        for i, row in enumerate(step.rows[:1]):  # in a batch, the first row's working stands for the rest
            values = worked.row_values(step, row, i)
            for line, name in zip(worked.lines_forward(values), [n for n in graph.node_names if n not in graph.loss]):
                lines[f"values.{name}"] = line.parts
            for line, name in zip(worked.lines_loss(values), graph.loss):
                lines[f"values.{name}"] = line.parts
                lines["loss"] = line.parts
            chain = worked.lines_chain(values)
            for line, p in zip(chain[-len(graph.params):], graph.params):
                lines[f"gradients.{p}"] = line.parts
        if len(step.rows) > 1:
            mean = worked.lines_mean(step)
            lines["loss"] = mean[0].parts
            for line, p in zip(mean[1:], graph.params):
                lines[f"gradients.{p}"] = line.parts
        previous = self.trace.steps[step.step - 2].state if step.step > 1 else None
        for p, update in worked.lines_update(step, previous):
            if update:
                lines[f"updated.{p}"] = update[-1].parts
        return lines

    @cached_property
    def worked(self):
        return Worked(self.trace.compiled)

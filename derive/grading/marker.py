"""Checking hand calculations: each answer is correct, wrong, or follows from the student's own earlier error."""
from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass
from functools import cached_property

import sympy

from .answers import Answer
from ..engine.codegen import compile_function
from ..engine.derivation import delta_symbol, local_symbol
from ..model.graph import symbol


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
    @cached_property
    def _functions(self):
        """One compiled function per node, local partial, delta and gradient, over every symbol."""
        graph, derivation = self.problem.graph, self.problem.derivation
        symbols = ([symbol(n) for n in (*graph.columns, *graph.params, *graph.node_names)]
                   + [delta_symbol(n) for n in graph.node_names] + [local_symbol(*e) for e in derivation.edges])
        codes = {s: sympy.Symbol(f"a{i}", real=True) for i, s in enumerate(symbols)}
        args = [str(codes[s]) for s in symbols]

        def make(expr):
            return compile_function("q", args, [("r", sympy.sympify(expr).xreplace(codes))], ["r"])

        nodes = [(n, make(e)) for n, e in graph.nodes]
        local = [(e, make(derivation.local[e])) for e in derivation.edges]
        deltas = [(n, make(derivation.delta[n])) for n in reversed(graph.node_names)]
        grads = [(p, make(derivation.gradient[p])) for p in graph.params]
        return symbols, nodes, local, deltas, grads

    def replay(self, step, given: dict[str, Answer], student_params: dict[str, float]) -> dict:
        """What each quantity of the step comes to from the student's own numbers (true ones where
        the student gave none)."""
        problem = self.problem
        graph = problem.graph
        symbols, nodes, local, deltas, grads = self._functions
        params = {p: float(v) for p, v in step.params.items()}
        params.update(student_params)
        m = len(step.rows)
        own_values = {n: [] for n in graph.node_names}
        row_grads = {p: [] for p in graph.params}
        row_losses = []
        for i, row in enumerate(step.rows):
            env = {s: 0.0 for s in symbols}
            env.update({symbol(c): float(problem.data[c][row]) for c in graph.columns})
            env.update({symbol(p): v for p, v in params.items()})
            call = lambda f: f(*(env[s] for s in symbols))[0]  # noqa: E731, B023 (used within this row)
            for name, f in nodes:
                value = call(f)
                own_values[name].append(value)
                answer = given.get(f"values.{name}")
                env[symbol(name)] = (answer.given if m == 1 else answer.given[i]) if answer and \
                    (m == 1 or isinstance(answer.given, list)) else value
            for edge, f in local:
                env[local_symbol(*edge)] = call(f)
            for name, f in deltas:
                env[delta_symbol(name)] = call(f)
            for p, f in grads:
                row_grads[p].append(call(f))
            row_losses.append(sum(env[symbol(n)] for n in graph.loss))
        own = {f"values.{n}": (v[0] if m == 1 else v) for n, v in own_values.items()}
        own["loss"] = sum(row_losses) / m
        gradients = {p: sum(v) / m for p, v in row_grads.items()}
        own.update({f"gradients.{p}": v for p, v in gradients.items()})
        used = [given[f"gradients.{p}"].given if f"gradients.{p}" in given else gradients[p] for p in graph.params]
        index = step.step - 1
        state = tuple(float(v) for v in self.trace.state[index - 1]) if index > 0 else problem.stepper.initial_state()
        result = problem.stepper.update(tuple(params[p] for p in graph.params), tuple(used), state,
                                        float(step.learning_rate), step.step)
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
        from ..report.worked import Worked

        return Worked(self.problem)

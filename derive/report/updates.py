"""The optimiser's update lines: each assignment of the rule, for each trained parameter, with its numbers."""
from __future__ import annotations

import math

import sympy

from ..engine.optimizers import ETA, GRAD, THETA, T
from ..model.graph import symbol
from ..model.names import latex_name
from .plan import Sourced


def primed(tex: str) -> str:
    """The updated value's name: w_{1}', or {w^{(1)}_{11}}' where a prime would be a second superscript."""
    return f"{{{tex}}}'" if "^" in tex else f"{tex}'"


class UpdateFormulas:
    """The optimiser's assignments, per parameter, as formulas; their values are re-evaluated from
    the step's parameter, gradient, rate and previous state by the same compiled rule."""

    def __init__(self, compiled, names, table, loss_tex: str, formula):
        problem = compiled.problem
        self.table = table
        rule = compiled.stepper.rule
        self.rule = rule
        self.problem = problem
        self.trained = [p for p in problem.graph.params if p not in problem.training.frozen]
        hyper = {sympy.Symbol(k, real=True): v for k, v in rule.hyper.items()}
        self.hyper = hyper

        def grad(tex: str) -> str:
            return rf"\frac{{\partial {loss_tex}}}{{\partial {tex}}}"

        self._formula = formula
        self.formulas = {p: self._formulas(names[symbol(p)], grad(names[symbol(p)])) for p in self.trained}
        self.generic = self._formulas(table["theta"], grad(table["theta"]))
        self.symbols = {t: sympy.Symbol(t, real=True) for t, _ in rule.assignments if t != "theta"}
        self.symbols.update({s: sympy.Symbol(s, real=True) for s in rule.state})
        self.updated = {p: sympy.Symbol(f"{p}'") for p in self.trained}
        self.function = compiled.assignments
        # Where every assignment sets theta or a state (each once), the trace holds its values.
        targets = [target for target, _ in rule.assignments]
        kept = len(set(targets)) == len(targets) and all(t == "theta" or t in rule.state for t in targets)
        self.stored = tuple(targets) if kept else None
        layout = compiled.layout
        self.params = layout.params
        self.position = {p: k for k, p in enumerate(layout.params)}
        self.state_names = layout.state

    def _formulas(self, theta: str, grad: str) -> list:
        """The rule's assignments for one parameter; state read before it is set is shown as s_{t-1}."""
        table = self.table
        t_ = table["t"]
        base = {THETA: theta, GRAD: grad, ETA: table["eta"], T: t_}
        base.update({h: table[h.name] for h in self.hyper})
        assigned: set[str] = set()
        formulas = []
        display = self.rule.display or tuple(e for _, e in self.rule.assignments)
        for (target, _), expr in zip(self.rule.assignments, display):
            names = dict(base)
            for t in assigned - {"theta", *self.rule.state}:
                names[sympy.Symbol(t, real=True)] = f"{self.glyph(t)}_{{{t_}}}"
            if "theta" in assigned:
                names[THETA] = primed(theta)
            for s in self.rule.state:
                tex = self.glyph(s)
                names[sympy.Symbol(s, real=True)] = f"{tex}_{{{t_}}}" if s in assigned else f"{tex}_{{{t_}-1}}"
            lhs = primed(theta) if target == "theta" else f"{self.glyph(target)}_{{{t_}}}"
            formulas.append(self._formula(lhs, expr, names, as_written=bool(self.rule.display)))
            assigned.add(target)
        return formulas

    def glyph(self, name: str) -> str:
        """The glyph of an optimiser quantity: its role's (m, v, b, s, a, u), or one made from
        such a glyph (mhat is the hat of m's glyph, vmax is v's glyph with a max superscript)."""
        if name in self.table.glyphs:
            return self.table[name]
        if name.endswith("hat"):
            return rf"\hat{{{self.glyph(name[:-3])}}}"
        if name == "vmax":
            return rf"{self.glyph('v')}^{{\max}}"
        return latex_name(name, {})

    def lines(self, step, previous_state, worked) -> list[tuple[str, list]]:
        """(parameter, its update lines) for every trained parameter of a step."""
        rule = self.rule
        fixed = {GRAD: None, ETA: step.learning_rate, T: step.step, **self.hyper}
        out = []
        for param in self.trained:
            old = (previous_state or {}).get(param, {})
            start = [old.get(s, rule.initial.get(s, 0)) for s in rule.state]
            if self.stored is not None:
                results = [step.updated[param] if t == "theta" else step.state[param][t] for t in self.stored]
            else:
                inputs = [step.params[param], step.gradients[param], step.learning_rate, step.step, *start]
                if self.problem.exact_arithmetic:
                    inputs = [_exact(v) for v in inputs]
                results = self.function(*inputs)
            latest = {"theta": step.params[param], **dict(zip(rule.state, start))}
            fixed[GRAD] = step.gradients[param]
            starts = {THETA: self.problem.initial[param]}
            where = self._sources(param) if worked.recipes is not None else None
            lines = []
            for (target, _), formula, result in zip(rule.assignments, self.formulas[param], results):
                env = {**fixed, THETA: latest["theta"],
                       **{self.symbols[k]: v for k, v in latest.items() if k != "theta"}}
                quantity = self.updated[param] if target == "theta" else None
                source = None
                if where is not None:
                    env = Sourced(env, dict(where))
                    source = self._source(param, target) if self.stored else \
                        ("assigned", self.position[param] * len(rule.assignments) + len(lines))
                    where[THETA if target == "theta" else self.symbols[target]] = source
                lines.append(worked.line(formula, env, result, quantity, starts, source))
                latest[target] = result
            out.append((param, lines))
        return out

    def assigned(self, step: int, params: list, gradients: list, rate, previous: list) -> list:
        """Every assignment's value for every parameter in the row layout's order (None for a
        frozen one), from a step's parameters, gradients, rate and previous state: the same
        compiled rule, given the same numbers, as `lines` evaluates."""
        width, out = len(self.state_names), []
        for k, param in enumerate(self.params):
            if param not in self.formulas:
                out += [None] * len(self.rule.assignments)
                continue
            inputs = [params[k], gradients[k], rate, step, *previous[k * width:(k + 1) * width]]
            if self.problem.exact_arithmetic:
                inputs = [_exact(v) for v in inputs]
            out += self.function(*inputs)
        return out

    def _sources(self, param: str) -> dict:
        """Where each value of a parameter's update is read before its first assignment."""
        where = {GRAD: ("gradient", self.position[param]), ETA: ("rate",), T: ("step",),
                 THETA: ("param", self.position[param])}
        where.update({h: ("const", v) for h, v in self.hyper.items()})
        width = len(self.state_names)
        for s in self.rule.state:
            where[self.symbols[s]] = ("previous", self.position[param] * width + self.state_names.index(s))
        return where

    def _source(self, param: str, target: str) -> tuple | None:
        """Where the trace holds a parameter's value after the step, or one of its state's."""
        if target == "theta":
            return ("updated", self.position[param])
        width = len(self.state_names)
        return ("state", self.position[param] * width + self.state_names.index(target))


def _exact(value):
    """A trace's number as the exact value it stands for: a float is its shortest decimal."""
    if isinstance(value, float):
        return sympy.Rational(repr(value)) if math.isfinite(value) else value
    return sympy.sympify(value)

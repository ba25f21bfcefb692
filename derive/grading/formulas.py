"""Derivatives a student wrote as formulas ([formulas] "dL/dyhat" = "2*(yhat - y)"), marked against derive's."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ..engine.derivation import local_symbol
from ..engine.steps import definitions, local_steps
from ..engine.verify import same
from ..errors import ExpressionError, SpecError, closest
from ..model.graph import symbol
from ..report.derivations import Derivations, read_result, spec_text

KEY = re.compile(r"d(\w+)/d(\w+)")


@dataclass(frozen=True)
class Formula:
    """One derivative a student wrote: d`top`/d`by` = `expr` (parsed through the spec's whitelist)."""

    key: str
    top: str
    by: str
    text: str
    expr: sympy.Expr


def read_formulas(where: str, table, layout) -> tuple[Formula, ...]:
    """The [formulas] table of an answers file; raises SpecError naming the file and the key."""
    if not isinstance(table, dict):
        raise SpecError(f'{where}: formulas: expected a table such as [formulas] "dL/dyhat" = "2*(yhat - y)".')
    nodes, params = layout.nodes, layout.params
    names = {n: symbol(n) for n in (*layout.columns, *params, *nodes)}
    found = []
    for key, text in table.items():
        match = KEY.fullmatch(key)
        if match is None:
            raise SpecError(f'{where}: formulas.{key}: write the key as "dA/dB", e.g. "dL/dyhat".')
        top, by = match.groups()
        if top not in nodes:
            raise SpecError(f"{where}: formulas.{key}: {top!r} is not a node.{closest(top, nodes)}")
        if by not in nodes and by not in params:
            raise SpecError(f"{where}: formulas.{key}: {by!r} is not a node or parameter.{closest(by, (*nodes, *params))}")
        if not isinstance(text, str):
            raise SpecError(f'{where}: formulas.{key}: write the formula as a string, e.g. "2*(yhat - y)".')
        try:
            expr = read_result(text, names)
        except ExpressionError as exc:
            raise SpecError(f"{where}: formulas.{key}: {exc}") from None
        found.append(Formula(key, top, by, text, expr))
    return tuple(found)


@dataclass(frozen=True)
class Marked:
    """A formula's verdict, as the marker's Verdict holds it (no step): derive's derivative and what
    the student's other formulas give, in the spec's syntax; the working and derivation when wrong."""

    quantity: str
    given: str
    expected: str
    status: str
    own: str | None
    working: tuple[str, ...]
    points: float
    score: float
    derivation: tuple[str, ...]


class FormulaMarker:
    """Marks formulas against the compiled derivation; every comparison is on expressions in data and
    parameters (each node replaced by its definition), exactly or at random points."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.problem = compiled.problem
        self.derivation = compiled.derivation
        self.graph = self.problem.graph
        self.nodes = definitions(self.graph)
        self.shown = Derivations(compiled)

    def truth(self, top: str, by: str) -> sympy.Expr:
        """d(top)/d(by): the local partial on an edge, else the chain rule's sum over paths."""
        return self.chain(top, by, {})

    def chain(self, top: str, by: str, given: dict[tuple[str, str], sympy.Expr]) -> sympy.Expr:
        """d(top)/d(by) built from the local partials, each taken from `given` where the student wrote it."""
        memo: dict[str, sympy.Expr] = {}
        children: dict[str, list[str]] = {}
        for node, parent in self.derivation.edges:
            children.setdefault(parent, []).append(node)

        def total(name: str) -> sympy.Expr:  # d(top)/d(name)
            if name == top:
                return sympy.Integer(1)
            if name not in memo:
                if (top, name) in given and name != by:
                    memo[name] = given[(top, name)]
                else:
                    memo[name] = sympy.Add(*(total(c) * given.get((c, name), self.derivation.local[(c, name)])
                                             for c in children.get(name, [])))
            return memo[name]

        return total(by)

    def mark(self, formulas, settings) -> list[Marked]:
        """A verdict for each formula (no step); `settings` give its points and the credit of follows."""
        given = {(f.top, f.by): f.expr for f in formulas}
        out = []
        for f in formulas:
            expected = self.truth(f.top, f.by)
            others = {k: v for k, v in given.items() if k != (f.top, f.by)}
            own = self.chain(f.top, f.by, others) if others else None
            student = f.expr.xreplace(self.nodes)
            if same(student, expected.xreplace(self.nodes)):
                status = "correct"
            elif own is not None and not same(own.xreplace(self.nodes), expected.xreplace(self.nodes)) \
                    and same(student, own.xreplace(self.nodes)):
                status = "follows"
            else:
                status = "wrong"
            quantity = f"formulas.{f.key}"
            points = settings.points_for(quantity)
            credit = {"correct": 1.0, "follows": settings.follows_credit}.get(status, 0.0)
            out.append(Marked(quantity, f.text, spec_text(sympy.factor_terms(expected)), status,
                              spec_text(sympy.factor_terms(own)) if status == "follows" else None,
                              self.working(f, expected) if status == "wrong" else (), points, points * credit,
                              self.derivation_lines(f) if status == "wrong" else ()))
        return out

    def working(self, f: Formula, expected: sympy.Expr) -> tuple[str, ...]:
        """d(top)/d(by) = the chain of partials = derive's formula, as in the report's whole-gradient lines."""
        lhs = self.shown.partial(f.top, f.by)
        if (f.top, f.by) in self.derivation.local:
            return lhs, self.shown.tex(sympy.factor_terms(expected))
        symbolic = self.chain_symbols(f.top, f.by)
        return lhs, self.shown.tex(symbolic), self.shown.tex(sympy.factor_terms(expected))

    def chain_symbols(self, top: str, by: str) -> sympy.Expr:
        names = self.shown.names
        for node, parent in self.derivation.edges:
            names.setdefault(local_symbol(node, parent), self.shown.partial(node, parent))
        given = {key: local_symbol(*key) for key in self.derivation.edges}
        return self.chain(top, by, given)

    def derivation_lines(self, f: Formula) -> tuple[str, ...]:
        """The rule-by-rule derivation of an edge's partial, one line a step, for a wrong answer."""
        if (f.top, f.by) not in self.derivation.local:
            return ()
        step = local_steps(self.graph, f.top, f.by, self.problem.display.get(f.top))
        lines = []

        def walk(s, number):
            words = s.rule.replace("_", " ") + (" rule" if s.by is not None else "")
            if s.inner is not None:
                words += f" with u = {spec_text(s.inner)}"
            lines.append(f"{number} {words}: {self.shown.line(s)}")
            for i, sub in enumerate(s.steps, start=1):
                walk(sub, f"{number}.{i}")

        walk(step, "1")
        return tuple(lines)


"""A row's targets of 0 or 1 put into its loss formulas first, as a teacher does: with y = 1 the
line is -log(0.9999939), not -(1 × log(0.9999939) + (1 - 1) × log(1 - 0.9999939)).

A target is put in where it picks terms of the loss: a term that it (or 1 - it) multiplies drops
out at 0 (the binary and the one-hot cross-entropy), not where it is only a number in the loss
((yhat - y)^2 keeps its form for every target)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy

from ..model.graph import symbol
from .slots import symbolic


def _terms(expr: sympy.Expr):
    """The terms of every sum in an expression."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Add):
            yield node.args


class TargetsPutIn:
    """The loss lines' and local partials' formulas of a row with its 0 or 1 targets put in, made
    once for each combination of such targets (a key, see `key`)."""

    def __init__(self, problem, derivation, names: Mapping[sympy.Symbol, str], formula: Callable):
        graph = problem.graph
        self.names, self.formula, self.derivation = names, formula, derivation
        self.targets = [symbol(t) for t in graph.targets]
        self.columns = [problem.data[t] for t in graph.targets]
        self.loss = [(n, problem.display.get(n, e)) for n, e in graph.nodes if n in graph.loss]
        self.picking = [any(self.dropped(e, {t: v}) for _, e in self.loss for v in (0, 1)) for t in self.targets]
        self._made: dict[tuple, tuple[dict, dict]] = {}

    def dropped(self, expr: sympy.Expr, known: Mapping) -> list[tuple[tuple, int]]:
        """(a sum's terms, the place of one that drops out) for each term of `expr` that the known
        targets make 0 and that holds more than targets."""
        targets = set(self.targets)
        return [(terms, i) for terms in _terms(expr) for i, term in enumerate(terms)
                if term.free_symbols - targets and term.free_symbols & set(known) and term.subs(known) == 0]

    def key(self, values: Mapping) -> tuple:
        """Each target's value (from a row's `values` by symbol) where it is 0 or 1 and picks terms
        of the loss, else None; () where no target is put in."""
        if not any(self.picking):
            return ()
        out = []
        for t, picking in zip(self.targets, self.picking):
            value = values[t] if picking else None
            out.append(int(value) if value is not None and value in (0, 1) else None)
        return tuple(out) if any(v is not None for v in out) else ()

    def rows_key(self, rows) -> tuple:
        """The keys of data rows (0-based), read from the data: a step's rows' loss lines' forms."""
        if not any(self.picking):
            return ()
        return tuple(self.key({t: column.item(row) for t, column in zip(self.targets, self.columns)}) for row in rows)

    def known(self, key: tuple) -> dict:
        return {t: sympy.Integer(v) for t, v in zip(self.targets, key) if v is not None}

    def formulas(self, key: tuple, lhs: Callable, edges) -> tuple[dict, dict]:
        """(loss node -> Formula, edge -> Formula) of the loss lines and the local partials whose
        expressions hold a target put in; the others keep the problem's formulas.
        `lhs(name or edge)` is a line's left side."""
        if key not in self._made:
            known = self.known(key)
            loss = {n: self.formula(lhs(n), e, self.names, filled=e.subs(known))
                    for n, e in self.loss if e.free_symbols & set(known)}
            local = {}
            for edge in edges:
                expr = self.derivation.local[edge]
                if expr.free_symbols & set(known):
                    local[edge] = self.formula(lhs(edge), sympy.factor_terms(expr), self.names,
                                               filled=sympy.factor_terms(expr.subs(known)))
            self._made[key] = loss, local
        return self._made[key]

    def words(self, key: tuple) -> dict | None:
        """What a sentence before the loss lines says (LaTeX): the targets put in ('y = 1'), the
        factors whose terms drop out ('(1 - y)'), and, where one term of several is left, its target
        factor ('y_{1}', "only the term with y_1 remains")."""
        known = self.known(key)
        if not known:
            return None
        values = [f"{self.names[t]} = {v}" for t, v in known.items()]
        dropped, only = [], None
        for _, expr in self.loss:
            found = self.dropped(expr, known)
            for terms, i in found:
                dropped.append(self.factor(terms[i], known, zero=True))
            groups = {terms for terms, _ in found}
            for terms in groups:
                left = [t for i, t in enumerate(terms) if (terms, i) not in found]
                if len(left) == 1 and len(terms) > 2 and left[0].free_symbols & set(known):
                    only = self.factor(left[0], known, zero=False)
        return {"values": values, "dropped": list(dict.fromkeys(dropped)), "only": only}

    def factor(self, term: sympy.Expr, known: Mapping, zero: bool) -> str:
        """The LaTeX of the factor of a term that holds a known target (the one that is 0, if `zero`)."""
        for f in sympy.Mul.make_args(term):
            if f.free_symbols & set(known) and (not zero or f.subs(known) == 0):
                tex = symbolic(f, self.names)
                return f"({tex})" if f.is_Add else tex
        return symbolic(term, self.names)

"""The "Deriving the derivatives" section: each local partial's steps as LaTeX, the whole gradient, and JSON."""
from __future__ import annotations

from functools import cached_property

import sympy
from markupsafe import Markup
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..engine.steps import Step, derivations, gradient_paths
from ..model.expressions import parse
from ..model.functions import DERIVATIVE_FUNCTIONS
from ..model.graph import symbol
from .slots import node_first, symbolic
from .worked import Line, latex_name

FULL_LIMIT = 12
ALIKE_SHOWN = 8  # partials derived alike that are named (all, up to twice this); the rest are counted


class SpecPrinter(StrPrinter):
    """An expression in the spec's syntax, positive terms first: 2*(yhat - y), F*(1 - F)."""

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda term: term.could_extract_minus_sign())

    def _print_Mul(self, expr):
        factors = node_first(expr)
        if factors is None:
            return super()._print_Mul(expr)
        return "*".join(self.parenthesize(f, precedence(expr)) for f in factors)


    def _print_Heaviside(self, expr):
        if len(expr.args) > 1 and expr.args[1] != 0:
            return super()._print_Heaviside(expr)
        return f"heaviside({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        """Huber's derivative d where |d| < delta, else delta*sign(d): d clipped to [-delta, delta]."""
        (inside, condition), (outside, _) = expr.args if len(expr.args) == 2 else ((None, None), (None, None))
        if isinstance(condition, sympy.StrictLessThan) and isinstance(condition.lhs, sympy.Abs):
            d, delta = condition.lhs.args[0], condition.rhs
            if inside == d and sympy.simplify(outside - delta * sympy.sign(d)) == 0:
                return f"max(-{self.parenthesize(delta, PRECEDENCE['Mul'])}, min({self._print(d)}, {self._print(delta)}))"
        return super()._print_Piecewise(expr)


def _written_parts(written: sympy.Expr | None) -> dict[sympy.Expr, sympy.Expr]:
    """The terms or factors of an expression as the spec writes it, by their evaluated form: a
    sub-step on w_AD A is shown as written, not as SymPy orders it (A w_AD)."""
    if written is None or not (written.is_Add or written.is_Mul):
        return {}
    return {_evaluated(part): part for part in written.args}


def _evaluated(expr: sympy.Expr) -> sympy.Expr:
    """An expression parsed as written, rebuilt as SymPy evaluates it."""
    return expr if expr.is_Atom else expr.func(*(_evaluated(a) for a in expr.args))


def spec_text(expr: sympy.Expr) -> str:
    """An expression in the spec's syntax, which `read_result` parses back."""
    return SpecPrinter().doprint(expr)


def read_result(text: str, names: dict[str, sympy.Symbol]) -> sympy.Expr:
    """A derivative written in the spec's syntax (a derivation's result, a student's formula), parsed
    through the whitelist with the functions a derivative may use (heaviside, sign, erf) and pi."""
    return parse(text, {"pi": sympy.pi, **names}, DERIVATIVE_FUNCTIONS)


class Derivations:
    """Every local partial derived once, checked; what the templates and the JSON show of it."""

    def __init__(self, compiled):
        self.problem = problem = compiled.problem
        self.derivation = compiled.derivation
        self._tex: dict[sympy.Expr, str] = {}
        graph = problem.graph
        self.names = {symbol(n): latex_name(n, problem.report.names)
                      for n in (*graph.columns, *graph.params, *graph.node_names)}

    def tex(self, expr: sympy.Expr) -> str:
        """LaTeX of an expression, printed once: a wide model's gradient repeats the same partials."""
        if expr not in self._tex:
            self._tex[expr] = symbolic(expr, self.names)
        return self._tex[expr]

    @cached_property
    def derived(self):
        return derivations(self.derivation, self.problem.display)

    @property
    def steps(self):
        return self.derived[0]

    @property
    def collapses(self):
        return self.derived[1]

    def products(self, expr: sympy.Expr) -> str:
        """A sum of products of partials as multiplied out by hand: each factor in its own parentheses."""
        terms = expr.args if expr.is_Add else (expr,)
        if not all(t.is_Mul for t in terms):
            return self.tex(expr)
        return " + ".join(r" \cdot ".join(rf"\left({self.tex(f)}\right)" for f in t.args) for t in terms)

    def name(self, name: str) -> str:
        return self.names[symbol(name)]

    def partial(self, node: str, parent: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.name(node), self.name(parent))

    def line(self, step: Step, written: sympy.Expr | None = None) -> str:
        """The step as an equation: d/dx (expr) = form, or expr = form for a rewrite; `written` is the
        expression as the spec writes it, shown in place of SymPy's ordering."""
        if step.by is None:
            shown = self.products(step.expr) if step.rule.endswith("cross_entropy") else self.tex(step.expr)
            return f"{shown} = {self.tex(step.form)}"
        d = "d" if step.by.name == "u" else r"\partial"
        inside = self.tex(step.expr) if written is None else symbolic(written, self.names, as_written=True)
        # A sum or a product is bracketed after d/dx (d/dw (w x), not d/dw w x); a fraction needs none.
        if step.expr.is_Add or (step.expr.is_Mul and not inside.startswith(r"\frac")):
            inside = rf"\left({inside}\right)"
        return rf"\frac{{{d}}}{{{d} {self.tex(step.by)}}} {inside} = {self.tex(step.form)}"

    @cached_property
    def groups(self) -> list[list[tuple[str, str]]]:
        """Partials derived by the same rules in the same shape (dz/dw1 = x1, dz/dw2 = x2): each group derived once."""
        groups: dict[object, list[tuple[str, str]]] = {}
        for key, step in self.steps.items():
            shape = key if step is None else tuple((s.rule, s.by is None, len(s.steps)) for s in step.walk())
            groups.setdefault(shape, []).append(key)
        return list(groups.values())

    @cached_property
    def mode(self) -> str:
        chosen = self.problem.report.derivations
        if chosen is not None:
            return chosen
        return "full" if len(self.groups) <= FULL_LIMIT else "summary"

    # -- the template context ------------------------------------------------------------
    def context(self) -> dict | None:
        if self.mode == "off":
            return None
        items = []
        local = self.derivation.local
        for number, (first, *alike) in enumerate(self.groups, start=1):
            item = self.item(number, self.partial(*first), self.steps[first], local[first],
                             self.problem.display.get(first[0]))
            named = alike if len(alike) <= 2 * ALIKE_SHOWN else alike[:ALIKE_SHOWN]
            item["alike"] = [Markup(f"{self.partial(*key)} = {self.result_tex(key)}") for key in named]
            item["more"] = len(alike) - len(item["alike"])
            items.append(item)
        for collapse in self.collapses:
            loss, z = collapse.key
            item = self.item(len(items) + 1, self.partial(loss, z), collapse.step, None)
            item["alike"], item["more"] = [], 0
            items.append(item)
        rules = []
        for step in (s for item in items for s in item["walk"]):
            if step.rule not in rules:
                rules.append(step.rule)
        return {"mode": self.mode, "items": items, "rules": rules, "gradient": self.gradient()}

    def result_tex(self, key) -> str:
        step = self.steps[key]
        return self.tex(step.result if step is not None else sympy.factor_terms(self.derivation.local[key]))

    def item(self, number: int, title: str, step: Step | None, engine, written=None) -> dict:
        if step is None:  # not derived by rules (or a step failed its check): the result is stated
            return {"number": number, "title": Markup(title), "result": Markup(self.tex(engine)),
                    "steps": [], "walk": []}
        return {"number": number, "title": Markup(title), "result": Markup(self.tex(step.result)),
                "steps": self.numbered(step, str(number), 0, written), "walk": list(step.walk())}

    def numbered(self, step: Step, number: str, depth: int, written=None) -> list[dict]:
        rows = [{"number": number, "depth": depth, "rule": step.rule, "line": Markup(self.line(step, written)),
                 "inner": Markup(self.tex(step.inner)) if step.inner is not None else None,
                 "var": Markup(self.tex(step.by)) if step.by is not None else None,
                 "condition": step.condition}]
        parts = _written_parts(written)
        for index, sub in enumerate(step.steps, start=1):
            rows.extend(self.numbered(sub, f"{number}.{index}", depth + 1, parts.get(_evaluated(sub.expr))))
        return rows

    def gradient(self) -> list[Line]:
        """dL/dθ = product of partials along each path = the derived formulas, for every parameter."""
        derivation = self.derivation
        loss = self.problem.graph.loss[0] if len(self.problem.graph.loss) == 1 else "L"
        lines = []
        collapsed = {c.key: c.step.result for c in self.collapses}
        for param, paths in gradient_paths(derivation, set(collapsed)).items():
            if not paths:
                continue
            symbols, forms = [], []
            for path in paths:
                symbols.append(r" \cdot ".join(self.partial(n, p) for n, p in path))
                factors = []
                for key in path:
                    form = collapsed.get(key)
                    if form is None:
                        step = self.steps.get(key)
                        form = step.result if step is not None else sympy.factor_terms(derivation.local[key])
                    if form != 1:
                        factors.append(form)
                # A sum is put in parentheses as a factor of a product, or as a term of a sum of paths.
                bracket = len(factors) > 1 or len(paths) > 1
                forms.append(r" \cdot ".join(rf"\left({self.tex(f)}\right)" if f.is_Add and bracket else self.tex(f)
                                               for f in factors) or "1")
            lhs = r"\frac{\partial %s}{\partial %s}" % (self.name(loss) if loss in self.problem.graph.node_names
                                                         else "L", self.name(param))
            parts = (lhs, " + ".join(symbols), " + ".join(forms))
            lines.append(Line(parts if parts[1] != parts[2] else parts[:2], sum(len(p) for p in parts) // 2))
        return lines

    # -- JSON ------------------------------------------------------------------------------
    def json(self) -> dict:
        out = {}
        for (node, parent), step in self.steps.items():
            if step is None:
                engine = self.derivation.local[(node, parent)]
                out[f"{node}/{parent}"] = {"rule": "stated", "latex": self.tex(engine), "result": spec_text(engine),
                                           "srepr": sympy.srepr(engine), "steps": []}
            else:
                out[f"{node}/{parent}"] = self.step_json(step)
        for collapse in self.collapses:
            entry = self.step_json(collapse.step)
            entry["via"] = list(collapse.via)
            out["/".join(collapse.key)] = entry
        return out

    def step_json(self, step: Step) -> dict:
        entry = {"rule": step.rule, "latex": self.line(step), "result": spec_text(step.result),
                 "srepr": sympy.srepr(step.result), "steps": [self.step_json(s) for s in step.steps]}
        if step.inner is not None:
            entry["inner"] = spec_text(step.inner)
        if step.condition is not None:
            entry["condition"] = step.condition
        return entry

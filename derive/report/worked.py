"""The worked lines of a step: each quantity as name = symbolic form = numbers = value."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from ..engine.derivation import delta_symbol, local_symbol
from .slots import Template, symbolic, template
from .symbols import SymbolTable
from ..model.graph import symbol
from ..model.names import latex_name
from .numformat import number_format
from ..engine.optimizers import ETA, GRAD, THETA, T


def primed(tex: str) -> str:
    """The updated value's name: w_{1}', or {w^{(1)}_{11}}' where a prime would be a second superscript."""
    return f"{{{tex}}}'" if "^" in tex else f"{tex}'"



@dataclass(frozen=True)
class Formula:
    """One quantity: its left side, symbolic form and slot template (None where the form is a
    single name or number, so that substituting would only repeat the value)."""

    lhs: str
    form: str | None
    template: Template | None
    width: int = 0  # the characters the symbolic part shows, for deciding where to break lines
    constant: bool = False  # the form is a number: the line ends there
    alias: sympy.Symbol | None = None  # the form is this one name: its value is shown as that name's


@dataclass(frozen=True)
class Line:
    """A worked line as LaTeX pieces; `parts` are joined with '='."""

    parts: tuple[str, ...]
    width: int = 0  # roughly the characters it shows


def visible_length(tex: str) -> int:
    """A rough count of the characters a formula shows, to decide where to break lines."""
    tex = re.sub(r"\\(left|right|mathit|operatorname|mathbf)", "", tex)
    tex = re.sub(r"\\frac\{\\partial ([^}]*)\}\{\\partial ([^}]*)\}", r"d\1/d\2", tex)
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}\s_^]", "", tex))


# The characters a number is reckoned to show when deciding line breaks. Breaks depend on the
# formula alone, not on a step's numbers, so every step of a report is laid out alike.
SLOT_WIDTH = 8


def _formula(lhs: str, expr: sympy.Expr, names, as_written=False, mul_symbol=None) -> Formula:
    form = symbolic(expr, names, as_written=as_written, mul_symbol=mul_symbol)
    slots = None if expr.is_Atom else template(expr, as_written=as_written)
    width = visible_length(lhs) + visible_length(form) + SLOT_WIDTH
    if slots is not None:
        width += visible_length(_TOKEN_FREE.sub("", slots.pattern)) + SLOT_WIDTH * len(slots.slots)
    return Formula(lhs, form, slots, width, constant=bool(expr.is_Number), alias=expr if expr.is_Symbol else None)


_TOKEN_FREE = re.compile(r"\{\d+\}")


class Worked:
    """Every formula of a problem, made once; `lines_*` fill them with a step's numbers."""

    def __init__(self, compiled):
        problem = self.problem = compiled.problem
        graph, derivation = problem.graph, compiled.derivation
        self.number_format = number_format(problem.report)
        spec_names = dict(problem.report.names)
        self.names: dict[sympy.Symbol, str] = {}
        for name in (*graph.columns, *graph.params, *graph.node_names):
            self.names[symbol(name)] = latex_name(name, spec_names)
        rule = compiled.stepper.rule
        batched = problem.training.batch_size != 1 and problem.n_rows > 1
        roles = ["theta", "eta", "t", *rule.hyper, *rule.state,
                 *(t for t, _ in rule.assignments if t in ("u",)),
                 *(["total"] if len(graph.loss) > 1 else []), *(["batch"] if batched else [])]
        self.symbols = SymbolTable.build({n: self.names[symbol(n)] for n in (*graph.columns, *graph.params,
                                                                              *graph.node_names)}, roles)
        self.loss_tex = self.symbols["total"] if len(graph.loss) > 1 else latex_name(graph.loss[0], spec_names)
        # The loss a step's update follows: the row's loss, or the mean over a batch of rows.
        if batched and rf"\bar{{{self.loss_tex}}}" not in self.symbols.spec.values():
            self.symbols.glyphs["batch"] = rf"\bar{{{self.loss_tex}}}"
        self.step_loss_tex = self.symbols["batch"] if batched else self.loss_tex
        for name in graph.node_names:
            self.names[delta_symbol(name)] = self.partial(self.loss_tex, self.names[symbol(name)])
        for node, parent in derivation.edges:
            self.names[local_symbol(node, parent)] = self.partial(self.names[symbol(node)], self.names[symbol(parent)])
        for param in graph.params:
            self.names[_grad_symbol(param)] = self.partial(self.loss_tex, self.names[symbol(param)])

        self.forward = [_formula(self.names[symbol(n)], problem.display.get(n, e), self.names, as_written=n in problem.display)
                        for n, e in graph.nodes]
        self.compiled_edges = list(derivation.edges)
        self.local = [_formula(self.names[local_symbol(n, p)], sympy.factor_terms(derivation.local[(n, p)]), self.names)
                      for n, p in derivation.edges]
        # A node's delta is worth a line when it is more than one local partial (or a constant).
        self.delta = {}
        for name in graph.node_names:
            expr = derivation.delta[name]
            if not expr.is_Atom or expr.is_Symbol and not str(expr).startswith("d["):
                self.delta[name] = _formula(self.names[delta_symbol(name)], expr, self.names, mul_symbol="dot")
        self.gradient = {p: _formula(self.names[_grad_symbol(p)], derivation.gradient[p], self.names, mul_symbol="dot")
                         for p in graph.params}
        self.updates = _UpdateFormulas(compiled, self.names, self.symbols, self.step_loss_tex)
        self.formats = self._overrides()
        self.recorder: list[str] | None = None
        # Numbers shown as given: the data, the settings, and a parameter while it holds its starting value.
        self.given = {ETA, T, *self.updates.hyper, *(symbol(c) for c in graph.columns)}
        self.initial = {symbol(p): problem.initial[p] for p in graph.params}
        self.initial.update({sympy.Symbol(f"{p}'"): problem.initial[p] for p in graph.params})
        # A local partial that is a bare name or number is shown as that name's value is.
        self.alias = {local_symbol(n, p): e for (n, p), e in derivation.local.items() if e.is_Symbol or e.is_Number}
        columns = {symbol(c) for c in graph.columns}
        self.bare = {edge for edge, e in derivation.local.items() if e in columns}
        self._given: dict = {}  # by symbol: (always given, the symbol it stands for, its starting value)
        # The symbol of every quantity, made once: creating SymPy symbols per step is slow.
        self._keys = {
            "columns": [(c, symbol(c)) for c in graph.columns],
            "params": [(p, symbol(p)) for p in graph.params],
            "nodes": [(n, symbol(n)) for n in graph.node_names],
            "deltas": [(n, delta_symbol(n)) for n in graph.node_names],
            "local": [(e, local_symbol(*e)) for e in derivation.edges],
            "gradients": [(p, _grad_symbol(p)) for p in graph.params],
        }
        # The symbol of each column of a row's outputs, in the kernel's layout.
        by_part = {"values": symbol, "local": lambda edge: local_symbol(*edge), "deltas": delta_symbol,
                   "gradients": _grad_symbol}
        self._output_symbols = [by_part[part](key) for part, key in compiled.layout.columns]

    def _overrides(self) -> dict:
        """Number formats by symbol from [report.overrides]: a name's decimals apply to the result of
        its own line, of dL/d(name) and of the parameter's update; substitutions keep the report's."""
        from dataclasses import replace

        base = self.number_format
        formats = {}
        for name, places in self.problem.report.overrides.items():
            fmt = replace(base, precision=places, significant=None)
            for s in (symbol(name), delta_symbol(name), _grad_symbol(name), sympy.Symbol(f"{name}'")):
                formats[s] = fmt
        return formats

    def definitions(self) -> list[tuple[str, str, str | None]]:
        """(LaTeX, words, value's LaTeX or None) for every symbol the report writes that the spec does
        not name, in the order the problem statement meets them: the update rule's, then the notations
        of the formulas."""
        rule = self.updates.rule
        used = ["theta", "eta", *(r for r in ("batch", "total") if r in self.symbols.glyphs),
                *rule.state, *(t for t, _ in rule.assignments if t == "u"), *rule.hyper,
                *(["t"] if any(T in e.free_symbols for _, e in rule.assignments) else [])]
        out = []
        for role in used:
            meaning, value = self.symbols.meanings[role], None
            if role in rule.hyper:
                value = self.number_format.given_latex(rule.hyper[role])
            elif role in rule.state:
                meaning += f", {self.number_format.given_text(rule.initial.get(role, 0))} before the first step"
            glyph = f"{self.updates.glyph(role)}_{{{self.symbols['t']}}}" if role in rule.state else self.symbols[role]
            out.append((glyph, meaning, value))
        for target, _ in rule.assignments:
            if target.endswith("hat"):
                moment = "first" if target == "mhat" else "second"
                out.append((f"{self.updates.glyph(target)}_{{{self.symbols['t']}}}",
                            f"is the {moment} moment corrected for its start at 0", None))
        text = " ".join(f.form or "" for f in (*self.forward, *self.local))
        if r"\log" in text:
            out.append((r"\log", "is the natural logarithm, ln", None))
        if r"\mathbf{1}" in text:
            out.append((r"\mathbf{1}\left[\cdot\right]", "is 1 when the condition holds and 0 otherwise", None))
        if r"\sigma" in text:
            out.append((r"\sigma(u)", "is the sigmoid function, 1/(1 + exp(-u))", None))
        return out

    @staticmethod
    def partial(top: str, bottom: str) -> str:
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"

    def is_given(self, value, symbol_: sympy.Symbol | None, starts: Mapping | None = None) -> bool:
        """Whether a value is a number from the spec: data, a setting, a parameter's starting value
        (`starts` adds starting values by symbol, e.g. for the generic theta of an update)."""
        known = self._given.get(symbol_)
        if known is None:
            resolved = self.alias.get(symbol_, symbol_)
            given = resolved in self.given or getattr(resolved, "is_Number", False)
            known = self._given[symbol_] = (given, resolved, self.initial.get(resolved))
        given, resolved, start = known
        if given:
            return True
        if starts and resolved in starts:
            start = starts[resolved]
        return start is not None and value == start

    def substituted(self, value, symbol_: sympy.Symbol, starts: Mapping | None = None) -> str:
        """LaTeX of a value substituted into a formula: computed values at the report's digits,
        given numbers (data, settings, starting values) as given."""
        if self.is_given(value, symbol_, starts):
            return self.number_format.given_latex(value)
        return self.number_format.latex(value)

    def number(self, value, symbol_: sympy.Symbol | None = None, starts: Mapping | None = None) -> str:
        """LaTeX of a line's result, with the [report.overrides] decimals of the quantity it belongs to."""
        if self.is_given(value, symbol_, starts):
            return self.slot(self.number_format.given_latex(value))
        return self.slot(self.formats.get(symbol_, self.number_format).latex(value))

    def slot(self, text: str) -> str:
        """`text`, or, while a recorder list is set, a numbered token standing for it (the text is
        recorded), so that a step's layout can be made once and filled with each step's numbers."""
        if self.recorder is None:
            return text
        self.recorder.append(text)
        return f"\x00{len(self.recorder) - 1}\x00"

    def line(self, formula: Formula, values: Mapping, value, quantity: sympy.Symbol | None = None,
             starts: Mapping | None = None) -> Line:
        """The worked line of a formula with a row's `values`; `quantity` is the symbol of the result."""
        parts = [formula.lhs]
        if formula.form != formula.lhs:
            parts.append(formula.form)
        if formula.template is not None:
            number = self.substituted if starts is None else (lambda v, s: self.substituted(v, s, starts))
            parts.append(formula.template.fill(values, number, self.slot))
        if not formula.constant:
            parts.append(self.number(value, formula.alias if formula.alias is not None else quantity, starts))
        return Line(tuple(parts), formula.width)

    def row_values(self, step, row: int, index: int) -> dict:
        """Every symbol's value for one row of a step (index: its position in the batch)."""
        keys = self._keys
        single = len(step.rows) == 1
        data = self.problem.data
        values = {s: data[c].item(row) for c, s in keys["columns"]}
        values.update({s: step.params[p] for p, s in keys["params"]})
        for source, group in ((step.values, "nodes"), (step.deltas, "deltas"), (step.local, "local")):
            if single:
                values.update({s: source[k] for k, s in keys[group]})
            else:
                values.update({s: source[k][index] for k, s in keys[group]})
        values.update({s: step.row_gradients[p][index] for p, s in keys["gradients"]})
        return values

    def outputs_values(self, params: dict, row: int, outputs: list) -> dict:
        """Every symbol's value for one row from the row's outputs in kernel order (node values,
        local partials, deltas, gradients): the quick road from a trace's table."""
        data = self.problem.data
        values = {s: data[c].item(row) for c, s in self._keys["columns"]}
        values.update({s: params[p] for p, s in self._keys["params"]})
        values.update(zip(self._output_symbols, outputs))
        return values

    def tex(self, name: str) -> str:
        return self.names[symbol(name)]

    def forward_form(self, name: str) -> str:
        """The symbolic form of a node's forward formula."""
        return self.forward[self.problem.graph.node_names.index(name)].form

    def local_formula(self, node: str, parent: str) -> Formula:
        return self.local[self.compiled_edges.index((node, parent))]

    def fill(self, formula: Formula, values: Mapping) -> str:
        """A formula's substituted numbers with a row's values (its value where it has no template)."""
        if formula.template is None:
            return self.number(values[formula.alias]) if formula.alias is not None else formula.form
        return formula.template.fill(values, self.substituted, self.slot)

    def lines_forward(self, values) -> list[Line]:
        loss = self.problem.graph.loss
        return [self.line(f, values, values[s], s) for f, (n, s) in zip(self.forward, self._keys["nodes"])
                if n not in loss]

    def lines_loss(self, values) -> list[Line]:
        loss = self.problem.graph.loss
        return [self.line(f, values, values[s], s) for f, (n, s) in zip(self.forward, self._keys["nodes"])
                if n in loss]

    def lines_local(self, values, shown: bool = False) -> list[Line]:
        """A line for each local partial, in the derivation's edge order; `shown`: only those that
        are more than an input's value (see read_off)."""
        return [self.line(f, values, values[s]) for f, (e, s) in zip(self.local, self._keys["local"])
                if not (shown and e in self.bare)]

    def read_off(self, values) -> list[str]:
        """The local partials that are an input's value (the input a weight multiplies), each as
        'partial = input = value', for a sentence rather than a line each."""
        return [" = ".join(self.line(f, values, values[s]).parts) for f, (e, s) in zip(self.local, self._keys["local"])
                if e in self.bare]

    def lines_chain(self, values) -> list[Line]:
        lines = [self.line(self.delta[n], values, values[s], s)
                 for n, s in reversed(self._keys["deltas"]) if n in self.delta]
        lines += [self.line(self.gradient[p], values, values[s], s) for p, s in self._keys["gradients"]]
        return lines

    def lines_mean(self, step, first: list[tuple] | None = None) -> list[Line]:
        """For a batch of several rows: the loss and each gradient as the mean of the rows' terms;
        given `first` (row_terms of the first rows), those terms and a count of the others."""
        m = len(step.rows)
        params = self.problem.graph.params
        if first is None:
            losses = [sum(step.values[n][i] for n in self.problem.graph.loss) for i in range(m)]
            gradients = [step.row_gradients[p] for p in params]
        else:
            losses = [loss for loss, _ in first]
            gradients = [[row[j] for _, row in first] for j in range(len(params))]
        loss = symbol(self.problem.graph.loss[0])
        lines = [self._mean(self.step_loss_tex, losses, m, step.loss, loss)]
        for p, terms in zip(params, gradients):
            lhs = self.partial(self.step_loss_tex, self.names[symbol(p)])
            lines.append(self._mean(lhs, terms, m, step.gradients[p], _grad_symbol(p)))
        return lines

    def _mean(self, lhs: str, terms, m: int, value, quantity) -> Line:
        shown = [self.number(t, quantity) for t in terms]
        inner = " + ".join(rf"\left({s}\right)" if i and t < 0 else s
                           for i, (s, t) in enumerate(zip(shown, terms)))
        if len(terms) < m:
            inner += rf" + \ldots \text{{ ({self.slot(f'{m - len(terms):,}')} more rows)}}"
        result = self.number(value, quantity)
        return Line((lhs, rf"\frac{{1}}{{{self.slot(str(m))}}} \left({inner}\right)", result),
                    visible_length(lhs) + SLOT_WIDTH * (len(terms) + 1) + (16 if len(terms) < m else 0))

    def row_terms(self, values) -> tuple[object, list]:
        """A row's loss and its gradients, from its values: the terms a batch's mean averages."""
        loss = self.problem.graph.loss
        row_loss = sum(values[s] for n, s in self._keys["nodes"] if n in loss)
        return row_loss, [values[s] for _, s in self._keys["gradients"]]

    def lines_update(self, step, previous_state) -> list[tuple[str, list[Line]]]:
        return self.updates.lines(step, previous_state, self)


def _grad_symbol(param: str) -> sympy.Symbol:
    return sympy.Symbol(f"G[{param}]", real=True)


class _UpdateFormulas:
    """The optimiser's assignments, per parameter, as formulas; their values are re-evaluated from
    the step's parameter, gradient, rate and previous state by the same compiled rule."""

    def __init__(self, compiled, names, table, loss_tex: str):
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

    def _formulas(self, theta: str, grad: str) -> list[Formula]:
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
            formulas.append(_formula(lhs, expr, names, as_written=bool(self.rule.display)))
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

    def lines(self, step, previous_state, worked) -> list[tuple[str, list[Line]]]:
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
            lines = []
            for (target, _), formula, result in zip(rule.assignments, self.formulas[param], results):
                env = {**fixed, THETA: latest["theta"],
                       **{self.symbols[k]: v for k, v in latest.items() if k != "theta"}}
                quantity = self.updated[param] if target == "theta" else None
                lines.append(worked.line(formula, env, result, quantity, starts))
                latest[target] = result
            out.append((param, lines))
        return out


def _exact(value):
    """A trace's number as the exact value it stands for: a float is its shortest decimal."""
    if isinstance(value, float):
        return sympy.Rational(repr(value)) if math.isfinite(value) else value
    return sympy.sympify(value)

"""The worked lines of a step: each quantity as name = symbolic form = numbers = value."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy

from ..engine.derivation import delta_symbol, local_symbol
from .plan import Sourced
from .slots import Template, symbolic, template
from .symbols import SymbolTable
from .targets import TargetsPutIn
from ..model.graph import symbol
from ..model.names import latex_name
from .forms import NumberForms
from .numformat import number_format
from ..engine.optimizers import T
from .updates import UpdateFormulas


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


def _formula(lhs: str, expr: sympy.Expr, names, as_written=False, mul_symbol=None,
             filled: sympy.Expr | None = None) -> Formula:
    """`filled`: the expression whose numbers the line shows where it is not `expr` (`expr` with a
    row's targets put in); its line always ends in the value."""
    form = symbolic(expr, names, as_written=as_written, mul_symbol=mul_symbol)
    shown = expr if filled is None else filled
    slots = None if shown.is_Atom else template(shown, as_written=as_written and filled is None)
    width = visible_length(lhs) + visible_length(form) + SLOT_WIDTH
    if slots is not None:
        width += visible_length(_TOKEN_FREE.sub("", slots.pattern)) + SLOT_WIDTH * len(slots.slots)
    return Formula(lhs, form, slots, width, constant=bool(expr.is_Number), alias=shown if shown.is_Symbol else None)


_TOKEN_FREE = re.compile(r"\{\d+\}")


def _shared_partials(graph, derivation) -> dict[tuple[str, str], str]:
    """The edges whose local partial a teacher states by rule rather than works line by line:
    "product" where the one term of the node holding the parent is the parent times one other
    name (the partial is that name: a weight's is the value it multiplies, the value's its weight),
    "added" where that term is the parent alone in a sum (the partial is 1)."""
    nodes = dict(graph.nodes)
    shared = {}
    for (node, parent), partial in derivation.local.items():
        p = symbol(parent)
        terms = [t for t in sympy.Add.make_args(nodes[node]) if p in t.free_symbols]
        if len(terms) != 1:
            continue
        if partial.is_Symbol and terms[0] == p * partial:
            shared[(node, parent)] = "product"
        elif terms[0] == p and partial == 1 and nodes[node].is_Add:
            shared[(node, parent)] = "added"
    return shared


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
        self.updates = UpdateFormulas(compiled, self.names, self.symbols, self.step_loss_tex, _formula)
        # While a step is recorded: the text of each number it shows, and (while its plan is
        # recorded) each number's recipe, (source key, form) or None (see plan.py).
        self.recorder: list[str] | None = None
        self.recipes: list | None = None
        self._slot_forms: dict = {}
        self._where: dict = {}
        self.forms = NumberForms(problem, derivation, self.updates.hyper, _grad_symbol)
        self.form, self.is_given = self.forms.form, self.forms.is_given
        self.shared = _shared_partials(graph, derivation)
        self.put_in = TargetsPutIn(problem, derivation, self.names, _formula)
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
        self._param_at = {p: k for k, p in enumerate(compiled.layout.params)}
        self._column = {s: i for i, s in enumerate(self._output_symbols)}

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

    def substituted(self, value, symbol_: sympy.Symbol, starts: Mapping | None = None) -> str:
        """LaTeX of a value substituted into a formula: computed values at the report's digits,
        given numbers (data, settings, starting values) as given."""
        return self.form(symbol_, starts)(value)

    def number(self, value, symbol_: sympy.Symbol | None = None, starts: Mapping | None = None,
               source: tuple | None = None) -> str:
        """LaTeX of a line's result, with the [report.overrides] decimals of the quantity it
        belongs to; `source`: where the value is read (see plan.py)."""
        form = self.form(symbol_, starts, result=True)
        return self.slot(form(value), source, form)

    def slot(self, text: str, source: tuple | None = None, form: Callable | None = None) -> str:
        """`text`, or, while a recorder list is set, a numbered token standing for it (the text is
        recorded), so that a step's layout can be made once and filled with each step's numbers;
        while recipes are recorded, `source` and `form` say how to make the text for any step
        (form(the value at source) is `text`)."""
        if self.recorder is None:
            return text
        self.recorder.append(text)
        if self.recipes is not None:
            self.recipes.append(None if source is None or form is None else (source, form))
        return f"\x00{len(self.recorder) - 1}\x00"

    def line(self, formula: Formula, values: Mapping, value, quantity: sympy.Symbol | None = None,
             starts: Mapping | None = None, source: tuple | None = None) -> Line:
        """The worked line of a formula with a row's `values`; `quantity` is the symbol of the
        result, `source` where its value is read (see plan.py)."""
        parts = [formula.lhs]
        if formula.form != formula.lhs:
            parts.append(formula.form)
        if formula.template is not None:
            parts.append(self.substitute(formula.template, values, starts))
        if not formula.constant:
            parts.append(self.number(value, formula.alias if formula.alias is not None else quantity, starts, source))
        return Line(tuple(parts), formula.width)

    def substitute(self, template: Template, values: Mapping, starts: Mapping | None = None) -> str:
        """A template's numbers from `values` (by symbol), each in its slot."""
        key = (id(template), tuple(starts.items()) if starts else None)
        forms = self._slot_forms.get(key)
        if forms is None:
            forms = self._slot_forms[key] = [(s.symbol, self.form(s.symbol, starts, False, s.parens, s.power_base))
                                             for s in template.slots]
        where = values.where if isinstance(values, Sourced) else {}
        return template.pattern.format(*[self.slot(form(values[s]), where.get(s), form) for s, form in forms])

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

    def outputs_values(self, params: dict, row: int, outputs: list, index: int = 0) -> dict:
        """Every symbol's value for one row from the row's outputs in kernel order (node values,
        local partials, deltas, gradients): the quick road from a trace's table. `index`: the
        row's place in its batch; while recipes are recorded the values say where each is read."""
        data = self.problem.data
        values = {s: data[c].item(row) for c, s in self._keys["columns"]}
        values.update({s: params[p] for p, s in self._keys["params"]})
        values.update(zip(self._output_symbols, outputs))
        return values if self.recipes is None else Sourced(values, self.sources(index))

    def sources(self, index: int) -> dict:
        """Where each symbol of the `index`-th row of a step is read (see plan.py)."""
        if index not in self._where:
            where = {s: ("data", index, i) for i, (_, s) in enumerate(self._keys["columns"])}
            where.update({s: ("param", self._param_at[p]) for p, s in self._keys["params"]})
            where.update({s: ("out", index, i) for i, s in enumerate(self._output_symbols)})
            self._where[index] = where
        return self._where[index]

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
        return self.substitute(formula.template, values)

    def lines_forward(self, values) -> list[Line]:
        loss = self.problem.graph.loss
        return [self.line(f, values, values[s], s, source=_at(values, s)) for f, (n, s) in zip(self.forward, self._keys["nodes"])
                if n not in loss]

    def with_targets(self, values) -> tuple[dict, dict]:
        """The loss and local partial formulas with the row's targets of 0 or 1 put in, where they
        pick terms of the loss (see targets.py): (loss node -> Formula, edge -> Formula)."""
        key = self.put_in.key(values)
        if not key:
            return {}, {}
        return self.put_in.formulas(key, lambda n: self.names[local_symbol(*n)] if isinstance(n, tuple)
                                    else self.tex(n), self.compiled_edges)

    def lines_loss(self, values) -> list[Line]:
        loss, put_in = self.problem.graph.loss, self.with_targets(values)[0]
        return [self.line(put_in.get(n, f), values, values[s], s, source=_at(values, s))
                for f, (n, s) in zip(self.forward, self._keys["nodes"]) if n in loss]

    def lines_local(self, values, shown: bool = False) -> list[Line]:
        """A line for each local partial, in the derivation's edge order; `shown`: only those not
        stated by a shared rule (see read_off)."""
        put_in = self.with_targets(values)[1]
        return [self.line(put_in.get(e, f), values, values[s], source=_at(values, s))
                for f, (e, s) in zip(self.local, self._keys["local"]) if not (shown and e in self.shared)]

    def read_off(self, values) -> dict[str, list[str]]:
        """The local partials a shared rule gives, for a sentence rather than a line each: by rule,
        "product" ('partial = the other factor = value') and "added" (the partials that are 1)."""
        out: dict[str, list[str]] = {"product": [], "added": []}
        for f, (e, s) in zip(self.local, self._keys["local"]):
            rule = self.shared.get(e)
            if rule == "product":
                out[rule].append(" = ".join(self.line(f, values, values[s], source=_at(values, s)).parts))
            elif rule == "added":
                out[rule].append(f.lhs)
        out["added"] = [" = ".join([*out["added"], "1"])] if out["added"] else []
        return out

    def lines_chain(self, values) -> list[Line]:
        lines = [self.line(self.delta[n], values, values[s], s, source=_at(values, s))
                 for n, s in reversed(self._keys["deltas"]) if n in self.delta]
        lines += [self.line(self.gradient[p], values, values[s], s, source=_at(values, s)) for p, s in self._keys["gradients"]]
        return lines

    def lines_mean(self, step, first: list[tuple] | None = None) -> list[Line]:
        """For a batch of several rows: the loss and each gradient as the mean of the rows' terms;
        given `first` (row_terms of the first rows), those terms and a count of the others."""
        m = len(step.rows)
        params = self.problem.graph.params
        rows = range(m) if first is None else range(len(first))
        if first is None:
            losses = [sum(step.values[n][i] for n in self.problem.graph.loss) for i in rows]
            gradients = [step.row_gradients[p] for p in params]
        else:
            losses = [loss for loss, _ in first]
            gradients = [[row[j] for _, row in first] for j in range(len(params))]
        # Where the terms are read: a row's loss (the sum of its loss nodes) and its gradients.
        known = self.recipes is not None and first is None
        loss = symbol(self.problem.graph.loss[0])
        lines = [self._mean(self.step_loss_tex, losses, m, step.loss, loss,
                            [("row_loss", i) if known else None for i in rows], ("loss",))]
        for p, terms in zip(params, gradients):
            lhs = self.partial(self.step_loss_tex, self.names[symbol(p)])
            column = self._column[_grad_symbol(p)]
            lines.append(self._mean(lhs, terms, m, step.gradients[p], _grad_symbol(p),
                                    [("out", i, column) if known else None for i in rows],
                                    ("gradient", self._param_at[p])))
        return lines

    def _mean(self, lhs: str, terms, m: int, value, quantity, sources: list, source: tuple) -> Line:
        first, rest = self.form(quantity, result=True), self.form(quantity, result=True, parens=True)
        inner = " + ".join(self.slot((rest if i else first)(t), at, rest if i else first)
                           for i, (t, at) in enumerate(zip(terms, sources)))
        if len(terms) < m:
            more = m - len(terms)
            inner += rf" + \ldots \text{{ ({self.slot(f'{more:,}', ('const', more), '{:,}'.format)} more rows)}}"
        result = self.number(value, quantity, source=source)
        return Line((lhs, rf"\frac{{1}}{{{self.slot(str(m), ('const', m), str)}}} \left({inner}\right)", result),
                    visible_length(lhs) + SLOT_WIDTH * (len(terms) + 1) + (16 if len(terms) < m else 0))

    def row_terms(self, values) -> tuple[object, list]:
        """A row's loss and its gradients, from its values: the terms a batch's mean averages."""
        loss = self.problem.graph.loss
        row_loss = sum(values[s] for n, s in self._keys["nodes"] if n in loss)
        return row_loss, [values[s] for _, s in self._keys["gradients"]]

    def lines_update(self, step, previous_state) -> list[tuple[str, list[Line]]]:
        return self.updates.lines(step, previous_state, self)


def _at(values: Mapping, symbol_) -> tuple | None:
    """Where a row's value of `symbol_` is read, while recipes are recorded (see plan.py)."""
    return values.where.get(symbol_) if isinstance(values, Sourced) else None


def _grad_symbol(param: str) -> sympy.Symbol:
    return sympy.Symbol(f"G[{param}]", real=True)

"""The matrix view of [model] layers: each step's forward pass, backpropagation, gradients and
update as matrix equations with their numbers, one column for each row of the batch worked in full.

Every entry is the number the scalar trace carries (node values, local partials, deltas and
gradients), so each matrix line checks entry by entry from the entries printed on it."""
from __future__ import annotations

import re

import sympy

from ..engine.derivation import delta_symbol, local_symbol
from ..model.graph import symbol
from .matrixtext import BETWEEN, BETWEEN_ANY, Grid, bmatrix, elide, shown_width
from .worked import SLOT_WIDTH, Line, _grad_symbol

ACTIVATION_WORDS = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "linear": "identity"}


class MatrixView:
    """The matrix lines of a layer spec's steps; `worked` supplies the numbers' formats and slots."""

    def __init__(self, worked, problem, width: int, derivation=None):
        self.worked = worked
        self.problem = problem
        self.derivation = derivation
        self._row_formulas: dict[tuple, list] = {}
        self.layers = problem.layers
        self.width = width
        self.limit = max(4, (width - 10) // (SLOT_WIDTH + 3) // 2)  # columns of a matrix shown whole
        inside = {n for layer in self.layers for n in (*(layer.sums or ()), *layer.outputs)}
        self.outside = [n for n in problem.graph.node_names if n not in inside]
        self.shortened: dict[str, str] = {}  # a matrix shown with ⋯ or ⋮: its bmatrix with every entry
        self.in_full: list[Line] = []  # the lines made so far that show such a matrix, with every entry

    # -- names ---------------------------------------------------------------------------
    @staticmethod
    def weight(k: int) -> str:
        return rf"W^{{({k})}}"

    @staticmethod
    def bias(k: int) -> str:
        return rf"\mathbf{{b}}^{{({k})}}"

    def vector(self, letter: str, k: int, batch: int) -> str:
        """The name of a layer's column (one row) or of its matrix (a batch's rows as columns)."""
        if letter == "x":
            return r"X" if batch > 1 else r"\mathbf{x}"
        if letter == "delta":
            return rf"\Delta^{{({k})}}" if batch > 1 else rf"\boldsymbol{{\delta}}^{{({k})}}"
        return rf"{letter.upper()}^{{({k})}}" if batch > 1 else rf"\mathbf{{{letter}}}^{{({k})}}"

    def source(self, k: int, batch: int) -> str:
        return self.vector("x", 0, batch) if k == 1 else self.vector("h", k - 1, batch)

    def sums(self, layer, batch: int) -> str:
        return self.vector("z" if layer.sums else "h", layer.number, batch)

    def activation(self, layer, argument: str) -> str:
        """The activation's LaTeX as the forward formulas print it, applied to `argument`."""
        form = self.worked.forward_form(layer.outputs[0])
        return form.replace(self.worked.tex(layer.sums[0]), argument)

    def derivative(self, layer) -> str:
        """The activation's derivative as a function: relu', \\sigma'."""
        name = re.match(r"\\operatorname\{\w+\}|\\[a-zA-Z]+|[a-zA-Z]+", self.activation(layer, ""))
        return (name.group() if name else "f") + "'"

    # -- cells ---------------------------------------------------------------------------
    def grid(self, cells: list[list[str]]) -> Grid:
        return elide(cells, self.limit)

    def m(self, grid: Grid) -> str:
        """The bmatrix of a grid; one with entries left out is remembered with all of them."""
        shown = bmatrix(grid)
        if not grid.whole:
            self.shortened[shown] = bmatrix(grid, full=True)
        return shown

    def given(self, value, symbol_) -> str:
        return self.worked.slot(self.worked.substituted(value, symbol_))

    def result(self, value, symbol_) -> str:
        return self.worked.number(value, symbol_)

    def indicator(self, value, symbol_=None) -> str:
        """An entry of an indicator, 0 or 1 exactly as a teacher writes it."""
        return self.worked.slot("1" if value == 1 else "0")

    def line(self, lhs: str, form: str, numbers: str | None, result: str) -> Line:
        """lhs = form = numbers = result, continued on further rows where it is wider than the page.
        Where a matrix on it has entries left out, the line with every entry joins `in_full`."""
        whole = [self.whole(p) for p in (numbers, result)]
        if whole != [numbers, result]:
            self.in_full.append(self.fitted(lhs, form, *whole, every=True))
        return self.fitted(lhs, form, numbers, result)

    def whole(self, part: str | None) -> str | None:
        """A part with each of its shortened matrices written with every entry."""
        if part is None:
            return None
        for shown, full in self.shortened.items():
            part = part.replace(shown, full)
        return part

    def fitted(self, lhs: str, form: str, numbers: str | None, result: str, every: bool = False) -> Line:
        parts = [p for p in (form, numbers, result) if p]
        if self.shown(" = ".join((lhs, *parts))) + 8 <= self.width:
            return Line((lhs, *parts))
        rows, current = [], [parts[0]]
        for part in parts[1:]:
            if self.shown(" = ".join(current + [part])) + 10 > self.width:
                rows.append(" = ".join(current))
                current = [part]
            else:
                current.append(part)
        rows.append(" = ".join(current))
        return Line((lhs, r" \\ &= ".join(self.wrap(row, every) for row in rows)))

    def shown(self, tex: str) -> int:
        return shown_width(tex, self.worked.recorder)

    def wrap(self, part: str, every: bool = False) -> str:
        """A part wider than the page continued on further rows between its matrices (`every`: also
        between two matrices multiplied, as a line with every entry may need)."""
        if self.shown(part) + 4 <= self.width:
            return part
        between = BETWEEN_ANY if every else BETWEEN
        cuts = [m.start() for m in between.finditer(part)
                if part.count(r"\left", 0, m.start()) == part.count(r"\right", 0, m.start())]
        pieces = [part[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(part)])]
        rows, current = [], pieces[0]
        for piece in pieces[1:]:
            if self.shown(current + piece) + 8 > self.width:
                rows.append(current)
                current = piece
            else:
                current += " " + piece
        return r" \\ &\qquad ".join([*rows, current])

    # -- a step --------------------------------------------------------------------------
    def forward(self, values: list[dict]) -> list[Line]:
        m = len(values)
        lines = []
        for layer in self.layers:
            k = layer.number
            sources = layer.sources
            w = self.grid([[self.given(values[0][symbol(name)], symbol(name)) for name in row] for row in layer.weights])
            a = self.grid([[self.given(values[r][symbol(sources[i])], symbol(sources[i]))
                    for r in range(m)] for i in range(len(sources))])
            b = self.grid([[self.given(values[0][symbol(layer.biases[j])], symbol(layer.biases[j]))
                    for _ in range(1)] for j in range(len(layer.biases))])
            first = layer.sums or layer.outputs
            z = self.grid([[self.result(values[r][symbol(first[j])], symbol(first[j]))
                    for r in range(m)] for j in range(len(first))])
            form = f"{self.weight(k)} {self.source(k, m)} + {self.bias(k)}"
            lines.append(self.line(self.sums(layer, m), form,
                                   f"{self.m(w)} {self.m(a)} + {self.m(b)}", self.m(z)))
            if layer.sums:
                zs = self.grid([[self.given(values[r][symbol(first[j])], symbol(first[j]))
                        for r in range(m)] for j in range(len(first))])
                h = self.grid([[self.result(values[r][symbol(layer.outputs[j])], symbol(layer.outputs[j]))
                        for r in range(m)] for j in range(len(layer.outputs))])
                lines.append(self.line(self.vector("h", k, m), self.activation(layer, self.vector("z", k, m)),
                                       self.activation(layer, self.m(zs)), self.m(h)))
        return lines

    def backward(self, values: list[dict]) -> list[Line]:
        """From dL/d(last layer's outputs) back to each layer's delta, then the row gradients."""
        m, lines = len(values), []
        for layer in reversed(self.layers):
            k, outs = layer.number, layer.outputs
            upstream = self.upstream(layer, m)
            if layer is self.layers[-1]:
                dh = self.grid([[self.given(values[r][delta_symbol(outs[j])], delta_symbol(outs[j]))
                        for r in range(m)] for j in range(len(outs))])
            else:
                nxt = self.layers[k]
                first = nxt.sums or nxt.outputs
                wt = self.grid([[self.given(values[0][local_symbol(first[i], outs[j])], local_symbol(first[i], outs[j]))
                        for i in range(len(first))] for j in range(len(outs))])
                dn = self.grid([[self.given(values[r][delta_symbol(first[i])], delta_symbol(first[i]))
                        for r in range(m)] for i in range(len(first))])
                dh = self.grid([[self.result(values[r][delta_symbol(outs[j])], delta_symbol(outs[j]))
                        for r in range(m)] for j in range(len(outs))])
                lines.append(self.line(upstream, f"{{{self.weight(k + 1)}}}^{{\\top}} {self.vector('delta', k + 1, m)}",
                                       f"{self.m(wt)} {self.m(dn)}", self.m(dh)))
                dh = self.grid([[self.given(values[r][delta_symbol(outs[j])], delta_symbol(outs[j]))
                        for r in range(m)] for j in range(len(outs))])
            if not layer.sums:
                continue
            sums = layer.sums
            local = [self.worked.local_formula(outs[j], sums[j]) for j in range(len(outs))]
            indicator = r"\mathbf{1}" in (local[0].form or "")  # its entries are 0 or 1, read off the sums
            entry = self.indicator if indicator else self.result
            fv = self.grid([[entry(values[r][local_symbol(outs[j], sums[j])], local_symbol(outs[j], sums[j]))
                    for r in range(m)] for j in range(len(outs))])
            z = self.vector("z", k, m)
            prime = f"{self.derivative(layer)}\\left({z}\\right)"
            if indicator:
                rule = local[0].form.replace(self.worked.tex(sums[0]), z)
                lines.append(self.line(prime, rule, None, self.m(fv)))
            else:
                fp = self.grid([[self.worked.fill(local[j], values[r]) for r in range(m)] for j in range(len(outs))])
                lines.append(self.line(prime, None, self.m(fp) if local[0].template is not None else None,
                                       self.m(fv)))
            entry = self.indicator if indicator else self.given
            fv_given = self.grid([[entry(values[r][local_symbol(outs[j], sums[j])], local_symbol(outs[j], sums[j]))
                    for r in range(m)] for j in range(len(outs))])
            d = self.grid([[self.result(values[r][delta_symbol(sums[j])], delta_symbol(sums[j]))
                    for r in range(m)] for j in range(len(outs))])
            lines.append(self.line(self.vector("delta", k, m), rf"{upstream} \odot {prime}",
                                   rf"{self.m(dh)} \odot {self.m(fv_given)}", self.m(d)))
        return lines

    def start_step(self) -> None:
        self.shortened, self.in_full = {}, []

    def row_lines(self, values: dict, tag: str | None) -> list[Line]:
        """A row's loss, the local partials outside the layers and the deltas into the last layer, as
        numbers only (the formulas are the problem's), with a target of 0 or 1 put into the formula
        first, as a teacher does (see targets.py): -log(0.5768) for y = 1, not
        -1 × log(0.5768) - (1 - 1) × log(…)."""
        worked, graph = self.worked, self.problem.graph
        key = worked.put_in.key(values)
        formulas = self._row_formulas.get(key)
        if formulas is None:
            loss, local = worked.with_targets(values)
            formulas = [(loss.get(n, f), s, s) for f, (n, s) in zip(worked.forward, worked._keys["nodes"])
                        if n in graph.loss]
            formulas += [(local.get(e, f), s, None) for f, (e, s) in zip(worked.local, worked._keys["local"])
                         if e[0] in self.outside]
            last = set(self.layers[-1].outputs)
            for n, s in reversed(worked._keys["deltas"]):
                if n in worked.delta and (n in self.outside or n in last):
                    formulas.append((worked.delta[n], s, s))
            self._row_formulas[key] = formulas
        lines = []
        for formula, value, quantity in formulas:
            line = worked.line(formula, values, values[value], quantity)
            lines.append(self.tagged(Line((line.parts[0], *line.parts[2:])) if len(line.parts) > 3 else line, tag))
        return lines

    def upstream(self, layer, m: int) -> str:
        h = self.vector("h", layer.number, m)
        loss = self.worked.loss_tex
        return rf"\frac{{\partial {loss}}}{{\partial {h}}}"

    def gradients(self, values: list[dict], rows: list) -> list[Line]:
        """Each row's dL/dW = delta times the layer's input transposed (for a batch, row by row)."""
        lines = []
        for layer in self.layers:
            k = layer.number
            first = layer.sums or layer.outputs
            for row, v in zip(rows, values):
                d = self.grid([[self.given(v[delta_symbol(first[j])], delta_symbol(first[j]))
                        for _ in range(1)] for j in range(len(first))])
                a = self.grid([[self.given(v[local_symbol(first[0], layer.weights[0][i])], local_symbol(first[0], layer.weights[0][i]))
                        for i in range(len(layer.sources))] for _ in range(1)])
                g = self.grid([[self.result(v[_grad_symbol(layer.weights[j][i])], _grad_symbol(layer.weights[j][i]))
                        for i in range(len(layer.sources))] for j in range(len(first))])
                lhs = self.gradient_name(self.weight(k), row if len(rows) > 1 else None)
                delta = self.vector("delta", k, 1)
                a_name = self.vector("x", 0, 1) if k == 1 else self.vector("h", k - 1, 1)
                tag = rf"_{{({row})}}" if len(rows) > 1 else ""
                lines.append(self.line(lhs, rf"{delta}{tag} \, {{{a_name}{tag}}}^{{\top}}",
                                       f"{self.m(d)} {self.m(a)}", self.m(g)))
        return lines

    def gradient_name(self, of: str, row=None, loss: str | None = None) -> str:
        loss = loss or self.worked.loss_tex
        if row is not None:
            loss = rf"{loss}_{{({row})}}"
        return rf"\frac{{\partial {loss}}}{{\partial {of}}}"

    def mean(self, step, values: list[dict]) -> list[Line]:
        """The batch's gradients: the mean of its rows' gradients, as matrices."""
        m, lines = len(values), []
        count = self.worked.slot(str(m))
        for layer in self.layers:
            k = layer.number
            for name, names in ((self.weight(k), layer.weights), (self.bias(k), [[b] for b in layer.biases])):
                terms = [self.m(self.grid([[self.given(v[_grad_symbol(p)], _grad_symbol(p)) for p in row]
                                            for row in names])) for v in values]
                mean = self.grid([[self.result(step.gradients[names[j][i]], _grad_symbol(names[j][i]))
                        for i in range(len(names[0]))] for j in range(len(names))])
                lines.append(self.line(self.gradient_name(name, loss=self.worked.step_loss_tex), None,
                                       " + ".join(rf"\frac{{1}}{{{count}}} {t}" for t in terms), self.m(mean)))
        return lines

    def update(self, step, results: dict) -> list[Line]:
        """Plain gradient descent on each layer's weights and biases as matrices."""
        rate = self.worked.slot(self.worked.number_format.given_latex(step.learning_rate))
        lines = []
        for layer in self.layers:
            k = layer.number
            for name, names in ((self.weight(k), layer.weights), (self.bias(k), tuple((b,) for b in layer.biases))):
                old = self.grid([[self.given(step.params[names[j][i]], symbol(names[j][i]))
                        for i in range(len(names[0]))] for j in range(len(names))])
                grad = self.grid([[self.given(step.gradients[names[j][i]], _grad_symbol(names[j][i]))
                        for i in range(len(names[0]))] for j in range(len(names))])
                new = self.grid([[self.result(results[names[j][i]], sympy.Symbol(f"{names[j][i]}'"))
                        for i in range(len(names[0]))] for j in range(len(names))])
                lhs = f"{{{name}}}'"
                lines.append(self.line(lhs, None, rf"{self.m(old)} - {rate} {self.m(grad)}", self.m(new)))
        return lines

    def cross_check(self, values: dict) -> list[Line]:
        """One weight of the first layer, worked in scalar form: the same numbers as its matrix entry."""
        layer = self.layers[0]
        first = layer.sums or layer.outputs
        weight = layer.weights[len(layer.weights) // 2][0]
        return [self.worked.line(self.worked.gradient[weight], values, values[_grad_symbol(weight)],
                                 _grad_symbol(weight))] if first else []

    # -- the statement -------------------------------------------------------------------
    def notation(self) -> dict:
        """The layers' shapes, the symbols the matrix lines use, and each layer's formulas."""
        shapes = []
        for layer in self.layers:
            k = layer.number
            shapes.append({"name": self.weight(k), "rows": len(layer.weights), "columns": len(layer.sources),
                           "entry": self.worked.tex(layer.weights[-1][0]), "bias": self.bias(k),
                           "activation": ACTIVATION_WORDS.get(layer.activation, layer.activation),
                           "derivative": self.derivative(layer) if layer.sums else None})
        return {"shapes": shapes, "formulas": self.formulas(), "x": self.vector("x", 0, 1),
                "h0": self.vector("h", 0, 1), "delta": self.vector("delta", 1, 1),
                "loss": self.worked.loss_tex, "batch": self.problem.training.batch_size != 1}

    def formulas(self) -> list[Line]:
        """Each layer's forward formulas in matrix form."""
        lines = []
        for layer in self.layers:
            k = layer.number
            lines.append(Line((self.sums(layer, 1), f"{self.weight(k)} {self.source(k, 1)} + {self.bias(k)}")))
            if layer.sums:
                lines.append(Line((self.vector("h", k, 1), self.activation(layer, self.vector("z", k, 1)))))
        return lines

    def gradient_formulas(self) -> list[Line]:
        """Each layer's delta and gradients in matrix form, from the last layer back."""
        lines = []
        for layer in reversed(self.layers):
            k = layer.number
            if layer.sums:
                upstream = (self.upstream(layer, 1) if layer is self.layers[-1] else
                            rf"\left({{{self.weight(k + 1)}}}^{{\top}} {self.vector('delta', k + 1, 1)}\right)")
                lines.append(Line((self.vector("delta", k, 1),
                                   rf"{upstream} \odot {self.derivative(layer)}\left({self.vector('z', k, 1)}\right)")))
            else:
                upstream = (self.upstream(layer, 1) if layer is self.layers[-1] else
                            rf"{{{self.weight(k + 1)}}}^{{\top}} {self.vector('delta', k + 1, 1)}")
                lines.append(Line((self.vector("delta", k, 1), upstream)))
            a = self.source(k, 1)
            lines.append(Line((self.gradient_name(self.weight(k)), rf"{self.vector('delta', k, 1)} \, {{{a}}}^{{\top}}")))
            lines.append(Line((self.gradient_name(self.bias(k)), self.vector("delta", k, 1))))
        return lines

    def tagged(self, line: Line, tag: str | None) -> Line:
        """A row's scalar line with the loss named for its row (L_(r)) where the batch has several."""
        if tag is None:
            return line
        loss = self.worked.loss_tex
        lhs = line.parts[0]
        lhs = rf"{loss}_{{({tag})}}" if lhs == loss else lhs.replace(rf"\partial {loss}}}", rf"\partial {loss}_{{({tag})}}}}")
        return Line((lhs, *line.parts[1:]), line.width)

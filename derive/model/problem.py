"""The Problem: a graph, its data, its initial parameters and its settings; built from TOML or SymPy."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import SpecError
from .expressions import parse
from .graph import Graph, build_graph, symbol
from .names import check_model_names

# Runs that evaluate more rows than this carry full precision unless the spec says otherwise:
# rounding as shown holds every number as an exact decimal, which costs ~100x a float.
HAND_ROWS = 10_000


# Every option name any optimiser takes under [train] (see derive.engine.optimizers).
OPTION_NAMES: frozenset[str] = frozenset({
    "momentum", "dampening", "nesterov", "weight_decay", "eps", "lr_decay", "initial_accumulator_value",
    "alpha", "centered", "beta1", "beta2", "amsgrad"})


@dataclass(frozen=True)
class TrainSettings:
    """How to train: `batch_size` None means the whole data in every step."""

    learning_rate: float
    epochs: int = 1
    batch_size: int | None = 1
    shuffle: bool = False
    seed: int = 0
    frozen: tuple[str, ...] = ()
    optimizer: str = "sgd"
    options: Mapping[str, object] = field(default_factory=dict)
    schedule: Mapping[str, object] | None = None


@dataclass(frozen=True)
class ReportSettings:
    """How to show numbers: decimals or significant figures, carry policy, exact fractions, names."""

    precision: int = 4
    significant: int | None = None
    carry: str | None = None  # "full" or "rounded"; None: rounded unless the run is long (see Problem.carry)
    exact: bool = False
    steps: int | str | None = None
    rows_shown: int = 10  # a step over more rows works one row in full and tabulates this many
    names: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    overrides: Mapping[str, int] = field(default_factory=dict)
    derivations: str | None = None  # "full", "summary" or "off"; None: full for at most 12 distinct partials
    graph: str = "once"  # "every step": each step worked in full also draws the graph with its numbers
    form: str | None = None  # "scalar" or "matrix"; None: matrix for [model] layers, else scalar

    def shown_steps(self, n_steps: int) -> int:
        """How many of a run's first steps the report works in full: `steps`, or by default all of
        a run of at most 10 steps and 3 of a longer one."""
        shown = self.steps
        if shown is None:
            shown = n_steps if n_steps <= 10 else 3
        elif shown == "all":
            shown = n_steps
        return min(shown, n_steps)


@dataclass(frozen=True)
class Problem:
    """Everything needed to train and explain one gradient-descent run."""

    graph: Graph
    display: Mapping[str, sympy.Expr]
    initial: Mapping[str, object]
    data: Mapping[str, np.ndarray]
    training: TrainSettings
    report: ReportSettings = field(default_factory=ReportSettings)
    title: str = ""
    source: str | None = None
    layers: tuple = ()  # the Layer records of [model] layers, for the matrix view

    @property
    def form(self) -> str:
        """How the report shows the layers: "matrix" (the default for layer specs whose parameters
        feed only the layers) or "scalar", node by node."""
        if self.report.form == "scalar" or not self.matrix_fits:
            return "scalar"
        return "matrix"

    @property
    def matrix_fits(self) -> bool:
        """Whether the layers can be shown as matrices: there are layers and no node outside them
        (a penalty, say) uses a parameter, so each weight's gradient is the layer's alone."""
        if not self.layers:
            return False
        inside = {n for layer in self.layers for n in (*(layer.sums or ()), *layer.outputs)}
        params = {symbol(p) for p in self.graph.params}
        return not any(e.free_symbols & params for n, e in self.graph.nodes if n not in inside)

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.data.values())))

    @property
    def carry(self) -> str:
        """How the report carries numbers: "rounded" (each computed value rounded to the digits
        shown when it is made, and used so: every line checks by hand) or "full". Unset, the report
        rounds unless the run evaluates more than HAND_ROWS rows; training itself rounds only when
        the spec says carry = "rounded" (Python and JSON users get the machine's numbers)."""
        if self.report.carry is not None:
            return self.report.carry
        return "rounded" if self.n_rows * self.training.epochs <= HAND_ROWS else "full"

    @property
    def planned_steps(self) -> int:
        """The steps the settings ask for (a run that diverges stops sooner)."""
        size = self.n_rows if self.training.batch_size is None else self.training.batch_size
        return self.training.epochs * -(-self.n_rows // size)

    @property
    def exact_arithmetic(self) -> bool:
        """Rationals throughout: for exact reports, and for carry = "rounded" (decimals held exactly)."""
        return self.report.exact or self.report.carry == "rounded"

    def train(self):
        """Derive, compile and run the training the settings describe; returns the Trace
        (the flow of derive.api, which this model layer does not import at load time)."""
        from .. import api

        return api.train(self)

    @classmethod
    def build(cls, *, nodes: Mapping, loss: str | Sequence[str], params: Mapping, data: Mapping,
              inputs: Sequence = (), targets: Sequence = (), learning_rate: float = 0.01,
              title: str = "", training: Mapping | None = None, report: Mapping | None = None) -> Problem:
        """A Problem from SymPy objects: names may be given as Symbols or strings.

        >>> x, y, w = sympy.symbols("x y w")
        >>> p = Problem.build(inputs=[x], targets=[y], nodes={"yhat": w*x, "L": (sympy.Symbol("yhat") - y)**2},
        ...                   loss="L", params={w: 0.5}, data={"x": [1, 2], "y": [2, 4]}, learning_rate=0.1)
        """
        losses = [_name(s) for s in ((loss,) if isinstance(loss, (str, sympy.Symbol)) else loss)]
        check_model_names([_name(s) for s in inputs], [_name(s) for s in targets], [_name(s) for s in params],
                          [_name(s) for s in nodes], losses, dict((report or {}).get("names", {})))
        known = {_name(s) for group in (inputs, targets, params, nodes) for s in group}
        table = {n: symbol(n) for n in known}
        exprs, display = {}, {}
        for key, expr in nodes.items():
            if isinstance(expr, str):
                display[_name(key)] = parse(expr, table, evaluate=False)
                expr = parse(expr, table)
            elif not isinstance(expr, sympy.Basic):
                expr = sympy.Float(expr) if isinstance(expr, float) else sympy.Integer(expr)
            exprs[_name(key)] = expr.xreplace({s: symbol(s.name) for s in expr.free_symbols})
        graph = build_graph([_name(s) for s in inputs], [_name(s) for s in targets],
                            [_name(s) for s in params], exprs, losses)
        settings = TrainSettings(learning_rate=learning_rate, **(training or {}))
        report_settings = ReportSettings(**(report or {}))
        columns = {_name(k): _column(_name(k), v, report_settings.exact) for k, v in data.items()}
        initial = {_name(k): v for k, v in params.items()}
        return make_problem(graph, {**exprs, **display}, initial, columns, settings, report_settings, title)


def _name(item) -> str:
    return item.name if isinstance(item, sympy.Symbol) else str(item)


def _column(name: str, values, exact: bool) -> np.ndarray:
    if exact:
        return np.array([_rational(v) for v in values], dtype=object)
    return np.asarray(values, dtype=float)


def _rational(value) -> sympy.Rational:
    """The exact value of a number as written: 0.1 is 1/10, not the nearest double."""
    if isinstance(value, float):
        return sympy.Rational(repr(value))
    return sympy.nsimplify(value, rational=True)


def make_problem(graph: Graph, display: Mapping[str, sympy.Expr], initial: Mapping[str, object],
                 data: Mapping[str, np.ndarray], training: TrainSettings, report: ReportSettings,
                 title: str = "", source: str | None = None) -> Problem:
    """Check that data, parameters and settings fit the graph, and return the Problem."""
    for name in graph.params:
        if name not in initial:
            raise SpecError(f"the parameter has no initial value; add '{name} = 0.0' under [params].", f"params.{name}")
    for name in graph.columns:
        if name not in data:
            raise SpecError(f"the column is missing; give one value per row for {name!r}.", f"data.{name}")
    lengths = {name: len(data[name]) for name in graph.columns}
    if not lengths or min(lengths.values()) == 0:
        raise SpecError("the data is empty; give at least one row.", "data")
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise SpecError(f"the columns have different lengths ({detail}); give every column one value per row.", "data")
    n_rows = next(iter(lengths.values()))
    for name in training.frozen:
        if name not in graph.params:
            raise SpecError(f"{name!r} is not a parameter; name one of {', '.join(graph.params)}.", "train.frozen")
    if training.batch_size is not None and not 1 <= training.batch_size <= n_rows:
        raise SpecError(f"{training.batch_size} is not between 1 and the {n_rows} rows of data; use a number in "
                        f"that range or \"all\".", "train.batch_size")
    if training.epochs < 1:
        raise SpecError(f"{training.epochs} is below 1; train for at least one epoch.", "train.epochs")
    if not training.learning_rate > 0:
        raise SpecError(f"{training.learning_rate!r} is not a positive number; use e.g. 0.05.", "train.learning_rate")
    used = {name: data[name] for name in graph.columns}
    return Problem(graph, dict(display), dict(initial), used, training, report, title, source)

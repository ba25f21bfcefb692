"""TOML specs to Problems, with errors that name the file, the field and the fix."""
from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import warnings
from array import array
from fractions import Fraction
from pathlib import Path

import numpy as np
import sympy

from ..errors import DeriveWarning, ExpressionError, SpecError, expect_number, unknown_key
from .draws import MAX_SEED
from .expressions import parse
from .functions import not_rational
from .graph import build_graph, symbol
from .layers import expand_layers, initial_values, penalty_node
from .names import check_model_names, check_name
from .table import read_columns
from .problem import OPTION_NAMES, Problem, ReportSettings, TrainSettings, make_problem

SECTIONS = {"title": str, "notes": str, "model": dict, "params": dict, "data": dict, "train": dict, "report": dict,
            "check": dict, "exercise": dict, "variants": dict}  # the last three are read by derive.grading
MODEL_KEYS = ("inputs", "targets", "loss", "nodes", "layers", "init", "penalty")
TRAIN_KEYS = ("learning_rate", "epochs", "batch_size", "shuffle", "seed", "frozen", "optimizer", "schedule")
REPORT_KEYS = ("precision", "significant", "carry", "exact", "steps", "rows_shown", "names", "overrides", "notes",
               "derivations", "graph", "form")
_FRACTION = re.compile(r"^\s*[-+]?\d+(\.\d+)?\s*(/\s*\d+)?\s*$")


def load(path: str | Path) -> Problem:
    """Read a spec file and return its Problem; raises SpecError naming the file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file; check the path.", source=str(path)) from None
    except IsADirectoryError:
        raise SpecError("is a folder; give the spec file's name.", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot be read ({exc.__class__.__name__}); give a UTF-8 TOML file.", source=str(path)) from None
    return loads(text, str(path), base=path.parent)


def loads(text: str, name: str = "<spec>", base: Path | None = None) -> Problem:
    """Build a Problem from TOML text; `name` is used in messages, `base` resolves a CSV path."""
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML ({exc}); fix the line it names.", source=name) from None
    return load_table(spec, name, base)


def load_table(spec: dict, name: str = "<spec>", base: Path | None = None) -> Problem:
    """Build a Problem from a spec already read into tables (one student's variant of a spec)."""
    return _Reader(spec, name, base or Path(".")).problem()


class _Reader:
    def __init__(self, spec: dict, name: str, base: Path):
        self.spec = spec
        self.name = name
        self.base = base

    def problem(self) -> Problem:
        try:
            return self.read()
        except SpecError as exc:
            raise exc.at(source=self.name) from None

    def read(self) -> Problem:
        self.keys("", self.spec, SECTIONS)
        model = self.spec.get("model", {})
        needed = ("model", "data", "train") if isinstance(model, dict) and "layers" in model else \
            ("model", "params", "data", "train")
        for section in needed:
            if section not in self.spec:
                raise SpecError(f"the [{section}] section is missing; see the spec format in the README.")
        for key, kind in SECTIONS.items():
            if key in self.spec and not isinstance(self.spec[key], kind):
                raise SpecError(f"expected {'a table' if kind is dict else 'text'}, got {self.spec[key]!r}.", key)
        report = self.report_settings()
        self.keys("model", model, MODEL_KEYS)
        inputs = self.names("model.inputs", model.get("inputs", []))
        targets = self.names("model.targets", model.get("targets", []))
        given = self.spec.get("params", {})
        for p in given:
            check_name(p, f"params.{p}", "parameter name")
        nodes_text, params, starting, names, shapes = self.layers(model, inputs)
        params += [p for p in given if p not in params]
        user_nodes = model.get("nodes", {})
        if not isinstance(user_nodes, dict) or not (user_nodes or nodes_text):
            raise SpecError("give at least one node, e.g. yhat = \"w*x + b\" under [model.nodes].", "model.nodes")
        for n in user_nodes:
            check_name(n, f"model.nodes.{n}", "node name")
            if n in nodes_text:
                raise SpecError(f"the layers already make a node {n!r}; give yours another name.", f"model.nodes.{n}")
        nodes_text.update(user_nodes)
        loss = model.get("loss")
        if loss is None:
            raise SpecError("no loss node is named; set loss = \"L\" to the node that is the per-row loss.",
                            "model.loss")
        losses = self.names("model.loss", [loss] if isinstance(loss, str) else loss)
        if "penalty" in model:
            name, text = penalty_node(model["penalty"], params)
            if name in nodes_text:
                raise SpecError(f"the penalty makes a node {name!r}; give yours another name.", f"model.nodes.{name}")
            nodes_text[name], losses = text, losses + [name]
        nodes, display = self.nodes(nodes_text, inputs + targets + params)
        graph = build_graph(inputs, targets, params, nodes, losses)
        report_names = {**names, **report.names}
        check_model_names(inputs, targets, params, nodes, losses, report.names, names)
        if report.exact:
            check_exact(nodes)
        initial = {p: (sympy.nsimplify(v, rational=True) if report.exact else v) for p, v in starting.items()}
        initial.update({p: self.number(f"params.{p}", v, report.exact) for p, v in given.items()})
        if names:
            report = dataclasses.replace(report, names=report_names)
        data = self.data(graph.columns, report.exact)
        training = self.train_settings()
        title = self.spec.get("title", "")
        problem = dataclasses.replace(make_problem(graph, display, initial, data, training, report, title, self.name),
                                      layers=shapes)
        if report.form == "matrix" and not problem.matrix_fits:
            raise SpecError("the matrix form shows [model] layers whose parameters feed only the layers; "
                            "use form = \"scalar\" (or drop the penalty).", "report.form")
        for field, message in unused(graph):
            warnings.warn(DeriveWarning(f"{self.name}: {field}: {message}"), stacklevel=3)
        return problem

    def layers(self, model: dict, inputs: list[str]):
        """Nodes, parameters, starting values and LaTeX names from [model] layers and init."""
        if "layers" not in model:
            if "init" in model:
                raise SpecError("init sets the starting values of layers; give layers too, or use [params].",
                                "model.init")
            return {}, [], {}, {}, ()
        layers = model["layers"]
        if not isinstance(layers, list) or not layers:
            raise SpecError("expected a list such as [{ size = 4, activation = \"relu\" }, { size = 1 }].",
                            "model.layers")
        nodes, weights, biases, names, shapes = expand_layers(inputs, layers)
        starting = initial_values(weights, biases, model.get("init", "zeros"))
        return nodes, weights + biases, starting, names, shapes

    def keys(self, where: str, table: dict, known) -> None:
        for key in table:
            if key not in known:
                raise unknown_key(key, known, f"{where}.{key}" if where else key, "key" if where else "section or key")

    def names(self, field: str, value) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpecError(f"expected a list of names such as [\"x1\", \"x2\"], got {value!r}.", field)
        return [check_name(v, field) for v in value]

    def nodes(self, table: dict, known: list[str]):
        names = {n: symbol(n) for n in [*known, *table]}
        nodes, display = {}, {}
        for n, text in table.items():
            field = f"model.nodes.{n}"
            if not isinstance(text, str):
                raise SpecError(f"expected an expression in quotes, got {text!r}.", field)
            try:
                nodes[n] = parse(text, names)
                display[n] = parse(text, names, evaluate=False)
            except ExpressionError as exc:
                raise exc.at(field=field) from None
        return nodes, display

    def number(self, field: str, value, exact: bool):
        if isinstance(value, str) and _FRACTION.match(value):
            value = fraction(value, field)
        if isinstance(value, Fraction):
            return sympy.Rational(value.numerator, value.denominator) if exact else float(value)
        expect_number(value, field)
        return sympy.nsimplify(value, rational=True) if exact else float(value)

    def data(self, columns, exact: bool) -> dict:
        table = self.spec["data"]
        if "csv" in table:
            if set(table) - {"csv"}:
                raise SpecError("give either csv = \"file.csv\" or columns, not both.", "data")
            file = table["csv"]
            if not isinstance(file, str):
                raise SpecError(f"expected a file name in quotes, got {file!r}.", "data.csv")
            raw = read_columns(self.base / file, file, columns)
        else:
            raw = {}
            for name, values in table.items():
                if not isinstance(values, list):
                    raise SpecError(f"expected a list of numbers, got {values!r}.", f"data.{name}")
                raw[name] = values
        data = {}
        for name in columns:
            if name not in raw:
                raise SpecError(f"the column is missing; give one value per row for {name!r}.", f"data.{name}")
            if isinstance(raw[name], array) and not exact:
                data[name] = np.frombuffer(raw[name], dtype=float)  # read from a CSV: finite numbers already
                continue
            values = [self.number(f"data.{name}[{i}]", v, exact) for i, v in enumerate(raw[name])]
            data[name] = np.array(values, dtype=object if exact else float)
        return data

    def train_settings(self) -> TrainSettings:
        table = self.spec["train"]
        self.keys("train", table, TRAIN_KEYS + tuple(sorted(OPTION_NAMES)))
        if "learning_rate" not in table:
            raise SpecError("missing; set the step size, e.g. learning_rate = 0.05.", "train.learning_rate")
        rate = table["learning_rate"]
        if isinstance(rate, str) and _FRACTION.match(rate):
            rate = fraction(rate, "train.learning_rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float, Fraction)) or not rate > 0 \
                or (isinstance(rate, float) and not math.isfinite(rate)):
            raise SpecError(f"{rate!r} is not a positive number; use e.g. 0.05.", "train.learning_rate")
        epochs = expect_number(table.get("epochs", 1), "train.epochs", low=1, whole=True)
        batch = table.get("batch_size", 1)
        batch = None if batch in ("all", "full") else self.integer("train.batch_size", batch, "or \"all\"")
        seed = expect_number(table.get("seed", 0), "train.seed", low=0, high=MAX_SEED, whole=True)
        shuffle = table.get("shuffle", False)
        if not isinstance(shuffle, bool):
            raise SpecError(f"expected true or false, got {shuffle!r}.", "train.shuffle")
        frozen = self.names("train.frozen", table.get("frozen", []))
        optimizer = table.get("optimizer", "sgd")
        if not isinstance(optimizer, str):
            raise SpecError(f"expected a name such as \"sgd\", got {optimizer!r}.", "train.optimizer")
        schedule = table.get("schedule")
        if schedule is not None and not isinstance(schedule, dict):
            raise SpecError("expected a table [train.schedule] with kind = ...", "train.schedule")
        options = {k: v for k, v in table.items() if k in OPTION_NAMES}
        for key, value in options.items():
            if isinstance(value, float):
                expect_number(value, f"train.{key}")
        for key, value in (schedule or {}).items():
            if key == "kind" and not isinstance(value, str):
                raise SpecError(f"expected a schedule's name such as \"step\", got {value!r}.", "train.schedule.kind")
            if isinstance(value, float):
                expect_number(value, f"train.schedule.{key}")
        return TrainSettings(learning_rate=rate, epochs=epochs,
                             batch_size=batch, shuffle=shuffle, seed=seed, frozen=tuple(frozen),
                             optimizer=optimizer, options=options, schedule=schedule)

    def integer(self, field: str, value, alternative: str = "") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            extra = f" {alternative}" if alternative else ""
            raise SpecError(f"expected a whole number{extra}, got {value!r}.", field)
        return value

    def report_settings(self) -> ReportSettings:
        table = self.spec.get("report", {})
        if not isinstance(table, dict):
            raise SpecError("expected a table [report].", "report")
        self.keys("report", table, REPORT_KEYS)
        precision = expect_number(table.get("precision", 4), "report.precision", low=0, high=15, whole=True)
        significant = table.get("significant")
        if significant is not None:
            significant = expect_number(significant, "report.significant", low=1, high=15, whole=True)
        carry = table.get("carry")
        if carry not in (None, "full", "rounded"):
            raise SpecError(f"{carry!r} is not \"full\" or \"rounded\".", "report.carry")
        exact = table.get("exact", False)
        if not isinstance(exact, bool):
            raise SpecError(f"expected true or false, got {exact!r}.", "report.exact")
        steps = table.get("steps")
        if steps is not None and steps != "all" and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
            raise SpecError(f"expected a whole number of steps or \"all\", got {steps!r}.", "report.steps")
        rows_shown = expect_number(table.get("rows_shown", 10), "report.rows_shown", low=1, whole=True)
        names = table.get("names", {})
        if not isinstance(names, dict):
            raise SpecError("expected a table of name = 'LaTeX' pairs.", "report.names")
        overrides = table.get("overrides", {})
        if not isinstance(overrides, dict):
            raise SpecError("expected a table of name = decimal places pairs.", "report.overrides")
        for name, places in overrides.items():
            expect_number(places, f"report.overrides.{name}", low=0, high=15, whole=True)
        notes = table.get("notes", self.spec.get("notes", ""))
        derivations = table.get("derivations")
        if derivations is not None and derivations not in ("full", "summary", "off"):
            raise SpecError(f"{derivations!r} is not \"full\", \"summary\" or \"off\".", "report.derivations")
        graph = table.get("graph", "once")
        if graph not in ("once", "every step"):
            raise SpecError(f"{graph!r} is not \"once\" or \"every step\".", "report.graph")
        form = table.get("form")
        if form is not None and form not in ("scalar", "matrix"):
            raise SpecError(f"{form!r} is not \"scalar\" or \"matrix\".", "report.form")
        return ReportSettings(precision=precision, significant=significant, carry=carry, exact=exact,
                              steps=steps, rows_shown=rows_shown, names=dict(names), notes=notes,
                              overrides=dict(overrides), derivations=derivations, graph=graph, form=form)


def fraction(text: str, field: str) -> Fraction:
    """A number written as a fraction in quotes, "1/4"; a zero denominator is refused."""
    try:
        return Fraction(text.replace(" ", ""))
    except ZeroDivisionError:
        raise SpecError(f"{text!r} divides by zero; give a number such as \"1/4\".", field) from None


def check_exact(nodes) -> None:
    """With exact = true every node must have an exact value at fractions."""
    for name, expr in nodes.items():
        culprit = not_rational(expr)
        if culprit:
            raise SpecError(f"exact = true needs every value to be a fraction, and {culprit} of a fraction is not "
                            f"one; set exact = false (carry = \"rounded\" holds each value as shown).",
                            f"model.nodes.{name}")


def unused(graph) -> list[tuple[str, str]]:
    """(field, message) for each input, target, parameter or node the loss does not depend on."""
    needed = set(graph.loss)
    for name, expr in reversed(graph.nodes):
        if name in needed:
            needed |= {s.name for s in expr.free_symbols}
    fields = [*((n, "model.inputs") for n in graph.inputs), *((n, "model.targets") for n in graph.targets),
              *((n, f"params.{n}") for n in graph.params), *((n, f"model.nodes.{n}") for n in graph.node_names)]
    return [(field, f"{name!r} is not used by the loss; remove it or use it.")
            for name, field in fields if name not in needed]

"""TOML specs to Problems, with errors that name the file, the field and the fix."""
from __future__ import annotations

import csv
import dataclasses
from array import array
import math
import re
import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np
import sympy

from ..errors import ExpressionError, SpecError, closest
from .expressions import parse
from .graph import build_graph, symbol
from .layers import expand_layers, initial_values, penalty_node
from .problem import OPTION_NAMES, Problem, ReportSettings, TrainSettings, make_problem

SECTIONS = {"title": str, "notes": str, "model": dict, "params": dict, "data": dict, "train": dict, "report": dict,
            "check": dict, "exercise": dict, "variants": dict}  # the last three are read by derive.grading
MODEL_KEYS = ("inputs", "targets", "loss", "nodes", "layers", "init", "penalty")
TRAIN_KEYS = ("learning_rate", "epochs", "batch_size", "shuffle", "seed", "frozen", "optimizer", "schedule")
REPORT_KEYS = ("precision", "significant", "carry", "exact", "steps", "rows_shown", "names", "overrides", "notes",
               "derivations")
_FRACTION = re.compile(r"^\s*[-+]?\d+(\.\d+)?\s*(/\s*\d+)?\s*$")


def load(path: str | Path) -> Problem:
    """Read a spec file and return its Problem; raises SpecError naming the file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot be read ({exc.__class__.__name__}); give a UTF-8 TOML file.") from None
    return loads(text, str(path), base=path.parent)


def loads(text: str, name: str = "<spec>", base: Path | None = None) -> Problem:
    """Build a Problem from TOML text; `name` is used in messages, `base` resolves a CSV path."""
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{name}: not valid TOML ({exc}); fix the line it names.") from None
    return _Reader(spec, name, base or Path(".")).problem()


class _Reader:
    def __init__(self, spec: dict, name: str, base: Path):
        self.spec = spec
        self.name = name
        self.base = base

    def fail(self, field: str, message: str) -> SpecError:
        return SpecError(f"{self.name}: {field}: {message}")

    def problem(self) -> Problem:
        self.keys("", self.spec, SECTIONS)
        model = self.spec.get("model", {})
        needed = ("model", "data", "train") if isinstance(model, dict) and "layers" in model else \
            ("model", "params", "data", "train")
        for section in needed:
            if section not in self.spec:
                raise SpecError(f"{self.name}: the [{section}] section is missing; see the spec format in the README.")
        for key, kind in SECTIONS.items():
            if key in self.spec and not isinstance(self.spec[key], kind):
                raise self.fail(key, f"expected {'a table' if kind is dict else 'text'}, got {self.spec[key]!r}.")
        report = self.report_settings()
        self.keys("model", model, MODEL_KEYS)
        inputs = self.names("model.inputs", model.get("inputs", []))
        targets = self.names("model.targets", model.get("targets", []))
        given = self.spec.get("params", {})
        nodes_text, params, starting, names = self.layers(model, inputs)
        params += [p for p in given if p not in params]
        user_nodes = model.get("nodes", {})
        if not isinstance(user_nodes, dict) or not (user_nodes or nodes_text):
            raise self.fail("model.nodes", "give at least one node, e.g. yhat = \"w*x + b\" under [model.nodes].")
        nodes_text.update(user_nodes)
        loss = model.get("loss")
        if loss is None:
            raise self.fail("model.loss", "no loss node is named; set loss = \"L\" to the node that is the per-row loss.")
        losses = self.names("model.loss", [loss] if isinstance(loss, str) else loss)
        if "penalty" in model:
            try:
                name, text = penalty_node(model["penalty"], params)
            except SpecError as exc:
                raise SpecError(f"{self.name}: {exc.message}") from None
            nodes_text[name], losses = text, losses + [name]
        nodes, display = self.nodes(nodes_text, inputs + targets + params)
        try:
            graph = build_graph(inputs, targets, params, nodes, losses)
        except SpecError as exc:
            raise SpecError(f"{self.name}: {exc.message}") from None
        initial = {p: (sympy.nsimplify(v, rational=True) if report.exact else v) for p, v in starting.items()}
        initial.update({p: self.number(f"params.{p}", v, report.exact) for p, v in given.items()})
        if names:
            report = dataclasses.replace(report, names={**names, **report.names})
        data = self.data(graph.columns, report.exact)
        training = self.train_settings()
        title = self.spec.get("title", "")
        return make_problem(graph, display, initial, data, training, report, title, self.name, where=self.name)

    def layers(self, model: dict, inputs: list[str]):
        """Nodes, parameters, starting values and LaTeX names from [model] layers and init."""
        if "layers" not in model:
            if "init" in model:
                raise self.fail("model.init", "init sets the starting values of layers; give layers too, or use [params].")
            return {}, [], {}, {}
        layers = model["layers"]
        if not isinstance(layers, list) or not layers:
            raise self.fail("model.layers", "expected a list such as [{ size = 4, activation = \"relu\" }, { size = 1 }].")
        try:
            nodes, weights, biases, names, _ = expand_layers(inputs, layers)
            starting = initial_values(weights, biases, model.get("init", "zeros"))
        except SpecError as exc:
            raise SpecError(f"{self.name}: {exc.message}") from None
        return nodes, weights + biases, starting, names

    def keys(self, where: str, table: dict, known) -> None:
        for key in table:
            if key not in known:
                field = f"{where}.{key}" if where else key
                hint = closest(key, known)
                kind = "key" if where else "section or key"
                raise self.fail(field, f"unknown {kind}.{hint or ' Known: ' + ', '.join(known) + '.'}")

    def names(self, field: str, value) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, f"expected a list of names such as [\"x1\", \"x2\"], got {value!r}.")
        for v in value:
            if not v.isidentifier() or v.startswith("_"):
                raise self.fail(field, f"{v!r} is not a valid name; use letters, digits and _ (not first).")
        return list(value)

    def nodes(self, table: dict, known: list[str]):
        names = {n: symbol(n) for n in [*known, *table]}
        for n in table:
            if not n.isidentifier() or n.startswith("_"):
                raise self.fail(f"model.nodes.{n}", "not a valid name; use letters, digits and _ (not first).")
        nodes, display = {}, {}
        for n, text in table.items():
            field = f"model.nodes.{n}"
            if not isinstance(text, str):
                raise self.fail(field, f"expected an expression in quotes, got {text!r}.")
            try:
                nodes[n] = parse(text, names)
                display[n] = parse(text, names, evaluate=False)
            except ExpressionError as exc:
                raise self.fail(field, exc.reason) from None
        return nodes, display

    def number(self, field: str, value, exact: bool):
        if isinstance(value, bool):
            raise self.fail(field, f"expected a number, got {value!r}.")
        if isinstance(value, str) and _FRACTION.match(value):
            value = Fraction(value.replace(" ", ""))
        if isinstance(value, (int, float, Fraction)):
            if isinstance(value, float) and not math.isfinite(value):
                raise self.fail(field, f"{value!r} is not a finite number; give a real value.")
            if exact:
                return sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) \
                    else sympy.nsimplify(value, rational=True)
            return float(value)
        raise self.fail(field, f"expected a number, got {value!r}.")

    def data(self, columns, exact: bool) -> dict:
        table = self.spec["data"]
        if "csv" in table:
            if set(table) - {"csv"}:
                raise self.fail("data", "give either csv = \"file.csv\" or columns, not both.")
            raw = self.csv(table["csv"], columns)
        else:
            raw = {}
            for name, values in table.items():
                if not isinstance(values, list):
                    raise self.fail(f"data.{name}", f"expected a list of numbers, got {values!r}.")
                raw[name] = values
        data = {}
        for name in columns:
            if name not in raw:
                raise self.fail(f"data.{name}", f"the column is missing; give one value per row for {name!r}.")
            if isinstance(raw[name], array) and not exact:
                data[name] = np.frombuffer(raw[name], dtype=float)  # read from a CSV: numbers already
                if not np.isfinite(data[name]).all():
                    row = int(np.flatnonzero(~np.isfinite(data[name]))[0]) + 2
                    raise self.fail("data.csv", f"line {row}, column {name!r}: not a finite number.")
                continue
            values = [self.number(f"data.{name}[{i}]", v, exact) for i, v in enumerate(raw[name])]
            data[name] = np.array(values, dtype=object if exact else float)
        return data

    def csv(self, file, columns) -> dict:
        if not isinstance(file, str):
            raise self.fail("data.csv", f"expected a file name in quotes, got {file!r}.")
        path = self.base / file
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = [h.strip() for h in next(reader, [])]
                index = {}
                for name in columns:
                    if name not in header:
                        raise self.fail("data.csv", f"{file} has no column {name!r} "
                                                f"(it has {', '.join(header) or 'no header'}); add it to the header row.")
                    index[name] = header.index(name)
                raw = {name: array("d") for name in columns}  # 8 bytes a number, not a Python float
                for line, row in enumerate(reader, start=2):
                    for name, i in index.items():
                        cell = row[i].strip() if i < len(row) else ""
                        try:
                            raw[name].append(float(cell))
                        except ValueError:
                            raise self.fail("data.csv", f"{file} line {line}, column {name!r}: {cell!r} is not a number.") from None
                return raw
        except FileNotFoundError:
            raise self.fail("data.csv", f"{path} does not exist; the path is relative to the spec file.") from None

    def train_settings(self) -> TrainSettings:
        table = self.spec["train"]
        self.keys("train", table, TRAIN_KEYS + tuple(sorted(OPTION_NAMES)))
        if "learning_rate" not in table:
            raise self.fail("train.learning_rate", "missing; set the step size, e.g. learning_rate = 0.05.")
        rate = table["learning_rate"]
        if isinstance(rate, str) and _FRACTION.match(rate):
            rate = Fraction(rate.replace(" ", ""))
        if isinstance(rate, bool) or not isinstance(rate, (int, float, Fraction)) or not rate > 0 \
                or (isinstance(rate, float) and not math.isfinite(rate)):
            raise self.fail("train.learning_rate", f"{rate!r} is not a positive number; use e.g. 0.05.")
        epochs = self.integer("train.epochs", table.get("epochs", 1))
        batch = table.get("batch_size", 1)
        batch = None if batch in ("all", "full") else self.integer("train.batch_size", batch, "or \"all\"")
        seed = self.integer("train.seed", table.get("seed", 0))
        shuffle = table.get("shuffle", False)
        if not isinstance(shuffle, bool):
            raise self.fail("train.shuffle", f"expected true or false, got {shuffle!r}.")
        frozen = self.names("train.frozen", table.get("frozen", []))
        optimizer = table.get("optimizer", "sgd")
        if not isinstance(optimizer, str):
            raise self.fail("train.optimizer", f"expected a name such as \"sgd\", got {optimizer!r}.")
        schedule = table.get("schedule")
        if schedule is not None and not isinstance(schedule, dict):
            raise self.fail("train.schedule", "expected a table [train.schedule] with kind = ...")
        options = {k: v for k, v in table.items() if k in OPTION_NAMES}
        return TrainSettings(learning_rate=rate, epochs=epochs,
                             batch_size=batch, shuffle=shuffle, seed=seed, frozen=tuple(frozen),
                             optimizer=optimizer, options=options, schedule=schedule)

    def integer(self, field: str, value, alternative: str = "") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            extra = f" {alternative}" if alternative else ""
            raise self.fail(field, f"expected a whole number{extra}, got {value!r}.")
        return value

    def report_settings(self) -> ReportSettings:
        table = self.spec.get("report", {})
        if not isinstance(table, dict):
            raise self.fail("report", "expected a table [report].")
        self.keys("report", table, REPORT_KEYS)
        precision = self.integer("report.precision", table.get("precision", 4))
        if not 0 <= precision <= 15:
            raise self.fail("report.precision", f"{precision} is not between 0 and 15 decimal places.")
        significant = table.get("significant")
        if significant is not None:
            significant = self.integer("report.significant", significant)
            if not 1 <= significant <= 15:
                raise self.fail("report.significant", f"{significant} is not between 1 and 15 significant figures.")
        carry = table.get("carry", "full")
        if carry not in ("full", "rounded"):
            raise self.fail("report.carry", f"{carry!r} is not \"full\" or \"rounded\".")
        exact = table.get("exact", False)
        if not isinstance(exact, bool):
            raise self.fail("report.exact", f"expected true or false, got {exact!r}.")
        steps = table.get("steps")
        if steps is not None and steps != "all" and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
            raise self.fail("report.steps", f"expected a whole number of steps or \"all\", got {steps!r}.")
        rows_shown = self.integer("report.rows_shown", table.get("rows_shown", 10))
        if rows_shown < 1:
            raise self.fail("report.rows_shown", f"{rows_shown} rows: show at least 1.")
        names = table.get("names", {})
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise self.fail("report.names", "expected a table of name = 'LaTeX' pairs.")
        overrides = table.get("overrides", {})
        if not isinstance(overrides, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in overrides.values()):
            raise self.fail("report.overrides", "expected a table of name = decimal places pairs.")
        notes = table.get("notes", self.spec.get("notes", ""))
        derivations = table.get("derivations")
        if derivations is not None and derivations not in ("full", "summary", "off"):
            raise self.fail("report.derivations", f"{derivations!r} is not \"full\", \"summary\" or \"off\".")
        return ReportSettings(precision=precision, significant=significant, carry=carry, exact=exact,
                              steps=steps, rows_shown=rows_shown, names=dict(names), notes=notes,
                              overrides=dict(overrides), derivations=derivations)

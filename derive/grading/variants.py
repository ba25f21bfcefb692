"""Per-student variants of a spec: [variants] draws given numbers from a stream seeded by SHA-256 of
the course salt and the student's id, redrawn until [variants.require] holds."""
from __future__ import annotations

import copy
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sympy

from ..errors import SpecError
from ..model.graph import symbol
from ..model.spec import load_table

VARIANT_KEYS = ("salt", "tries", "require")
REQUIRE_KEYS = ("nonzero", "max_abs", "no_kink")
KINKS = ("relu", "leaky_relu", "Abs", "Max", "Min", "Heaviside", "sign", "huber", "mae")


@dataclass(frozen=True)
class Draw:
    """How one number is drawn: `kind` is uniform, integers or choice."""

    name: str
    kind: str
    values: tuple
    decimals: int = 2


@dataclass(frozen=True)
class VariantRules:
    salt: str
    draws: tuple[Draw, ...]
    tries: int = 100
    nonzero: tuple[str, ...] = ()
    max_abs: dict = field(default_factory=dict)
    no_kink: bool = False


class Variants:
    """The spec's variants: `problem(student)` gives a student's own Problem and `numbers(student)`
    the numbers drawn for it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.spec = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SpecError(f"cannot be read ({exc.__class__.__name__}).", source=str(self.path)) from None
        self.rules = read_rules(self.spec, str(self.path))
        self._cache: dict[str, tuple] = {}

    def uniform(self, student: str, attempt: int, name: str, row: int | None = None) -> float:
        """A number in [0, 1) from SHA-256 of the salt, the id, the attempt and the quantity drawn."""
        key = "\0".join([self.rules.salt, student, str(attempt), name, "" if row is None else str(row)])
        return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64

    def draw(self, student: str, attempt: int) -> dict:
        numbers = {}
        n_rows = self._rows()
        for d in self.rules.draws:
            if d.name in self._columns():
                numbers[d.name] = [self._one(d, self.uniform(student, attempt, d.name, i)) for i in range(n_rows)]
            else:
                numbers[d.name] = self._one(d, self.uniform(student, attempt, d.name))
        return numbers

    @staticmethod
    def _one(d: Draw, u: float):
        if d.kind == "choice":
            return d.values[min(int(u * len(d.values)), len(d.values) - 1)]
        low, high = d.values
        if d.kind == "integers":
            return low + min(int(u * (high - low + 1)), high - low)
        value = Decimal(repr(low + u * (high - low))).quantize(Decimal(1).scaleb(-d.decimals), ROUND_HALF_UP)
        return float(min(max(value, Decimal(repr(low))), Decimal(repr(high))))

    def _asked_steps(self) -> int:
        steps = self.spec.get("exercise", {}).get("steps", 1) if isinstance(self.spec.get("exercise"), dict) else 1
        return steps if isinstance(steps, int) and not isinstance(steps, bool) else 1

    def _columns(self) -> set[str]:
        data = self.spec.get("data", {})
        return {k for k, v in data.items() if isinstance(v, list)}

    def _rows(self) -> int:
        lists = [v for v in self.spec.get("data", {}).values() if isinstance(v, list)]
        return len(lists[0]) if lists else 0

    def table(self, numbers: dict) -> dict:
        """The spec's tables with the drawn numbers in place."""
        spec = copy.deepcopy(self.spec)
        for name, value in numbers.items():
            if name == "learning_rate":
                spec["train"]["learning_rate"] = value
            elif name in self._columns():
                spec["data"][name] = value
            else:
                spec.setdefault("params", {})[name] = value
        return spec

    def variant(self, student: str):
        """(problem, compiled, trace, numbers) of the first draw for `student` that meets the requirements."""
        from .. import api

        if student in self._cache:
            return self._cache[student]
        for attempt in range(self.rules.tries):
            numbers = self.draw(student, attempt)
            problem = load_table(self.table(numbers), str(self.path), self.path.parent)
            compiled = api.compile_problem(problem)
            trace = compiled.train()
            if self.meets(trace, self._asked_steps()):
                self._cache[student] = (problem, compiled, trace, numbers)
                return self._cache[student]
        raise SpecError(f"no draw of {self.rules.tries} meets [variants.require] for student {student!r}; "
                        f"widen the ranges or relax the conditions.", source=str(self.path))

    def meets(self, trace, n_steps: int | None = None) -> bool:
        """True when every asked step of the run satisfies the requirements."""
        from .replay import value_of

        rules = self.rules
        steps = trace.steps
        n = len(steps) if n_steps is None else min(n_steps, len(steps))
        if trace.diverged and trace.diverged["step"] <= max(n, 1):
            return False
        for step in steps[:n]:
            for quantity in rules.nonzero:
                values = _flat(value_of(step, quantity))
                if any(abs(float(v)) < 1e-12 for v in values):
                    return False
            for quantity, bound in rules.max_abs.items():
                if any(abs(float(v)) > bound for v in _flat(value_of(step, quantity))):
                    return False
            if rules.no_kink and _at_kink(trace, step):
                return False
        return True


def _flat(value) -> list:
    return value if isinstance(value, list) else [value]


def _at_kink(trace, step) -> bool:
    """True when an argument of relu, abs, max, ... is exactly at its kink in a row of the step."""
    problem = trace.problem
    graph = problem.graph
    for i, row in enumerate(step.rows):
        env = {symbol(c): float(problem.data[c][row]) for c in graph.columns}
        env.update({symbol(p): float(v) for p, v in step.params.items()})
        values = step.values
        env.update({symbol(n): float(values[n][i] if isinstance(values[n], list) else values[n])
                    for n in graph.node_names})
        for _, expr in graph.nodes:
            for call in expr.atoms(sympy.Function, sympy.Abs, sympy.Max, sympy.Min):
                if type(call).__name__ not in KINKS:
                    continue
                args = [float(a.xreplace({s: env.get(symbol(s.name), 0.0) for s in a.free_symbols}))
                        for a in call.args if not a.is_number]
                if type(call).__name__ in ("Max", "Min"):
                    if len(set(args)) < len(args):
                        return True
                elif type(call).__name__ in ("huber", "mae") and len(args) >= 2:
                    if args[0] == args[1] or (type(call).__name__ == "huber" and len(call.args) > 2
                                              and abs(args[0] - args[1]) == float(call.args[2])):
                        return True
                elif args and args[0] == 0:
                    return True
    return False


def read_rules(spec: dict, name: str) -> VariantRules:
    """[variants] checked: each entry draws a parameter, the learning rate or a data column."""
    table = spec.get("variants")
    if not isinstance(table, dict) or not table:
        raise SpecError("the spec has no [variants] table; add one such as w1 = { uniform = [-1, 1], decimals = 2 }.",
                        source=name)
    params = set(spec.get("params", {}))
    model = spec.get("model", {})
    columns = {c for c in (*model.get("inputs", []), *model.get("targets", []))} if isinstance(model, dict) else set()
    draws = []
    for key, value in table.items():
        if key in VARIANT_KEYS:
            continue
        where = f"variants.{key}"
        if key != "learning_rate" and key not in params and key not in columns:
            raise SpecError(f"{where}: not a parameter under [params], a data column or learning_rate.", source=name)
        if key in columns and not isinstance(spec.get("data", {}).get(key), list):
            raise SpecError(f"{where}: a drawn column needs its data written under [data] (not a CSV).", source=name)
        draws.append(_draw(where, key, value, name))
    salt = table.get("salt", "")
    if not isinstance(salt, str):
        raise SpecError(f"variants.salt: expected text in quotes, got {salt!r}.", source=name)
    tries = table.get("tries", 100)
    if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 10000:
        raise SpecError(f"variants.tries: {tries!r} is not a whole number from 1 to 10000.", source=name)
    require = table.get("require", {})
    if not isinstance(require, dict):
        raise SpecError("variants.require: expected a table [variants.require].", source=name)
    for key in require:
        if key not in REQUIRE_KEYS:
            raise SpecError(f"variants.require.{key}: unknown key; use {', '.join(REQUIRE_KEYS)}.", source=name)
    nonzero = require.get("nonzero", [])
    if not isinstance(nonzero, list) or not all(isinstance(q, str) for q in nonzero):
        raise SpecError("variants.require.nonzero: expected a list of quantities such as [\"gradients.w1\"].", source=name)
    max_abs = require.get("max_abs", {})
    if not isinstance(max_abs, dict) or not all(_finite(v) and v > 0 for v in max_abs.values()):
        raise SpecError("variants.require.max_abs: expected a table such as { \"updated.w1\" = 100 }.", source=name)
    no_kink = require.get("no_kink", False)
    if not isinstance(no_kink, bool):
        raise SpecError(f"variants.require.no_kink: expected true or false, got {no_kink!r}.", source=name)
    return VariantRules(salt, tuple(draws), tries, tuple(nonzero), {k: float(v) for k, v in max_abs.items()}, no_kink)


def _finite(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _draw(where: str, key: str, value, name: str) -> Draw:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected {{ uniform = [low, high], decimals = 2 }}, {{ integers = [low, high] }} "
                        f"or {{ choice = [a, b] }}.", source=name)
    kinds = [k for k in ("uniform", "integers", "choice") if k in value]
    extra = set(value) - {"uniform", "integers", "choice", "decimals"}
    if len(kinds) != 1 or extra:
        raise SpecError(f"{where}: give exactly one of uniform, integers or choice (and decimals with uniform).",
                        source=name)
    kind, values = kinds[0], value[kinds[0]]
    if not isinstance(values, list) or not values or not all(_finite(v) for v in values):
        raise SpecError(f"{where}.{kind}: expected a list of finite numbers.", source=name)
    if kind == "choice":
        return Draw(key, kind, tuple(values))
    if len(values) != 2 or values[0] > values[1]:
        raise SpecError(f"{where}.{kind}: expected [low, high] with low <= high.", source=name)
    if kind == "integers":
        if not all(isinstance(v, int) for v in values):
            raise SpecError(f"{where}.integers: expected two whole numbers [low, high].", source=name)
        return Draw(key, kind, tuple(values))
    decimals = value.get("decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 10:
        raise SpecError(f"{where}.decimals: {decimals!r} is not a whole number from 0 to 10.", source=name)
    return Draw(key, kind, tuple(float(v) for v in values), decimals)

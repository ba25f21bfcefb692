"""Answers files: a student's numbers for some quantities of some steps, read and checked for use."""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import SpecError, closest
from .digits import Given, read_number
from .formulas import Formula, read_formulas

GROUPS = ("values", "local", "deltas", "gradients", "updated", "state")
STEP_KEYS = ("step", "loss", *GROUPS)


@dataclass(frozen=True)
class Answer:
    """One answer: `quantity` is 'loss', 'values.<node>', 'local.<node>/<parent>',
    'deltas.<node>', 'gradients.<param>', 'updated.<param>' or 'state.<param>.<name>'; `given`
    is one number, or a tuple of one number per row for a node's value, partial or delta in a
    step of several rows."""

    step: int
    quantity: str
    given: Given | tuple[Given, ...]


@dataclass(frozen=True)
class AnswersFile:
    path: str
    student: str | None
    answers: tuple[Answer, ...]
    formulas: tuple[Formula, ...] = ()  # [formulas]: derivatives written as expressions


@dataclass(frozen=True)
class Layout:
    """What a run's answers may name: nodes, edges ('yhat/w1'), parameters, optimiser state,
    and how many steps there are and how many rows each has."""

    nodes: tuple[str, ...]
    edges: tuple[str, ...]
    params: tuple[str, ...]
    state: tuple[str, ...]
    n_rows: int
    batch: int
    steps_per_epoch: int
    n_steps: int
    columns: tuple[str, ...] = ()  # inputs and targets, which formulas may use

    @classmethod
    def of(cls, compiled) -> Layout:
        problem = compiled.problem
        n = problem.n_rows
        batch = problem.training.batch_size or n
        per_epoch = math.ceil(n / batch)
        return cls(problem.graph.node_names, tuple(f"{a}/{b}" for a, b in compiled.derivation.edges),
                   problem.graph.params, compiled.stepper.rule.state, n, batch, per_epoch,
                   per_epoch * problem.training.epochs, problem.graph.columns)

    def rows(self, step: int) -> int:
        """How many rows step `step` (1-based) averages over."""
        within = (step - 1) % self.steps_per_epoch
        return min(self.batch, self.n_rows - within * self.batch)

    def quantities(self) -> list[str]:
        """Every quantity a step has, in the order it is computed."""
        return ([f"values.{n}" for n in self.nodes] + ["loss"] + [f"local.{e}" for e in self.edges]
                + [f"deltas.{n}" for n in self.nodes] + [f"gradients.{p}" for p in self.params]
                + [f"updated.{p}" for p in self.params] + [f"state.{p}.{s}" for p in self.params for s in self.state])


def answer_files(paths) -> list[Path]:
    """The answers files named: a folder stands for the .toml files in it, in name order."""
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not inside:
                raise SpecError(f"{path}: the folder holds no .toml answers files; name the files or another folder.")
            files.extend(inside)
        else:
            files.append(path)
    return files


def read_answers(path: str | Path, layout: Layout) -> AnswersFile:
    """Every answer in the file, in file order; raises SpecError naming the file, the step and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file; check the path.") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder; name the answers files in it.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot be read ({exc.__class__.__name__}); give a UTF-8 TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}); fix the line it names.") from None
    extra = set(data) - {"steps", "student", "formulas"}
    if extra:
        raise SpecError(f"{path}: {sorted(extra)[0]}: unknown key; answers go in [[steps]] tables and [formulas] "
                        f"(and student = \"id\").")
    student = data.get("student")
    if student is not None and (not isinstance(student, str) or not student.strip()):
        raise SpecError(f"{path}: student: expected the student's id in quotes, got {student!r}.")
    formulas = read_formulas(str(path), data["formulas"], layout) if "formulas" in data else ()
    steps = data.get("steps", [] if formulas else None)
    if not isinstance(steps, list) or not (steps or formulas) or not all(isinstance(t, dict) for t in steps):
        raise SpecError(f"{path}: steps: expected [[steps]] tables, one per step answered, each with step = N.")
    answers, seen = [], {}
    for position, table in enumerate(steps, start=1):
        where = f"{path}: steps[{position}]"
        for key in table:
            if key not in STEP_KEYS:
                raise SpecError(f"{where}.{key}: unknown key.{closest(key, STEP_KEYS)} Use {', '.join(STEP_KEYS)}.")
        step = table.get("step")
        if isinstance(step, bool) or not isinstance(step, int):
            raise SpecError(f"{where}.step: give the step number (1-based, counting across epochs), got {step!r}.")
        if not 1 <= step <= layout.n_steps:
            raise SpecError(f"{where}.step: there is no step {step}; the run has steps 1 to {layout.n_steps}.")
        if step in seen:
            raise SpecError(f"{where}.step: step {step} is answered twice (also in steps[{seen[step]}]); "
                            f"put its answers in one table.")
        seen[step] = position
        answers.extend(_step_answers(f"{path}: step {step}", step, table, layout))
    return AnswersFile(str(path), student.strip() if student else None, tuple(answers), formulas)


def _step_answers(where: str, step: int, table: dict, layout: Layout) -> list[Answer]:
    m = layout.rows(step)
    names = {"values": layout.nodes, "local": layout.edges, "deltas": layout.nodes,
             "gradients": layout.params, "updated": layout.params}
    kinds = {"values": "node", "local": "edge (node/parent)", "deltas": "node"}
    found = {}
    if "loss" in table:
        found["loss"] = _number(f"{where}: loss", table["loss"], 1)
    for group in GROUPS:
        entries = table.get(group, {})
        if not isinstance(entries, dict):
            example = "state = { w1 = { m = 0.1 } }" if group == "state" else f"{group} = {{ {names[group][0]} = 1.5 }}"
            raise SpecError(f"{where}: {group}: expected a table such as {example}.")
        for name, value in entries.items():
            if group == "state":
                found.update(_state(where, name, value, layout))
                continue
            if name not in names[group]:
                raise SpecError(f"{where}: {group}.{name}: not a {kinds.get(group, 'parameter')}.{closest(name, names[group])}")
            rows = m if group in ("values", "local", "deltas") else 1
            found[f"{group}.{name}"] = _number(f"{where}: {group}.{name}", value, rows)
    order = {q: i for i, q in enumerate(layout.quantities())}
    return [Answer(step, q, g) for q, g in sorted(found.items(), key=lambda item: order[item[0]]) if g is not None]


def _state(where: str, param: str, value, layout: Layout) -> dict:
    if not layout.state:
        raise SpecError(f"{where}: state: this optimiser keeps no state; remove the state answers.")
    if param not in layout.params:
        raise SpecError(f"{where}: state.{param}: not a parameter.{closest(param, layout.params)}")
    if not isinstance(value, dict):
        raise SpecError(f"{where}: state.{param}: expected a table such as {{ {layout.state[0]} = 0.1 }}.")
    found = {}
    for name, number in value.items():
        if name not in layout.state:
            raise SpecError(f"{where}: state.{param}.{name}: not the optimiser's state "
                            f"({', '.join(layout.state)}).{closest(name, layout.state)}")
        found[f"state.{param}.{name}"] = _number(f"{where}: state.{param}.{name}", number, 1)
    return found


def _number(where: str, value, rows: int):
    """One number, or for a step of several rows a list with one per row; None when blank."""
    if rows > 1:
        if isinstance(value, str) and not value.strip():
            return None
        if not isinstance(value, list) or len(value) != rows:
            got = f"a list of {len(value)}" if isinstance(value, list) else repr(value)
            raise SpecError(f"{where}: this step has {rows} rows; give a list of {rows} numbers, one per row "
                            f"(got {got}).")
        numbers = tuple(_one(f"{where}[{i}]", v) for i, v in enumerate(value))
        if any(n is None for n in numbers):
            raise SpecError(f"{where}: a row's value is blank; fill in every row or leave the whole list \"\".")
        return numbers
    if isinstance(value, list):
        raise SpecError(f"{where}: expected one number, not a list; lists are for a node's values in a step of several rows.")
    return _one(where, value)


def _one(where: str, value) -> Given | None:
    try:
        return read_number(value)
    except ValueError as exc:
        raise SpecError(f"{where}: {value!r} is not a number ({exc}); write the value you computed, e.g. 0.829 or \"7/2\".") from None

"""Answers files: a student's numbers for some quantities of some steps, read and checked for use."""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError, closest

GROUPS = ("values", "gradients", "updated")
STEP_KEYS = ("step", "loss", *GROUPS)


@dataclass(frozen=True)
class Answer:
    """One number a student wrote: `quantity` is 'loss', 'values.<node>', 'gradients.<param>' or
    'updated.<param>'; `decimals` is how many decimal places were written (None for a list)."""

    step: int
    quantity: str
    given: float | list[float]
    decimals: int | list[int]


def decimals_written(value: float) -> int:
    """Decimal places as written: 0.829 -> 3, 18 -> 0 (TOML keeps the digits a float reads back as)."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        places = len(mantissa.partition(".")[2].rstrip("0"))
        return max(0, places - int(exponent))
    return len(text.partition(".")[2].rstrip("0"))


def read_answers(path: str | Path, problem, n_steps: int) -> list[Answer]:
    """Every answer in the file, in file order; raises SpecError naming the file, the step and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file; check the path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}); fix the line it names.") from None
    steps = data.get("steps")
    extra = set(data) - {"steps"}
    if extra:
        raise SpecError(f"{path}: {sorted(extra)[0]}: unknown key; answers go in [[steps]] tables.")
    if not isinstance(steps, list) or not steps:
        raise SpecError(f"{path}: no [[steps]] tables; write one per step answered, with step = N.")
    names = {"values": problem.graph.node_names, "gradients": problem.graph.params, "updated": problem.graph.params}
    answers = []
    for position, table in enumerate(steps, start=1):
        where = f"{path}: steps[{position}]"
        for key in table:
            if key not in STEP_KEYS:
                raise SpecError(f"{where}.{key}: unknown key.{closest(key, STEP_KEYS)} Use step, loss, values, gradients, updated.")
        step = table.get("step")
        if isinstance(step, bool) or not isinstance(step, int):
            raise SpecError(f"{where}.step: give the step number (1-based, counting across epochs), got {step!r}.")
        if not 1 <= step <= n_steps:
            raise SpecError(f"{where}.step: there is no step {step}; the run has steps 1 to {n_steps}.")
        where = f"{path}: step {step}"
        if "loss" in table:
            answers.append(Answer(step, "loss", *_number(f"{where}: loss", table["loss"])))
        for group in GROUPS:
            entries = table.get(group, {})
            if not isinstance(entries, dict):
                raise SpecError(f"{where}: {group}: expected a table such as {group} = {{ {names[group][0]} = 1.5 }}.")
            for name, value in entries.items():
                if name not in names[group]:
                    hint = closest(name, names[group])
                    raise SpecError(f"{where}: {group}.{name}: not a {'node' if group == 'values' else 'parameter'}.{hint}")
                answers.append(Answer(step, f"{group}.{name}", *_number(f"{where}: {group}.{name}", value)))
    return answers


def _number(where: str, value):
    if isinstance(value, list):
        pairs = [_number(where, v) for v in value]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{where}: {value!r} is not a number; write the value you computed, e.g. 0.829.")
    return float(value), decimals_written(value)

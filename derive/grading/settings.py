"""The spec's marking settings: [check] (digits required, tolerances, points), read and checked."""
from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import SpecError, closest

CHECK_KEYS = ("decimals", "significant", "tolerance", "relative", "points", "follows_credit")
DEFAULT_SIGNIFICANT = 2


@dataclass(frozen=True)
class CheckSettings:
    """How answers are marked. `decimals` or `significant` is the precision an answer must be
    written to (at least 2 significant figures when neither is set and no tolerance is given);
    `tolerance` (absolute) and `relative` accept anything that close instead of comparing digits.
    `points` weighs answers by quantity ('loss', 'gradients', 'updated.w1'); `follows_credit` is
    the share of an answer's points that an error carried forward earns."""

    decimals: int | None = None
    significant: int | None = None
    tolerance: float | None = None
    relative: float | None = None
    points: Mapping[str, float] = field(default_factory=dict)
    follows_credit: float = 1.0

    @property
    def by_tolerance(self) -> bool:
        return self.tolerance is not None or self.relative is not None

    @property
    def required_significant(self) -> int | None:
        """Significant figures required (None when decimals are, or when only a tolerance applies)."""
        if self.decimals is not None:
            return None
        if self.significant is not None:
            return self.significant
        return None if self.by_tolerance else DEFAULT_SIGNIFICANT

    @property
    def required(self) -> str:
        """The precision required, in words: '2 decimals', '2 significant figures' or ''."""
        if self.decimals is not None:
            return f"{self.decimals} decimal{'s' if self.decimals != 1 else ''}"
        s = self.required_significant
        return f"{s} significant figure{'s' if s != 1 else ''}" if s else ""

    def points_for(self, quantity: str) -> float:
        """The points an answer is worth: its own entry, else its group's ('gradients'), else 1."""
        group = quantity.split(".", 1)[0]
        return float(self.points.get(quantity, self.points.get(group, 1.0)))


def spec_table(path: str | Path, section: str) -> dict:
    """One top-level table of a spec file as written (the spec itself is checked by derive.load)."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8")).get(section, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def read_check(path: str | Path, **flags) -> CheckSettings:
    """[check] from the spec, with command-line flags (None where not given) taking precedence."""
    table = spec_table(path, "check")
    for key in table:
        if key not in CHECK_KEYS:
            raise SpecError(f"{path}: check.{key}: unknown key.{closest(key, CHECK_KEYS) or ' Known: ' + ', '.join(CHECK_KEYS) + '.'}")
    values = {k: table[k] for k in CHECK_KEYS if k in table}
    sources = {k: f"{path}: check.{k}" for k in values}
    for key, value in flags.items():
        if value is not None:
            values[key], sources[key] = value, f"--{key}"
    settings = CheckSettings()
    for key in ("decimals", "significant"):
        if key in values:
            settings = replace(settings, **{key: _count(sources[key], values[key], key)})
    if settings.decimals is not None and settings.significant is not None:
        raise SpecError(f"{sources['significant']}: give decimals or significant, not both.")
    for key in ("tolerance", "relative"):
        if key in values:
            settings = replace(settings, **{key: _non_negative(sources[key], values[key])})
    if "follows_credit" in values:
        credit = _non_negative(sources["follows_credit"], values["follows_credit"])
        if credit > 1:
            raise SpecError(f"{sources['follows_credit']}: {credit!r} is above 1; give the share of the points (0 to 1).")
        settings = replace(settings, follows_credit=credit)
    if "points" in values:
        points = values["points"]
        if not isinstance(points, dict):
            raise SpecError(f"{sources['points']}: expected a table such as points = {{ loss = 2, gradients = 1 }}.")
        settings = replace(settings, points={k: _non_negative(f"{sources['points']}.{k}", v) for k, v in points.items()})
    return settings


def _count(where: str, value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 15 or (what == "significant" and value == 0):
        low = 1 if what == "significant" else 0
        raise SpecError(f"{where}: {value!r} is not a whole number from {low} to 15; give the {what} an answer must show.")
    return value


def _non_negative(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise SpecError(f"{where}: {value!r} is not a finite number of at least 0; give e.g. 0.01.")
    return float(value)

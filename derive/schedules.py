"""Learning-rate schedules: the rate used in each epoch."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from .errors import SpecError, closest


def constant(rate, options: Mapping[str, object]) -> Callable[[int], object]:
    """The same rate in every epoch."""
    return lambda epoch: rate


SCHEDULES = {"constant": constant}


def make_schedule(rate, schedule: Mapping[str, object] | None) -> Callable[[int], object]:
    """A function from the 1-based epoch to the learning rate; raises SpecError on unknown kinds."""
    if not schedule:
        return constant(rate, {})
    options = dict(schedule)
    kind = options.pop("kind", "constant")
    if kind not in SCHEDULES:
        hint = closest(str(kind), SCHEDULES)
        raise SpecError(f"train.schedule.kind: {kind!r} is not a known schedule.{hint} Known: {', '.join(SCHEDULES)}.")
    return SCHEDULES[kind](rate, options)

"""Learning-rate schedules: the rate used in each epoch, stepping per epoch as PyTorch's schedulers do."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..errors import SpecError, closest


def _options(kind: str, given: Mapping[str, object], required: tuple[str, ...], optional: Mapping[str, float]):
    known = (*required, *optional)
    for key in given:
        if key not in known:
            raise SpecError(f"not an option of schedule {kind!r}.{closest(key, known)} Its options: "
                            f"{', '.join(known)}.", f"train.schedule.{key}")
    for key in required:
        if key not in given:
            raise SpecError(f"missing; schedule {kind!r} needs {', '.join(required)}.", f"train.schedule.{key}")
    values = {**optional, **given}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise SpecError(f"expected a number of at least 0, got {value!r}.", f"train.schedule.{key}")
    return values


def constant(rate, options: Mapping[str, object]) -> Callable[[int], object]:
    """The same rate in every epoch."""
    _options("constant", options, (), {})
    return lambda epoch: rate


def step(rate, options: Mapping[str, object]) -> Callable[[int], object]:
    """StepLR: the rate times gamma every step_size epochs."""
    o = _options("step", options, ("step_size",), {"gamma": 0.1})
    if not isinstance(o["step_size"], int) or o["step_size"] < 1:
        raise SpecError(f"expected a whole number of epochs of at least 1, got {o['step_size']!r}.", "train.schedule.step_size")
    return lambda epoch: rate * o["gamma"] ** ((epoch - 1) // o["step_size"])


def exponential(rate, options: Mapping[str, object]) -> Callable[[int], object]:
    """ExponentialLR: the rate times gamma every epoch."""
    o = _options("exponential", options, ("gamma",), {})
    return lambda epoch: rate * o["gamma"] ** (epoch - 1)


def cosine(rate, options: Mapping[str, object]) -> Callable[[int], object]:
    """CosineAnnealingLR: from the rate down to eta_min along half a cosine over t_max epochs."""
    o = _options("cosine", options, ("t_max",), {"eta_min": 0.0})
    if o["t_max"] <= 0:
        raise SpecError(f"expected a number of epochs above 0, got {o['t_max']!r}.", "train.schedule.t_max")
    low = o["eta_min"]
    return lambda epoch: low + (rate - low) * (1 + math.cos(math.pi * (epoch - 1) / o["t_max"])) / 2


SCHEDULES = {"constant": constant, "step": step, "exponential": exponential, "cosine": cosine}


def make_schedule(rate, schedule: Mapping[str, object] | None) -> Callable[[int], object]:
    """A function from the 1-based epoch to the learning rate; raises SpecError on unknown kinds."""
    if not schedule:
        return constant(rate, {})
    options = dict(schedule)
    kind = options.pop("kind", "constant")
    if kind not in SCHEDULES:
        hint = closest(str(kind), SCHEDULES)
        raise SpecError(f"{kind!r} is not a known schedule.{hint} Known: {', '.join(SCHEDULES)}.", "train.schedule.kind")
    return SCHEDULES[kind](rate, options)

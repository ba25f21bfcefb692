"""The trace as JSON: numbers only, the same keys as the Python Step."""
from __future__ import annotations

import json
import math


def _plain(value):
    """Floats for JSON: exact Rationals become floats, lists are converted item by item, and a
    number that is not finite is the string "inf", "-inf" or "nan" (JSON has no such numbers)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    number = value if isinstance(value, (int, float)) else float(value)
    return number if math.isfinite(number) else str(number)


def derivations_dict(compiled) -> dict:
    """Each local partial's derivation: rule, LaTeX, result in the spec's syntax, SymPy srepr, sub-steps."""
    from .derivations import Derivations

    return Derivations(compiled).json()


def step_dict(step) -> dict:
    """The JSON-ready dict of one step."""
    return {
        "epoch": step.epoch, "step": step.step, "rows": list(step.rows),
        "learning_rate": _plain(step.learning_rate),
        "params": _plain(step.params), "values": _plain(step.values), "loss": _plain(step.loss),
        "local": {f"{n}/{p}": _plain(v) for (n, p), v in step.local.items()},
        "deltas": _plain(step.deltas), "gradients": _plain(step.gradients),
        "updated": _plain(step.updated), **({"state": _plain(step.state)} if step.state else {}),
    }


def trace_dict(trace, steps=None) -> dict:
    """The JSON-ready dict of a trace (with `steps` in place of its steps' dicts, when given)."""
    out = {"title": trace.problem.title, "derivations": derivations_dict(trace.compiled),
           "steps": [step_dict(step) for step in trace.steps] if steps is None else steps,
           "final": _plain(trace.final)}
    if trace.diverged:
        out["diverged"] = trace.diverged
    return out


_STEPS = "\x00steps\x00"


def json_chunks(trace):
    """The trace as JSON, exactly as json.dumps(trace_dict(trace), indent=1) writes it (refusing
    NaN), one step at a time, so that a long run's steps stream to their file."""
    if not len(trace.steps):
        yield json.dumps(trace_dict(trace), indent=1, allow_nan=False) + "\n"
        return
    # The steps list sits two levels deep: each step's lines are indented by two more spaces.
    head, tail = json.dumps(trace_dict(trace, [_STEPS]), indent=1, allow_nan=False).split(json.dumps(_STEPS))
    yield head
    for step in trace.steps:
        text = json.dumps(step_dict(step), indent=1, allow_nan=False).replace("\n", "\n  ")
        yield text if step.step == 1 else ",\n  " + text
    yield tail + "\n"

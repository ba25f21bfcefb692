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


def trace_dict(trace) -> dict:
    """The JSON-ready dict of a trace."""
    steps = []
    for step in trace.steps:
        steps.append({
            "epoch": step.epoch, "step": step.step, "rows": list(step.rows),
            "learning_rate": _plain(step.learning_rate),
            "params": _plain(step.params), "values": _plain(step.values), "loss": _plain(step.loss),
            "local": {f"{n}/{p}": _plain(v) for (n, p), v in step.local.items()},
            "deltas": _plain(step.deltas), "gradients": _plain(step.gradients),
            "updated": _plain(step.updated), **({"state": _plain(step.state)} if step.state else {}),
        })
    out = {"title": trace.problem.title, "derivations": derivations_dict(trace.compiled),
           "steps": steps, "final": _plain(trace.final)}
    if trace.diverged:
        out["diverged"] = trace.diverged
    return out


def render_json(trace) -> str:
    return json.dumps(trace_dict(trace), indent=1, allow_nan=False) + "\n"

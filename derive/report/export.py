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


def _frame(out: dict) -> tuple[str, str]:
    """The JSON of a run's dict (its steps list holding _STEPS) before its first step and after its last."""
    head, tail = json.dumps(out, indent=1, allow_nan=False).split(json.dumps(_STEPS))
    return head, tail + "\n"


def _step_text(step, number: int) -> str:
    """A step's JSON as it sits in the steps list (two levels deep: its lines indented by two more spaces)."""
    return json.dumps({**step_dict(step), "step": number}, indent=1, allow_nan=False).replace("\n", "\n  ")


def json_chunks(trace):
    """The trace as JSON, exactly as json.dumps(trace_dict(trace), indent=1) writes it (refusing
    NaN), one step at a time, so that a long run's steps stream to their file."""
    if not len(trace.steps):
        yield json.dumps(trace_dict(trace), indent=1, allow_nan=False) + "\n"
        return
    head, tail = _frame(trace_dict(trace, [_STEPS]))
    yield head
    for step in trace.steps:
        text = _step_text(step, step.step)
        yield text if step.step == 1 else ",\n  " + text
    yield tail


class JsonSink:
    """Writes a run's JSON as it trains, the same text as json_chunks: each Block of steps is
    written through `write` as it comes and let go (see derive.engine.training.train)."""

    def __init__(self, compiled, write):
        self.compiled, self.write = compiled, write
        self.n_steps, self.final = 0, None

    def run_dict(self, steps: list, diverged: dict | None = None) -> dict:
        """The run's dict, as trace_dict makes it, with `steps` in place of its steps."""
        compiled, params = self.compiled, self.compiled.layout.params
        final = dict(zip(params, self.final)) if self.final is not None else \
            {name: compiled.problem.initial[name] for name in params}
        out = {"title": compiled.problem.title, "derivations": derivations_dict(compiled), "steps": steps,
               "final": _plain(final)}
        return {**out, "diverged": diverged} if diverged else out

    def feed(self, block) -> None:
        from ..engine.trace import Trace

        for j, step in enumerate(Trace.from_block(self.compiled, block, None, None).steps):
            number = self.n_steps + j + 1
            self.write(_frame(self.run_dict([_STEPS]))[0] if number == 1 else ",\n  ")
            self.write(_step_text(step, number))
        self.n_steps += len(block)
        self.final = tuple(block.after[-1].tolist())

    def finish(self, diverged: dict | None = None):
        if self.n_steps:
            self.write(_frame(self.run_dict([_STEPS], diverged))[1])
        else:
            self.write(json.dumps(self.run_dict([], diverged), indent=1, allow_nan=False) + "\n")
        return self

    def head_block(self):
        return None

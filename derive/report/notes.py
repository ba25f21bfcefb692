"""What happened in a run, read from its digest, and what in the spec could change it.

Each note is a record of facts (`kind` names it); the templates word them."""
from __future__ import annotations

import sympy

from .numformat import number_format


def only_through(unit: str, graph) -> list[str]:
    """The parameters whose every path to the loss passes through `unit`."""
    users: dict[str, list[str]] = {}
    for name, expr in graph.nodes:
        for s in expr.free_symbols:
            users.setdefault(s.name, []).append(name)

    def reaches_loss(start: str) -> bool:
        seen, stack = {unit}, [start]
        while stack:
            node = stack.pop()
            if node in graph.loss:
                return True
            for child in users.get(node, ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return False

    return [p for p in graph.params if p in _ancestors(unit, graph) and not reaches_loss(p)]


def outgoing(unit: str, graph) -> list[str]:
    """The parameters that multiply `unit` where it is used (its outgoing weights)."""
    params = set(graph.params)
    found = []
    for _, expr in graph.nodes:
        used = unit in {s.name for s in expr.free_symbols}
        for term in sympy.Add.make_args(sympy.expand(expr)) if used else ():
            names = {s.name for s in term.free_symbols}
            if unit in names:
                found += [p for p in sorted(names & params) if p not in found]
    return found


class RunNotes:
    """The notes of one run, from its digest; `name` turns a spec name into the format's inline
    math, `text` a number into the report's text."""

    def __init__(self, trace, digest, name, text):
        self.trace, self.problem, self.digest, self.name, self.text = trace, trace.problem, digest, name, text
        self.given = number_format(self.problem.report).given_text  # a number of the spec, as given
        self.n_steps = digest.n_steps

    def notes(self) -> list[dict]:
        if not self.n_steps:
            return self.diverged()
        return [*self.overshoot(), *self.inactive(), *self.saturated(), *self.rising(), *self.frozen(),
                *self.diverged()]

    def overshoot(self) -> list[dict]:
        found, text = self.digest.overshoot, self.text
        if found is None:
            return []
        rate = self.trace.compiled.schedule(1)
        return [{"kind": "overshoot", "epoch": found["epoch"], "first_step": found["first_step"],
                 "first_loss": text(found["first_loss"]), "worst_step": found["worst_step"],
                 "worst_loss": text(found["worst_loss"]), "start_size": self.given(self.digest.start_size),
                 "size": text(found["size"]), "rate": self.given(rate),
                 "smaller_rate": self.given(rate / 10 if isinstance(rate, sympy.Rational) else float(rate) / 10)}]

    def inactive(self) -> list[dict]:
        """ReLU units whose output was 0 for every row of a step, and the weights that therefore stood still."""
        notes, names = [], self.trace.layout.params
        for unit in self.digest.inactive:
            if not unit["steps"]:
                continue
            zero = [i for i, z in zip(unit["params"], unit["zero"]) if z]
            moved = any(m for z, m in zip(unit["zero"], unit["moved"]) if z)
            notes.append({"kind": "inactive", "unit": self.name(unit["unit"]), "steps": unit["steps"].result(),
                          "every": unit["steps"].count == self.n_steps, "n_steps": self.n_steps,
                          "params": [self.name(names[i]) for i in zero], "still": not moved})
        return notes

    def saturated(self) -> list[dict]:
        """Sigmoid and tanh units flat for every row of a step, whose own parameters then got
        gradients below SATURATION (see digest.py) of the step's largest."""
        names = self.trace.layout.params
        return [{"kind": "saturated", "unit": self.name(unit["unit"]),
                 "function": "sigmoid" if unit["sigmoid"] else "tanh", "steps": unit["steps"].result(),
                 "every": unit["steps"].count == self.n_steps, "n_steps": self.n_steps,
                 "params": [self.name(names[i]) for i in unit["params"]]}
                for unit in self.digest.saturated if unit["steps"]]

    def rising(self) -> list[dict]:
        """Steps after which the loss of the same rows rose (full batch); else epochs whose mean rose."""
        digest, text = self.digest, self.text
        if digest.full_batch and self.n_steps > 1:
            if not digest.rose:
                return []
            k, before, after = digest.rose_first
            return [{"kind": "rising", "steps": digest.rose.result(), "step": k + 1,
                     "before": text(before), "after": text(after)}]
        if digest.rose_epochs and not self.trace.diverged:
            epoch, before, after = digest.rose_epoch_first
            return [{"kind": "rising_epoch", "epoch": epoch, "before": text(before), "after": text(after),
                     "count": digest.rose_epochs}]
        return []

    def frozen(self) -> list[dict]:
        return [{"kind": "frozen", "param": self.name(p), "value": self.given(self.problem.initial[p])}
                for p in self.problem.training.frozen]

    def diverged(self) -> list[dict]:
        d = self.trace.diverged
        if not d:
            return []
        return [{"kind": "diverged", "step": d["step"], "quantity": d["quantity"], "nan": d["value"] == "nan"}]


def _ancestors(unit: str, graph) -> set[str]:
    """Every name `unit` is computed from."""
    exprs = dict(graph.nodes)
    seen, stack = set(), [unit]
    while stack:
        for s in exprs.get(stack.pop(), sympy.S.Zero).free_symbols:
            if s.name not in seen:
                seen.add(s.name)
                stack.append(s.name)
    return seen


def improvements(trace, digest) -> list[dict]:
    """The levers the articles end with that this spec does not already pull, by name."""
    settings = trace.problem.training
    worse = trace.diverged or (digest.n_steps > 1 and digest.last_loss > digest.first_loss)
    tips = [{"kind": "smaller_rate" if worse else "more_epochs"}]
    if settings.batch_size == 1:
        tips.append({"kind": "larger_batch"})
    if not settings.shuffle and settings.batch_size is not None and settings.batch_size < trace.problem.n_rows:
        tips.append({"kind": "shuffle"})
    options = dict(settings.options)
    others = {"sgd": ["momentum", "Adam"] if not options.get("momentum") else ["Adam"],
              "adagrad": ["Adam"], "rmsprop": ["Adam"]}.get(settings.optimizer, [])
    if others or settings.schedule is None:
        tips.append({"kind": "optimizers", "others": ", ".join(others), "schedule": settings.schedule is None})
    return tips

"""What happened in a run, read from its trace, and what in the spec could change it.

Each note is a record of facts (`kind` names it); the templates word them."""
from __future__ import annotations

import numpy as np
import sympy

from ..model.functions import relu, sigmoid
from .numformat import number_format

SATURATION = 1e-3  # a derivative, or a gradient, below this share of its largest counts as vanished
MAX_LISTED = 6     # step numbers listed before they are counted instead


def step_list(indices) -> dict:
    """0-based step indices as text for a sentence: `1 to 3, 5 and 8`, and how many there are."""
    numbers = [int(i) + 1 for i in indices]
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    parts = [str(a) if a == b else (f"{a} and {b}" if b == a + 1 else f"{a} to {b}") for a, b in spans]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return {"text": text, "count": len(numbers), "listed": len(spans) <= MAX_LISTED, "first": numbers[0]}


class RunNotes:
    """The notes of one trace; `name` turns a spec name into the format's inline math, `text` a
    number into the report's text."""

    def __init__(self, trace, name, text):
        self.trace, self.problem, self.name, self.text = trace, trace.problem, name, text
        self.given = number_format(self.problem.report).given_text  # a number of the spec, as given
        self.n_steps = len(trace.losses)

    # -- structure of the graph -----------------------------------------------------------
    def only_through(self, unit: str) -> list[str]:
        """The parameters whose every path to the loss passes through `unit`."""
        graph = self.problem.graph
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

    def outgoing(self, unit: str) -> list[str]:
        """The parameters that multiply `unit` where it is used (its outgoing weights)."""
        params = set(self.problem.graph.params)
        found = []
        for _, expr in self.problem.graph.nodes:
            used = unit in {s.name for s in expr.free_symbols}
            for term in sympy.Add.make_args(sympy.expand(expr)) if used else ():
                names = {s.name for s in term.free_symbols}
                if unit in names:
                    found += [p for p in sorted(names & params) if p not in found]
        return found

    def units(self, kind) -> list[str]:
        return [name for name, expr in self.problem.graph.nodes if isinstance(expr, sympy.Function) and expr.func in kind]

    # -- per-step facts from the arrays --------------------------------------------------
    def per_step(self, rows_true: np.ndarray) -> np.ndarray:
        """True for the steps in which `rows_true` holds for every row fed."""
        starts = self.trace.offsets[:-1]
        return np.logical_and.reduceat(rows_true, starts) if len(starts) else np.zeros(0, bool)

    def column(self, node: str) -> np.ndarray:
        layout = self.trace.layout
        return self.trace.outputs[:, layout.slices["values"]][:, layout.nodes.index(node)].astype(float)

    def still(self, params: list[str], steps: np.ndarray) -> tuple[list[str], bool]:
        """Of `params`, those whose gradient was 0 in all of `steps`; and whether they did not move."""
        index = [self.trace.layout.params.index(p) for p in params]
        gradients = np.asarray(self.trace.gradients, dtype=float)[np.ix_(steps, index)]
        zero = [p for p, col in zip(params, gradients.T) if np.all(col == 0)]
        zi = [self.trace.layout.params.index(p) for p in zero]
        moved = np.asarray(self.trace.updated, dtype=float)[np.ix_(steps, zi)] != \
            np.asarray(self.trace.params, dtype=float)[np.ix_(steps, zi)]
        return zero, not moved.any()

    # -- the notes -----------------------------------------------------------------------
    def notes(self) -> list[dict]:
        if not self.n_steps:
            return self.diverged()
        return [*self.overshoot(), *self.inactive(), *self.saturated(), *self.rising(), *self.frozen(),
                *self.diverged()]

    def overshoot(self) -> list[dict]:
        trace, text = self.trace, self.text
        losses = np.asarray(trace.losses, dtype=float)
        sizes = np.abs(np.asarray(trace.updated, dtype=float)).max(axis=1)
        start_size = max(abs(float(v)) for v in self.problem.initial.values()) if self.problem.initial else 0.0
        for epoch, a, b in epoch_bounds(trace):
            worst = a + int(np.argmax(losses[a:b + 1]))
            grown = a + int(np.argmax(sizes[a:b + 1]))
            # Losses of single rows differ anyway; growth counts when the parameters blow up too.
            if losses[a] > 0 and losses[worst] > 10 * losses[a] and sizes[grown] > 10 * (start_size + 1):
                rate = self.trace.compiled.schedule(1)
                return [{"kind": "overshoot", "epoch": epoch, "first_step": a + 1, "first_loss": text(losses[a]),
                         "worst_step": worst + 1, "worst_loss": text(losses[worst]),
                         "start_size": self.given(start_size), "size": text(sizes[grown]), "rate": self.given(rate),
                         "smaller_rate": self.given(rate / 10 if isinstance(rate, sympy.Rational) else float(rate) / 10)}]
        return []

    def inactive(self) -> list[dict]:
        """ReLU units whose output was 0 for every row of a step, and the weights that therefore stood still."""
        notes = []
        for unit in self.units((relu,)):
            steps = np.flatnonzero(self.per_step(self.column(unit) == 0))
            if not len(steps):
                continue
            params, still = self.still([*self.only_through(unit), *self.outgoing(unit)], steps)
            notes.append({"kind": "inactive", "unit": self.name(unit), "steps": step_list(steps),
                          "every": len(steps) == self.n_steps, "n_steps": self.n_steps,
                          "params": [self.name(p) for p in params], "still": still})
        return notes

    def saturated(self) -> list[dict]:
        """Sigmoid and tanh units flat for every row of a step, whose own parameters then got
        gradients below SATURATION of the step's largest."""
        notes = []
        gradients = np.abs(np.asarray(self.trace.gradients, dtype=float))
        largest = gradients.max(axis=1)
        for unit in self.units((sigmoid, sympy.tanh)):
            value = self.column(unit)
            is_sigmoid = dict(self.problem.graph.nodes)[unit].func is sigmoid
            slope, top = (value * (1 - value), 0.25) if is_sigmoid else (1 - value ** 2, 1.0)
            flat = self.per_step(slope < SATURATION * top)
            params = self.only_through(unit)
            if not params or not flat.any():
                continue
            index = [self.trace.layout.params.index(p) for p in params]
            small = np.all(gradients[:, index] < SATURATION * largest[:, None], axis=1) & (largest > 0)
            steps = np.flatnonzero(flat & small)
            if len(steps):
                notes.append({"kind": "saturated", "unit": self.name(unit), "function": "sigmoid" if is_sigmoid else "tanh",
                              "steps": step_list(steps), "every": len(steps) == self.n_steps,
                              "n_steps": self.n_steps, "params": [self.name(p) for p in params]})
        return notes

    def rising(self) -> list[dict]:
        """Steps after which the loss of the same rows rose (full batch); else epochs whose mean rose."""
        trace, text = self.trace, self.text
        losses = np.asarray(trace.losses, dtype=float)
        if self.problem.training.batch_size is None and len(losses) > 1:
            rose = np.flatnonzero(np.diff(losses) > 0)  # step k's loss is measured before its update
            if len(rose):
                k = int(rose[0])
                return [{"kind": "rising", "steps": step_list(rose), "step": k + 1,
                         "before": text(losses[k]), "after": text(losses[k + 1])}]
            return []
        bounds = epoch_bounds(trace)
        means = [float(losses[a:b + 1].mean()) for _, a, b in bounds]
        rose = [i for i in range(1, len(means)) if means[i] > means[i - 1]]
        if rose and not trace.diverged:
            i = rose[0]
            return [{"kind": "rising_epoch", "epoch": bounds[i][0], "before": text(means[i - 1]),
                     "after": text(means[i]), "count": len(rose)}]
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


def epoch_bounds(trace) -> list[tuple[int, int, int]]:
    """(epoch, first step index, last step index) for every epoch that has steps."""
    epochs = trace.epochs
    if not len(epochs):
        return []
    starts = [0, *(np.flatnonzero(np.diff(epochs)) + 1).tolist()]
    ends = [*(s - 1 for s in starts[1:]), len(epochs) - 1]
    return [(int(epochs[a]), a, b) for a, b in zip(starts, ends)]


def improvements(trace) -> list[dict]:
    """The levers the articles end with that this spec does not already pull, by name."""
    settings = trace.problem.training
    losses = np.asarray(trace.losses, dtype=float)
    worse = trace.diverged or (len(losses) > 1 and losses[-1] > losses[0])
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

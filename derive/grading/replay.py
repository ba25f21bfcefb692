"""The runs answers are compared with: the true run up to the last step answered, and the run of a
student who carries a fixed number of digits throughout, both in floating point unless the spec
is exact."""
from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

from ..engine.kernel import compile_kernel
from ..engine.optimizers import compile_stepper
from ..engine.training import batches
from ..report.numformat import NumberFormat


def steps_per_epoch(problem) -> int:
    return math.ceil(problem.n_rows / (problem.training.batch_size or problem.n_rows))


def until(problem, n_steps: int):
    """The same problem trained for just enough to reach step `n_steps`: whole epochs, and where
    rows run in order, only the rows those steps use."""
    settings = problem.training
    per_epoch = steps_per_epoch(problem)
    data = problem.data
    if not settings.shuffle and settings.batch_size is not None and n_steps < per_epoch:
        data = {c: v[:n_steps * settings.batch_size] for c, v in data.items()}
    training = replace(settings, epochs=min(settings.epochs, math.ceil(n_steps / per_epoch)))
    return replace(problem, training=training, data=data)


def value_of(step, quantity: str):
    """A quantity of a step ('values.yhat', 'local.L/yhat', 'state.w1.m', 'loss', ...)."""
    group, _, name = quantity.partition(".")
    if group == "loss":
        return step.loss
    if group == "local":
        return step.local[tuple(name.split("/"))]
    if group == "state":
        param, _, slot = name.partition(".")
        return step.state[param][slot]
    return getattr(step, group)[name]


def carried_run(compiled, n_steps: int, decimals: int | None = None, significant: int | None = None) -> list:
    """The first `n_steps` steps as worked by a student who rounds every value they compute to
    `decimals` places (or `significant` figures) and carries it so; fewer steps if a value overflows.
    Each step has values, local, deltas, loss, gradients, updated and state, as a trace's steps do."""
    rounding = NumberFormat(precision=decimals if decimals is not None else 4, significant=significant).rounded
    problem = compiled.problem
    graph, settings = problem.graph, problem.training
    kernel = compile_kernel(compiled.derivation, exact=False, rounding=rounding)
    stepper = compile_stepper(compiled.stepper.rule, graph.params, settings.frozen, exact=False, rounding=rounding)
    columns = [[float(v) for v in problem.data[c]] for c in graph.columns]
    params = tuple(float(problem.initial[p]) for p in graph.params)
    state = tuple(float(v) for v in stepper.initial_state())
    layout = kernel.layout
    n, e = len(layout.nodes), len(layout.edges)
    out_steps = []
    order = batches(problem.n_rows, settings)
    try:
        for t, (epoch, rows) in enumerate(order, start=1):
            if t > n_steps:
                break
            outputs = [kernel.row(params, [c[int(r)] for c in columns]) for r in rows]
            m = len(rows)
            loss = rounding(sum(sum(o[i] for i in layout.loss_index) for o in outputs) / m)
            grads = tuple(rounding(sum(o[2 * n + e + j] for o in outputs) / m) for j in range(len(graph.params)))
            result = stepper.update(params, grads, state, float(compiled.schedule(epoch)), t)
            new, state = result[:len(params)], result[len(params):]

            width = len(stepper.rule.state)
            out_steps.append(SimpleNamespace(
                values=_per(outputs, 0, layout.nodes), local=_per(outputs, n, layout.edges),
                deltas=_per(outputs, n + e, layout.nodes),
                loss=loss, gradients=dict(zip(graph.params, grads)), updated=dict(zip(graph.params, new)),
                state={p: dict(zip(stepper.rule.state, state[i * width:(i + 1) * width]))
                       for i, p in enumerate(graph.params)}))
            params = new
    except (OverflowError, ZeroDivisionError, ValueError):
        pass
    return out_steps


def _per(outputs: list, offset: int, names) -> dict:
    """name -> its number (one row) or list of numbers (several), from the rows' output tuples."""
    if len(outputs) == 1:
        return {k: outputs[0][offset + i] for i, k in enumerate(names)}
    return {k: [o[offset + i] for o in outputs] for i, k in enumerate(names)}

"""The record of a run: every step's numbers as arrays, and Step views of them."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Step:
    """One optimisation step. Per-node and per-edge quantities are numbers for a batch of one
    row and lists (one per row) otherwise; `row_gradients` are always lists."""

    epoch: int
    step: int
    rows: tuple[int, ...]
    learning_rate: float
    params: dict
    values: dict
    local: dict
    deltas: dict
    loss: float
    row_gradients: dict
    gradients: dict
    updated: dict
    state: dict


@dataclass(frozen=True)
class Trace:
    """Every step of a run as arrays; `steps` gives Step views, `diverged` says where it stopped."""

    problem: object
    epochs: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    table: object  # every row's values, partials, deltas and gradients: an array, or a function making it
    params: np.ndarray
    gradients: np.ndarray
    updated: np.ndarray
    state: np.ndarray
    losses: np.ndarray
    rates: np.ndarray
    diverged: dict | None = None

    @cached_property
    def outputs(self) -> np.ndarray:
        """One row per data row fed: node values, local partials, deltas, gradients (made when first
        asked for, so that a run whose rows nobody reads does not copy them)."""
        return self.table() if callable(self.table) else self.table

    @property
    def steps(self) -> "Steps":
        return Steps(self)

    @property
    def final(self) -> dict:
        """The parameters after the last completed step (the initial ones if none completed)."""
        names = self.problem.graph.params
        if len(self.updated):
            return dict(zip(names, self.updated[-1].tolist()))
        return {name: self.problem.initial[name] for name in names}

    @cached_property
    def _layout(self):
        kernel = self.problem.kernel
        return kernel.slices, kernel.nodes, kernel.edges, kernel.params

    def step(self, index: int) -> Step:
        slices, nodes, edges, params = self._layout
        start, end = self.offsets[index], self.offsets[index + 1]
        block = self.outputs[start:end]
        single = end - start == 1

        def per(names, part):
            columns = block[:, slices[part]]
            if single:
                return dict(zip(names, columns[0].tolist()))
            return {name: columns[:, i].tolist() for i, name in enumerate(names)}

        rule = self.problem.stepper.rule
        state = {}
        if rule.state:
            flat = self.state[index].tolist()
            width = len(rule.state)
            state = {p: dict(zip(rule.state, flat[i * width:(i + 1) * width])) for i, p in enumerate(params)}
        row_grads = block[:, slices["gradients"]]
        return Step(
            epoch=int(self.epochs[index]), step=index + 1,
            rows=tuple(int(r) for r in self.rows[start:end]),
            learning_rate=self.rates[index].item() if hasattr(self.rates[index], "item") else self.rates[index],
            params=dict(zip(params, self.params[index].tolist())),
            values=per(nodes, "values"), local=per(edges, "local"), deltas=per(nodes, "deltas"),
            loss=_scalar(self.losses[index]),
            row_gradients={p: row_grads[:, i].tolist() for i, p in enumerate(params)},
            gradients=dict(zip(params, self.gradients[index].tolist())),
            updated=dict(zip(params, self.updated[index].tolist())),
            state=state)


class Steps(Sequence):
    """The steps of a trace, made on demand."""

    def __init__(self, trace: Trace):
        self._trace = trace

    def __len__(self) -> int:
        return len(self._trace.losses)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._trace.step(index)


def _scalar(value):
    return value.item() if hasattr(value, "item") else value

"""The record of a run: every step's numbers as arrays, and Step views of them."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .kernel import RowLayout


class Step:
    """One optimisation step, read from the trace's arrays as its parts are asked for.

    epoch, step (1-based), rows (0-based data rows), learning_rate, params, values, local,
    deltas, loss, row_gradients, gradients, updated, state. Per-node and per-edge quantities are
    numbers for a batch of one row and lists (one per row) otherwise; row_gradients are lists.
    """

    def __init__(self, trace: Trace, index: int):
        self._trace, self._index = trace, index
        self.step = index + 1
        self.epoch = int(trace.epochs[index])
        start, end = int(trace.offsets[index]), int(trace.offsets[index + 1])
        self.rows = tuple(trace.rows[start:end].tolist())
        self.learning_rate = _scalar(trace.rates[index])
        self.loss = _scalar(trace.losses[index])

    def __repr__(self) -> str:
        return f"Step(step={self.step}, epoch={self.epoch}, rows={self.rows}, loss={self.loss!r})"

    @cached_property
    def _block(self):
        return self._trace.block(self._index)

    def _per(self, names, part):
        columns = self._block[:, self._trace.layout.slices[part]]
        if len(self.rows) == 1:
            return dict(zip(names, columns[0].tolist()))
        return {name: columns[:, i].tolist() for i, name in enumerate(names)}

    def _by_param(self, array) -> dict:
        return dict(zip(self._trace.layout.params, array[self._index].tolist()))

    @cached_property
    def params(self) -> dict:
        return self._by_param(self._trace.params)

    @cached_property
    def gradients(self) -> dict:
        return self._by_param(self._trace.gradients)

    @cached_property
    def updated(self) -> dict:
        return self._by_param(self._trace.updated)

    @cached_property
    def values(self) -> dict:
        return self._per(self._trace.layout.nodes, "values")

    @cached_property
    def local(self) -> dict:
        return self._per(self._trace.layout.edges, "local")

    @cached_property
    def deltas(self) -> dict:
        return self._per(self._trace.layout.nodes, "deltas")

    @cached_property
    def row_gradients(self) -> dict:
        grads = self._block[:, self._trace.layout.gradients]
        return {p: grads[:, i].tolist() for i, p in enumerate(self._trace.layout.params)}

    @cached_property
    def state(self) -> dict:
        names = self._trace.layout.state
        if not names:
            return {}
        flat, width = self._trace.state[self._index].tolist(), len(names)
        return {p: dict(zip(names, flat[i * width:(i + 1) * width]))
                for i, p in enumerate(self._trace.layout.params)}


@dataclass(frozen=True)
class Trace:
    """Every step of a run as arrays laid out by `layout`; `steps` gives Step views, `diverged`
    says where it stopped. `compiled` is the model the run came from (its problem, derivation and
    update rule), for documents that explain the run."""

    layout: RowLayout
    compiled: object
    epochs: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    table: object  # the outputs of the rows fed, in order: an array, or a function making it (see outputs)
    params: np.ndarray
    gradients: np.ndarray
    updated: np.ndarray
    state: np.ndarray
    losses: np.ndarray
    rates: np.ndarray
    diverged: dict | None = None
    digest: object = None  # a long run's report numbers, gathered as it ran (its arrays hold its first steps only)

    @classmethod
    def from_block(cls, compiled, block: Block, diverged: dict | None, digest) -> Trace:
        """The trace of a digested run: its first steps (`block`) and the digest of all of them."""
        p = len(compiled.layout.params)
        return cls(layout=compiled.layout, compiled=compiled, epochs=block.epochs, offsets=block.offsets,
                   rows=block.rows, table=block.outputs, params=block.before, gradients=block.gradients,
                   updated=block.after[:, :p], state=block.after[:, p:], losses=block.losses, rates=block.rates,
                   diverged=diverged, digest=digest)

    @cached_property
    def outputs(self) -> np.ndarray:
        """One row per data row fed: node values, local partials, deltas, gradients (made when first
        asked for, so that a run whose rows nobody reads does not copy them). A run trained for a
        report keeps only the rows of the steps it works in full: the first rows fed."""
        return self.table() if callable(self.table) else self.table

    def block(self, index: int) -> np.ndarray:
        """The outputs of the rows of step `index` (0-based), one row per data row fed."""
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        if end > len(self.outputs):
            raise IndexError(f"step {index + 1}: the outputs of its rows were not kept; train with every "
                             f"step's rows kept (keep_rows=None) to read them")
        return self.outputs[start:end]

    @property
    def steps(self) -> Steps:
        return Steps(self)

    @property
    def problem(self):
        """The problem the run solved: its data and settings."""
        return self.compiled.problem

    @property
    def final(self) -> dict:
        """The parameters after the last completed step (the initial ones if none completed)."""
        names = self.layout.params
        if self.digest is not None and self.digest.final is not None:
            return dict(zip(names, self.digest.final))
        if len(self.updated):
            return dict(zip(names, self.updated[-1].tolist()))
        return {name: self.problem.initial[name] for name in names}

    @property
    def n_steps(self) -> int:
        """The steps the run took (a digested run keeps only the first of them in its arrays)."""
        return len(self.losses) if self.digest is None else self.digest.n_steps

    def step(self, index: int) -> Step:
        if index >= len(self.losses):
            raise IndexError(f"step {index + 1}: a run trained for a report keeps only its first "
                             f"{len(self.losses)} steps; train without a report to read every step")
        return Step(self, index)

    def blocks(self):
        """The run as Blocks of consecutive steps (here one block of every step)."""
        rows = self.offsets[-1] <= len(self.outputs)
        yield Block(epochs=self.epochs, offsets=self.offsets, rows=self.rows, before=self.params,
                    after=np.hstack([self.updated, self.state]),
                    gradients=self.gradients, losses=self.losses, rates=self.rates,
                    outputs=self.outputs if rows else None)


@dataclass(frozen=True)
class Block:
    """Consecutive steps of a run as a training loop hands them on: per step its epoch, rows
    (`offsets` into `rows`), the parameters before it and after it, gradients,
    loss and rate; `before` holds the parameters, `after` the parameters and then the optimiser
    state; `outputs` has one row per data row fed (None where they were not kept)."""

    epochs: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    before: np.ndarray
    after: np.ndarray
    gradients: np.ndarray
    losses: np.ndarray
    rates: np.ndarray
    outputs: np.ndarray | None

    def __len__(self) -> int:
        return len(self.losses)

    @staticmethod
    def join(blocks: list[Block]) -> Block:
        """Consecutive blocks as one."""
        if len(blocks) == 1:
            return blocks[0]
        starts = np.cumsum([0, *(int(b.offsets[-1]) for b in blocks[:-1])])
        offsets = np.concatenate([[0], *(b.offsets[1:] + s for b, s in zip(blocks, starts))])
        parts = [np.concatenate([getattr(b, name) for b in blocks]) for name in
                 ("epochs", "rows", "before", "after", "gradients", "losses", "rates")]
        outputs = None if any(b.outputs is None for b in blocks) else np.concatenate([b.outputs for b in blocks])
        epochs, rows, before, after, gradients, losses, rates = parts
        return Block(epochs, offsets, rows, before, after, gradients, losses, rates, outputs)

    def take(self, end: int, kept_rows: int | None = None) -> Block:
        """The block's first `end` steps (with the outputs of at most `kept_rows` of their rows)."""
        stop = int(self.offsets[end])
        outputs = None if self.outputs is None else self.outputs[:stop if kept_rows is None else min(stop, kept_rows)]
        return Block(self.epochs[:end], self.offsets[:end + 1], self.rows[:stop], self.before[:end], self.after[:end],
                     self.gradients[:end], self.losses[:end], self.rates[:end], outputs)


class Steps(Sequence):
    """The steps of a trace, made on demand."""

    def __init__(self, trace: Trace):
        self._trace = trace

    def __len__(self) -> int:
        return self._trace.n_steps

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

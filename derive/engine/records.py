"""What the training loops record, handed on as Blocks of steps (to a sink that digests a run as
it trains) or gathered into the run's Trace."""
from __future__ import annotations

import numpy as np

from .trace import Block, Trace


def make_trace(compiled, *, epochs, rows, offsets, table, before, final, gradients, losses, rates,
               diverged=None, dtype=float) -> Trace:
    """The Trace of a run from what every loop records: for each step its epoch, rows (offsets
    into them), the parameters and optimiser state before it, its gradients, loss and rate; and
    the parameters and state after the last step, which with the next step's `before` give each
    step's updated parameters and state."""
    p = len(compiled.layout.params)
    carried = len(final)
    before = np.asarray(before, dtype=dtype).reshape(-1, carried)
    n = len(before)
    after = np.vstack([before[1:], np.array(final, dtype=dtype).reshape(1, carried)])[:n]
    return Trace(layout=compiled.layout, compiled=compiled, epochs=np.asarray(epochs, dtype=int),
                 offsets=np.asarray(offsets, dtype=int), rows=np.asarray(rows, dtype=int), table=table,
                 params=before[:, :p], gradients=np.asarray(gradients, dtype=dtype).reshape(n, p),
                 updated=after[:, :p], state=after[:, p:], losses=np.asarray(losses, dtype=dtype),
                 rates=np.asarray(rates, dtype=dtype), diverged=diverged)


def digested(compiled, sink, diverged) -> Trace:
    """The Trace of a run whose steps went to `sink`: the sink's first steps and the sink as its digest."""
    sink.finish(diverged)
    head = sink.head_block()
    if head is None:
        p, carried = len(compiled.layout.params), len(compiled.layout.params) + len(compiled.stepper.initial_state())
        head = Block(np.zeros(0, int), np.zeros(1, int), np.zeros(0, int), np.zeros((0, p)), np.zeros((0, carried)),
                     np.zeros((0, p)), np.zeros(0), np.zeros(0), np.zeros((0, compiled.layout.width)))
    return Trace.from_block(compiled, head, diverged, sink)


def batched_block(compiled, record: dict, rows_kept: list, sizes: list, blocks: list, final: tuple) -> Block:
    """The steps of the batched loop since the last block, as a Block."""
    p, carried = len(compiled.layout.params), len(final)
    before = np.asarray(record["before"], dtype=float).reshape(-1, carried)
    after = np.vstack([before[1:], np.array(final, dtype=float).reshape(1, carried)])
    return Block(epochs=np.asarray(record["epochs"], dtype=int), offsets=np.concatenate([[0], np.cumsum(sizes)]),
                 rows=np.concatenate(rows_kept), before=before[:, :p], after=after,
                 gradients=np.asarray(record["gradients"], dtype=float).reshape(-1, p),
                 losses=np.asarray(record["losses"], dtype=float), rates=np.asarray(record["rates"], dtype=float),
                 outputs=row_table(blocks, sizes, compiled.layout.width))


def row_table(blocks, sizes, width: int) -> np.ndarray:
    """The rows' values as one table, from each step's quantities (arrays, or numbers that are
    the same in every row)."""
    table = np.empty((sum(sizes), width), order="F")  # column by column: contiguous writes
    start = 0
    for quantities, m in zip(blocks, sizes):
        for j, column in enumerate(quantities):
            table[start:start + m, j] = column
        start += m
    return table


def fused_block(compiled, record: bytearray, width: int, final: tuple, rows_fed, epochs_fed, rates) -> Block:
    """The steps of the generated loop since the last block, as a Block (views of the record, which the
    loop then leaves for a new one)."""
    layout, carried, p = compiled.layout, len(final), len(compiled.layout.params)
    table = np.frombuffer(record, dtype="<f8").reshape(-1, width)
    outputs = table[:, carried:]
    after = np.vstack([table[1:, :carried], np.array(final, dtype=float).reshape(1, carried)])
    return Block(epochs=joined(epochs_fed).astype(int), offsets=np.arange(len(table) + 1), rows=joined(rows_fed).astype(int),
                 before=table[:, :p], after=after, gradients=outputs[:, layout.gradients],
                 losses=outputs[:, list(layout.loss_index)].sum(axis=1), rates=joined(rates), outputs=outputs)


def fused_trace(compiled, record: bytearray, width: int, final: tuple, rows_fed, epochs_fed, rates,
                keep_rows: int | None, diverged) -> Trace:
    """The Trace of the generated loop's whole record; with `keep_rows`, the outputs of the first
    that many steps are copied out and the rest of the record is let go."""
    layout, carried = compiled.layout, len(final)
    table = np.frombuffer(record, dtype="<f8").reshape(-1, width)
    outputs = table[:, carried:]
    kept = outputs if keep_rows is None else outputs[:keep_rows].copy()
    return make_trace(compiled, epochs=joined(epochs_fed), rows=joined(rows_fed), offsets=np.arange(len(table) + 1),
                      table=kept, before=_own(table[:, :carried], keep_rows), final=final,
                      gradients=_own(outputs[:, layout.gradients], keep_rows),
                      losses=outputs[:, list(layout.loss_index)].sum(axis=1), rates=joined(rates), diverged=diverged)


def _own(columns: np.ndarray, keep_rows: int | None) -> np.ndarray:
    """Columns of the fused loop's record: a view of it when it is all kept, else a copy of their own."""
    return columns if keep_rows is None else columns.copy()


def joined(parts: list) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)

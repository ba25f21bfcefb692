"""The training loops: SGD over batches of rows, producing a Trace of numbers only."""
from __future__ import annotations

import functools
import math
from array import array

import numpy as np
import sympy

from .trace import Trace


def epoch_orders(n_rows: int, settings):
    """(epoch, order) for every epoch: the rows in the order they are fed, a permutation drawn
    from `seed` when shuffled, else range(n_rows). Every loop takes its row order from here."""
    rng = np.random.default_rng(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        yield epoch, rng.permutation(n_rows) if settings.shuffle else range(n_rows)


def batches(n_rows: int, settings):
    """(epoch, rows) for every step: each epoch's order cut into runs of batch_size rows (a range
    where the rows run in order, else a view of the epoch's permutation)."""
    size = n_rows if settings.batch_size is None else settings.batch_size
    for epoch, order in epoch_orders(n_rows, settings):
        for start in range(0, n_rows, size):
            yield epoch, order[start:start + size]


def train(compiled) -> Trace:
    """Train the compiled model and return its Trace; a non-finite number stops training at that step."""
    if compiled.exact:
        return _train_general(compiled)
    if compiled.problem.training.batch_size == 1 or compiled.problem.n_rows == 1:
        return _train_fused(compiled)
    return _train_batched(compiled)


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


def _train_batched(compiled) -> Trace:
    """Several rows per step in floating point: the row's step runs on NumPy arrays of the
    batch's columns (vectorised over rows); the batch loss and gradient are their means."""
    problem, layout = compiled.problem, compiled.layout
    columns = [np.asarray(problem.data[c], dtype=float) for c in problem.graph.columns]
    loss_index, grad_slice = list(layout.loss_index), layout.gradients
    params = tuple(float(problem.initial[p]) for p in layout.params)
    state = tuple(float(v) for v in compiled.stepper.initial_state())
    blocks, rows_kept, sizes = [], [], []
    record = {k: [] for k in ("epochs", "before", "gradients", "losses", "rates")}
    diverged = None
    for t, (epoch, rows) in enumerate(batches(problem.n_rows, problem.training), start=1):
        index = slice(rows.start, rows.stop) if isinstance(rows, range) else rows
        values = tuple(c[index] for c in columns)
        with np.errstate(all="ignore"):
            out = compiled.batch_row(params, values)
            loss = float(np.mean(sum(out[i] for i in loss_index)))
            grads = tuple(float(np.mean(g)) for g in out[grad_slice])
        # Any infinite or NaN number in the rows reaches the mean of the loss or of a gradient.
        if not (math.isfinite(loss) and all(math.isfinite(g) for g in grads)):
            table = _table([out], [len(rows)], layout.width)
            fed = [[float(c[r]) for c in columns] for r in rows]
            diverged = _locate(compiled, params, fed, t, [tuple(r) for r in table.tolist()])
            break
        rate = float(compiled.schedule(epoch))
        result, diverged = _update(compiled, params, grads, state, rate, t)
        if diverged:
            break
        blocks.append(out)
        rows_kept.append(np.arange(rows.start, rows.stop) if isinstance(rows, range) else rows)
        sizes.append(len(rows))
        for key, value in (("epochs", epoch), ("before", params + state), ("gradients", grads),
                           ("losses", loss), ("rates", rate)):
            record[key].append(value)
        params, state = result[:len(params)], result[len(params):]
    return make_trace(compiled, offsets=np.concatenate([[0], np.cumsum(sizes, dtype=int)]),
                      rows=np.concatenate(rows_kept) if rows_kept else (),
                      table=functools.partial(_table, blocks, sizes, layout.width), final=params + state,
                      diverged=diverged, **record)


def _table(blocks, sizes, width: int) -> np.ndarray:
    """The rows' values as one table, from each step's quantities (arrays, or numbers that are
    the same in every row)."""
    table = np.empty((sum(sizes), width), order="F")  # column by column: contiguous writes
    start = 0
    for quantities, m in zip(blocks, sizes):
        for j, column in enumerate(quantities):
            table[start:start + m, j] = column
        start += m
    return table


def _update(compiled, params, grads, state, rate, t):
    """The optimiser's step: (new parameters and state, None), or (None, where it diverged)."""
    try:
        result = compiled.stepper.update(params, grads, state, rate, t)
    except (OverflowError, ZeroDivisionError, ValueError):
        result = (math.inf,) * (len(params) + len(state))
    bad = [i for i, v in enumerate(result[:len(params)]) if not _finite((v,), compiled.exact)]
    if bad:
        name = compiled.layout.params[bad[0]]
        return None, {"step": t, "quantity": f"updated.{name}", "value": _describe(result[bad[0]])}
    return tuple(result), None


def _train_fused(compiled) -> Trace:
    """One row per step through the generated loop; a step it cannot finish goes through the
    general code, one step at a time, which records it or says where training diverged."""
    problem, layout = compiled.problem, compiled.layout
    columns = compiled.columns
    params = tuple(float(problem.initial[p]) for p in layout.params)
    state = tuple(float(v) for v in compiled.stepper.initial_state())
    outputs, before = array("d"), array("d")
    order_kept, epochs, rates = [], [], []
    diverged, t = None, 1
    for epoch, order in epoch_orders(problem.n_rows, problem.training):
        order = order if isinstance(order, range) else order.tolist()
        rate = float(compiled.schedule(epoch))
        position = 0
        while position < len(order) and diverged is None:
            done, params, state, stopped = compiled.loop(params, state, columns, order[position:], rate, t,
                                                         outputs, before)
            order_kept.extend(order[position:position + done])
            epochs.extend([epoch] * done)
            rates.extend([rate] * done)
            t, position = t + done, position + done
            if stopped is None:
                break
            r = order[position]
            out, new, diverged = _general_step(compiled, params, state, [[c[r] for c in columns]], rate, t)
            if diverged is None:
                outputs.extend(out[0])
                before.extend(params + state)
                order_kept.append(r)
                epochs.append(epoch)
                rates.append(rate)
                params, state = new[:len(params)], new[len(params):]
                t, position = t + 1, position + 1
        if diverged is not None:
            break
    n = len(order_kept)
    table = np.frombuffer(outputs, dtype=float).reshape(n, layout.width)
    return make_trace(compiled, epochs=epochs, rows=order_kept, offsets=np.arange(n + 1), table=table,
                      before=np.frombuffer(before, dtype=float), final=params + state,
                      gradients=table[:, layout.gradients], losses=table[:, list(layout.loss_index)].sum(axis=1),
                      rates=rates, diverged=diverged)


def _general_step(compiled, params, state, batch_rows, rate, t):
    """One step by the general code: (row outputs, new parameters and state, diverged or None)."""
    try:
        outputs = [compiled.kernel.row(params, row) for row in batch_rows]
    except (OverflowError, ZeroDivisionError, ValueError):
        outputs = None
    if outputs is None or not all(_finite(o, compiled.exact) for o in outputs):
        return None, None, _locate(compiled, params, batch_rows, t, outputs)
    m = len(batch_rows)
    grad_slice = compiled.layout.gradients
    grads = outputs[0][grad_slice] if m == 1 else \
        tuple(sum(column) / m for column in zip(*(o[grad_slice] for o in outputs)))
    result, diverged = _update(compiled, params, grads, state, rate, t)
    return (None, None, diverged) if diverged else (outputs, result, None)


def _train_general(compiled) -> Trace:
    """Any batch size and any arithmetic (floats, exact Rationals, rounded as shown)."""
    problem, layout, exact = compiled.problem, compiled.layout, compiled.exact
    rounding = compiled.rounding or (lambda value: value)
    graph = problem.graph
    table = np.stack([problem.data[c] for c in graph.columns], axis=1) if graph.columns else \
        np.zeros((problem.n_rows, 0))
    rows = [[_start(v, True) for v in row] for row in table.tolist()] if exact else table.tolist()
    params = tuple(_start(problem.initial[p], exact) for p in layout.params)
    state = compiled.stepper.initial_state()
    grad_slice, loss_index = layout.gradients, layout.loss_index

    record = {k: [] for k in ("epochs", "rows", "before", "gradients", "losses", "rates")}
    offsets, outputs_kept = [0], []
    diverged = None
    for t, (epoch, batch) in enumerate(batches(problem.n_rows, problem.training), start=1):
        try:
            outputs = [compiled.kernel.row(params, rows[r]) for r in batch]
        except (OverflowError, ZeroDivisionError, ValueError):
            outputs = None
        if outputs is None or not all(_finite(o, exact) for o in outputs):
            diverged = _locate(compiled, params, [rows[r] for r in batch], t, outputs)
            break
        m = len(batch)
        if m == 1:
            out = outputs[0]
            loss = sum(out[i] for i in loss_index)
            grads = out[grad_slice]
        else:
            loss = rounding(sum(sum(o[i] for i in loss_index) for o in outputs) / m)
            grads = tuple(rounding(sum(column) / m) for column in zip(*(o[grad_slice] for o in outputs)))
        rate = compiled.schedule(epoch)
        result, diverged = _update(compiled, params, grads, state, rate, t)
        if diverged:
            break
        for key, value in (("epochs", epoch), ("before", params + tuple(state)), ("gradients", grads),
                           ("losses", loss), ("rates", rate)):
            record[key].append(value)
        record["rows"].extend(batch)
        offsets.append(offsets[-1] + m)
        outputs_kept.extend(outputs)
        params, state = result[:len(params)], result[len(params):]

    dtype = object if exact else float
    table = np.array(outputs_kept, dtype=dtype).reshape(-1, layout.width)
    return make_trace(compiled, offsets=offsets, table=table, final=params + tuple(state), diverged=diverged,
                      dtype=dtype, **record)


def _start(value, exact: bool):
    if exact:
        if isinstance(value, float):
            return sympy.Rational(repr(value))
        return sympy.nsimplify(value, rational=True)
    return float(value)


def _finite(values, exact: bool) -> bool:
    if exact:
        return all(getattr(v, "is_Rational", False) or getattr(v, "is_finite", False) for v in values)
    return all(math.isfinite(v) for v in values)


def _describe(value) -> str:
    """'inf', '-inf' or 'nan' for a non-finite float or SymPy number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "nan"
    if math.isnan(number):
        return "nan"
    return "inf" if number > 0 else "-inf"


def _locate(compiled, params, rows, t: int, outputs=None) -> dict:
    """Find the first quantity of a failing step that is infinite or NaN; where the step raised,
    re-run it on NumPy floats, which give inf and NaN instead of exceptions."""
    if outputs is None:
        safe = compiled.batch_row
        with np.errstate(all="ignore"):
            outputs = [safe(tuple(np.float64(float(p)) for p in params), tuple(np.float64(float(v)) for v in row))
                       for row in rows]
    for out in outputs:
        for name, value in zip(compiled.layout.quantities, out):
            if not _finite((value,), compiled.exact):
                return {"step": t, "quantity": name, "value": _describe(value)}
    return {"step": t, "quantity": "loss", "value": "nan"}

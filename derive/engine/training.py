"""The training loops: SGD over batches of rows, producing a Trace of numbers only."""
from __future__ import annotations

import functools
import math
from array import array

import numpy as np

from .codegen import recompile_for_numpy
from .trace import Trace


def batches(n_rows: int, batch_size: int | None, epochs: int, shuffle: bool, seed: int):
    """Yield (epoch, rows) for every step; the same seed gives the same order."""
    size = n_rows if batch_size is None else batch_size
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n_rows) if shuffle else np.arange(n_rows)
        for start in range(0, n_rows, size):
            yield epoch, order[start:start + size].tolist()


def train(problem) -> Trace:
    """Train `problem` and return its Trace; a non-finite number stops training at that step."""
    settings = problem.training
    if problem.exact_arithmetic:
        return _train_general(problem)
    if settings.batch_size == 1 or problem.n_rows == 1:
        return _train_fused(problem)
    return _train_batched(problem)


def _train_batched(problem) -> Trace:
    """Several rows per step in floating point: the row's step runs on NumPy arrays of the
    batch's columns (vectorised over rows); the batch loss and gradient are their means."""
    kernel, stepper, graph, settings = problem.kernel, problem.stepper, problem.graph, problem.training
    batch_row = problem.batch_kernel
    columns = [np.asarray(problem.data[c], dtype=float) for c in graph.columns]
    width, grad_slice = kernel.slices["gradients"].stop, kernel.slices["gradients"]
    loss_index = list(kernel.loss_index)
    params = tuple(float(problem.initial[p]) for p in graph.params)
    state = tuple(float(v) for v in stepper.initial_state())
    blocks, rows_kept, sizes, per_step = [], [], [], {k: [] for k in ("epochs", "params", "grads", "state", "loss", "rates")}
    diverged = None
    for t, (epoch, batch) in enumerate(_batch_indices(problem.n_rows, settings), start=1):
        values = tuple(c[batch] for c in columns)
        m = len(values[0]) if values else (batch.stop - batch.start if isinstance(batch, slice) else len(batch))
        with np.errstate(all="ignore"):
            out = batch_row(params, values)
            loss = float(np.mean(sum(out[i] for i in loss_index)))
            grads = tuple(float(np.mean(g)) for g in out[grad_slice])
        # Any infinite or NaN number in the rows reaches the mean of the loss or of a gradient.
        if not (math.isfinite(loss) and all(math.isfinite(g) for g in grads)):
            rows = [[float(c[r]) for c in columns] for r in np.atleast_1d(np.arange(problem.n_rows)[batch])]
            table = _table([out], [m], width)
            diverged = _locate(problem, params, rows, t, [tuple(r) for r in table.tolist()])
            break
        rate = float(problem.schedule(epoch))
        _, result, diverged = _update(problem, params, grads, state, rate, t)
        if diverged:
            break
        blocks.append(out)
        rows_kept.append(np.arange(problem.n_rows)[batch])
        sizes.append(m)
        params, state, before = result[:len(params)], result[len(params):], params
        for key, value in (("epochs", epoch), ("params", before), ("grads", grads), ("state", state),
                           ("loss", loss), ("rates", rate)):
            per_step[key].append(value)
    n, p = len(sizes), len(graph.params)
    kept = np.array(per_step["params"], dtype=float).reshape(n, p)
    updated = np.vstack([kept[1:], np.array(params, dtype=float).reshape(1, p)])[:n]
    outputs = functools.partial(_table, blocks, sizes, width)
    return Trace(problem=problem, epochs=np.array(per_step["epochs"], dtype=int),
                 offsets=np.concatenate([[0], np.cumsum(sizes, dtype=int)]),
                 rows=np.concatenate(rows_kept) if rows_kept else np.zeros(0, dtype=int),
                 table=outputs, params=kept, gradients=np.array(per_step["grads"], dtype=float).reshape(n, p),
                 updated=updated, state=np.array(per_step["state"], dtype=float).reshape(n, len(state)),
                 losses=np.array(per_step["loss"], dtype=float), rates=np.array(per_step["rates"], dtype=float),
                 diverged=diverged)


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


def _batch_indices(n_rows: int, settings):
    """(epoch, rows) for every step as NumPy indices (a slice where rows run in order), in the
    same order as batches()."""
    size = n_rows if settings.batch_size is None else settings.batch_size
    rng = np.random.default_rng(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        order = rng.permutation(n_rows) if settings.shuffle else None
        for start in range(0, n_rows, size):
            yield epoch, (order[start:start + size] if order is not None else slice(start, min(start + size, n_rows)))


def _update(problem, params, grads, state, rate, t):
    """The optimiser's step: (ok, new parameters and state, diverged or None)."""
    exact = problem.exact_arithmetic
    try:
        result = problem.stepper.update(params, grads, state, rate, t)
    except (OverflowError, ZeroDivisionError, ValueError):
        result = (math.inf,) * (len(params) + len(state))
    bad = [i for i, v in enumerate(result[:len(params)]) if not _finite((v,), exact)]
    if bad:
        name = problem.graph.params[bad[0]]
        return False, None, {"step": t, "quantity": f"updated.{name}", "value": _describe(result[bad[0]])}
    return True, tuple(result), None


def _train_fused(problem) -> Trace:
    """One row per step through the generated loop; a step it cannot finish goes through the
    general code, one step at a time, which records it or says where training diverged."""
    kernel, stepper, graph, settings = problem.kernel, problem.stepper, problem.graph, problem.training
    columns = problem.columns
    params = tuple(float(problem.initial[p]) for p in graph.params)
    state = tuple(float(v) for v in stepper.initial_state())
    outputs, before = array("d"), array("d")
    order_kept, epochs, rates = [], [], []
    diverged, t = None, 1
    for epoch, order in _epoch_orders(problem.n_rows, settings):
        rate = float(problem.schedule(epoch))
        position = 0
        while position < len(order) and diverged is None:
            done, params, state, stopped = problem.loop(params, state, columns, order[position:], rate, t,
                                                        outputs, before)
            order_kept.extend(order[position:position + done])
            epochs.extend([epoch] * done)
            rates.extend([rate] * done)
            t, position = t + done, position + done
            if stopped is None:
                break
            r = order[position]
            out, new, diverged = _general_step(problem, params, state, [[c[r] for c in columns]], rate, t)
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
    n, width, p = len(order_kept), kernel.slices["gradients"].stop, len(graph.params)
    outs = np.frombuffer(outputs, dtype=float).reshape(n, width)
    kept = np.frombuffer(before, dtype=float).reshape(n, p + len(state))
    updated = np.vstack([kept[1:, :p], np.array(params, dtype=float).reshape(1, p)])
    after = np.vstack([kept[1:, p:], np.array(state, dtype=float).reshape(1, len(state))])
    return Trace(problem=problem, epochs=np.array(epochs, dtype=int), offsets=np.arange(n + 1),
                 rows=np.array(order_kept, dtype=int), table=outs, params=kept[:, :p],
                 gradients=outs[:, kernel.slices["gradients"]], updated=updated[:n], state=after[:n],
                 losses=outs[:, list(kernel.loss_index)].sum(axis=1), rates=np.array(rates, dtype=float),
                 diverged=diverged)


def _epoch_orders(n_rows: int, settings):
    """(epoch, row order) for every epoch; the same seed gives the same orders as batches()."""
    rng = np.random.default_rng(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        yield epoch, rng.permutation(n_rows).tolist() if settings.shuffle else range(n_rows)


def _general_step(problem, params, state, batch_rows, rate, t):
    """One step by the general code: (row outputs, new parameters and state, diverged or None)."""
    kernel = problem.kernel
    exact = problem.exact_arithmetic
    try:
        outputs = [kernel.row(params, row) for row in batch_rows]
    except (OverflowError, ZeroDivisionError, ValueError):
        outputs = None
    if outputs is None or not all(_finite(o, exact) for o in outputs):
        return None, None, _locate(problem, params, batch_rows, t, outputs)
    m = len(batch_rows)
    grad_slice = kernel.slices["gradients"]
    grads = outputs[0][grad_slice] if m == 1 else \
        tuple(sum(column) / m for column in zip(*(o[grad_slice] for o in outputs)))
    _, result, diverged = _update(problem, params, grads, state, rate, t)
    return (None, None, diverged) if diverged else (outputs, result, None)


def _train_general(problem) -> Trace:
    """Any batch size and any arithmetic (floats, exact Rationals, rounded as shown)."""
    kernel, stepper = problem.kernel, problem.stepper
    exact = problem.exact_arithmetic
    rounding = problem.rounding or (lambda value: value)
    graph = problem.graph
    table = np.stack([problem.data[c] for c in graph.columns], axis=1) if graph.columns else \
        np.zeros((problem.n_rows, 0))
    rows = [[_start(v, True) for v in row] for row in table.tolist()] if exact else table.tolist()
    params = tuple(_start(problem.initial[p], exact) for p in graph.params)
    state = stepper.initial_state()
    slices = kernel.slices
    grad_slice, loss_index = slices["gradients"], kernel.loss_index
    settings = problem.training
    rate_of = problem.schedule

    record = {k: [] for k in ("epochs", "offsets", "rows", "outputs", "params", "gradients",
                              "updated", "state", "losses", "rates")}
    record["offsets"].append(0)
    diverged = None
    for t, (epoch, batch) in enumerate(batches(problem.n_rows, settings.batch_size, settings.epochs,
                                                settings.shuffle, settings.seed), start=1):
        try:
            outputs = [kernel.row(params, rows[r]) for r in batch]
        except (OverflowError, ZeroDivisionError, ValueError):
            outputs = None
        if outputs is None or not all(_finite(o, exact) for o in outputs):
            diverged = _locate(problem, params, [rows[r] for r in batch], t, outputs)
            break
        m = len(batch)
        if m == 1:
            out = outputs[0]
            loss = sum(out[i] for i in loss_index)
            grads = out[grad_slice]
        else:
            loss = rounding(sum(sum(o[i] for i in loss_index) for o in outputs) / m)
            grads = tuple(rounding(sum(column) / m) for column in zip(*(o[grad_slice] for o in outputs)))
        rate = rate_of(epoch)
        _, result, diverged = _update(problem, params, grads, state, rate, t)
        if diverged:
            break
        new_params, new_state = result[:len(params)], result[len(params):]
        record["epochs"].append(epoch)
        record["rows"].extend(batch)
        record["offsets"].append(record["offsets"][-1] + m)
        record["outputs"].extend(outputs)
        record["params"].append(params)
        record["gradients"].append(grads)
        record["updated"].append(new_params)
        record["state"].append(new_state)
        record["losses"].append(loss)
        record["rates"].append(rate)
        params, state = new_params, new_state

    dtype = object if exact else float
    width = slices["gradients"].stop
    return Trace(
        problem=problem,
        epochs=np.array(record["epochs"], dtype=int),
        offsets=np.array(record["offsets"], dtype=int),
        rows=np.array(record["rows"], dtype=int),
        table=np.array(record["outputs"], dtype=dtype).reshape(-1, width),
        params=np.array(record["params"], dtype=dtype).reshape(-1, len(graph.params)),
        gradients=np.array(record["gradients"], dtype=dtype).reshape(-1, len(graph.params)),
        updated=np.array(record["updated"], dtype=dtype).reshape(-1, len(graph.params)),
        state=np.array(record["state"], dtype=dtype).reshape(len(record["losses"]), len(state)),
        losses=np.array(record["losses"], dtype=dtype),
        rates=np.array(record["rates"], dtype=dtype),
        diverged=diverged)


def _start(value, exact: bool):
    if exact:
        import sympy

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


def _locate(problem, params, rows, t: int, outputs=None) -> dict:
    """Find the first quantity of a failing step that is infinite or NaN; where the step raised,
    re-run it on NumPy floats, which give inf and NaN instead of exceptions."""
    kernel = problem.kernel
    names = ([f"values.{n}" for n in kernel.nodes] + [f"local.{n}.{p}" for n, p in kernel.edges]
             + [f"deltas.{n}" for n in kernel.nodes] + [f"gradients.{p}" for p in kernel.params])
    if outputs is None:
        safe = recompile_for_numpy(kernel.row)
        with np.errstate(all="ignore"):
            outputs = [safe(tuple(np.float64(float(p)) for p in params), tuple(np.float64(float(v)) for v in row))
                       for row in rows]
    exact = problem.exact_arithmetic
    for out in outputs:
        for name, value in zip(names, out):
            if not _finite((value,), exact):
                return {"step": t, "quantity": name, "value": _describe(value)}
    return {"step": t, "quantity": "loss", "value": "nan"}

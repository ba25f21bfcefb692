"""The training loops: SGD over batches of rows, producing a Trace of numbers only."""
from __future__ import annotations

import functools
import math
import struct

import numpy as np
import sympy

from ..errors import SpecError
from ..model.draws import stream
from .codegen import EXACT_DIGITS, ExactGrowth, digits
from .records import batched_block, digested, fused_block, fused_trace, joined, make_trace, row_table
from .trace import Trace


def epoch_orders(n_rows: int, settings):
    """(epoch, order) for every epoch: the rows in the order they are fed, a permutation drawn
    from `seed` when shuffled, else range(n_rows). Every loop takes its row order from here."""
    rng = stream(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        yield epoch, rng.permutation(n_rows) if settings.shuffle else range(n_rows)


def batches(n_rows: int, settings):
    """(epoch, rows) for every step: each epoch's order cut into runs of batch_size rows (a range
    where the rows run in order, else a view of the epoch's permutation)."""
    size = n_rows if settings.batch_size is None else settings.batch_size
    for epoch, order in epoch_orders(n_rows, settings):
        for start in range(0, n_rows, size):
            yield epoch, order[start:start + size]


def train(compiled, keep_rows: int | None = None, sink=None) -> Trace:
    """Train the compiled model and return its Trace; a non-finite number stops training at that
    step. With `keep_rows`, the outputs of the rows fed are kept for the first that many steps only
    (the steps a report works in full); every other number of every step is kept.

    With a `sink` (floating point only), the steps are handed to `sink.feed` in Blocks of at most
    CHUNK steps as they are taken and not kept, and `sink.finish(diverged)` ends the run: the
    Trace holds the sink's first steps (`sink.head_block()`, or none) and the sink as its digest,
    whose `n_steps` and `final` it reports."""
    if compiled.exact:
        if sink is not None:
            raise ValueError("a run in exact arithmetic is kept whole; train it without a sink")
        return _train_general(compiled, keep_rows)
    if compiled.problem.training.batch_size == 1 or compiled.problem.n_rows == 1:
        return _train_fused(compiled, keep_rows, sink)
    return _train_batched(compiled, keep_rows, sink)


def _train_batched(compiled, keep_rows: int | None = None, sink=None) -> Trace:
    """Several rows per step in floating point: the row's step runs on NumPy arrays of the
    batch's columns (vectorised over rows); the batch loss and gradient are their means."""
    problem, layout = compiled.problem, compiled.layout
    columns = [np.asarray(problem.data[c], dtype=float) for c in problem.graph.columns]
    loss_index, grad_slice = list(layout.loss_index), layout.gradients
    params = tuple(float(problem.initial[p]) for p in layout.params)
    state = tuple(float(v) for v in compiled.stepper.initial_state())
    blocks, kept_sizes, rows_kept, sizes = [], [], [], []
    record = {k: [] for k in ("epochs", "before", "gradients", "losses", "rates")}
    diverged = None
    for t, (epoch, rows) in enumerate(batches(problem.n_rows, problem.training), start=1):
        index = slice(rows.start, rows.stop) if isinstance(rows, range) else rows
        values = tuple(c[index] for c in columns)
        with np.errstate(all="ignore"):
            out = compiled.batch_row(params, values)
            parts = [out[i] for i in loss_index]
            # A sum from 0 makes -0.0 0.0; adding 0.0 to the mean of one part does the same.
            loss = float(np.mean(parts[0])) + 0.0 if len(parts) == 1 else float(np.mean(sum(parts)))
            grads = tuple(float(np.mean(g)) for g in out[grad_slice])
        # Any infinite or NaN number in the rows reaches the mean of the loss or of a gradient.
        if not (math.isfinite(loss) and all(math.isfinite(g) for g in grads)):
            table = row_table([out], [len(rows)], layout.width)
            fed = [[float(c[r]) for c in columns] for r in rows]
            diverged = _locate(compiled, params, fed, t, [tuple(r) for r in table.tolist()], list(rows))
            break
        rate = float(compiled.schedule(epoch))
        result, diverged = _update(compiled, params, grads, state, rate, t)
        if diverged:
            break
        if sink is not None or keep_rows is None or t <= keep_rows:
            blocks.append(out)
            kept_sizes.append(len(rows))
        rows_kept.append(np.arange(rows.start, rows.stop) if isinstance(rows, range) else rows)
        sizes.append(len(rows))
        for key, value in (("epochs", epoch), ("before", params + state), ("gradients", grads),
                           ("losses", loss), ("rates", rate)):
            record[key].append(value)
        params, state = result[:len(params)], result[len(params):]
        if sink is not None and (len(sizes) >= CHUNK or sum(sizes) >= CHUNK_ROWS):
            sink.feed(batched_block(compiled, record, rows_kept, sizes, blocks, params + state))
            blocks, kept_sizes, rows_kept, sizes = [], [], [], []
            record = {k: [] for k in record}
    if sink is not None:
        if sizes:
            sink.feed(batched_block(compiled, record, rows_kept, sizes, blocks, params + state))
        return digested(compiled, sink, diverged)
    return make_trace(compiled, offsets=np.concatenate([[0], np.cumsum(sizes, dtype=int)]),
                      rows=joined(rows_kept) if len(rows_kept) != 1 else rows_kept[0],
                      table=functools.partial(row_table, blocks, kept_sizes, layout.width), final=params + state,
                      diverged=diverged, **record)


def _update(compiled, params, grads, state, rate, t):
    """The optimiser's step: (new parameters and state, None), or (None, where it diverged)."""
    try:
        result = compiled.stepper.update(params, grads, state, rate, t)
    except (OverflowError, ZeroDivisionError, ValueError):
        result = (math.inf,) * (len(params) + len(state))
    except ExactGrowth as exc:
        raise _growth_error(compiled, t, exc) from None
    bad = [i for i, v in enumerate(result[:len(params)]) if not _finite((v,), compiled.exact)]
    if bad:
        name = compiled.layout.params[bad[0]]
        return None, {"step": t, "quantity": f"updated.{name}", "value": _describe(result[bad[0]])}
    return tuple(result), None


CHUNK = 8192  # steps the generated loop takes between checks of their numbers
CHUNK_ROWS = 1 << 16  # rows fed between blocks handed to a sink


def fused_chunks(n_rows: int, settings, rate_of):
    """(rows, epochs, rate) for runs of up to CHUNK one-row steps that share a learning rate: the
    row fed at each step and its epoch, as NumPy arrays, in the order of epoch_orders."""
    pieces, epochs, size, rate = [], [], 0, None
    for epoch, order in epoch_orders(n_rows, settings):
        epoch_rate = float(rate_of(epoch))
        if pieces and epoch_rate != rate:
            yield np.concatenate(pieces), np.concatenate(epochs), rate
            pieces, epochs, size = [], [], 0
        rate = epoch_rate
        order = np.arange(n_rows) if isinstance(order, range) else order
        for start in range(0, n_rows, CHUNK):
            piece = order[start:start + CHUNK]
            pieces.append(piece)
            epochs.append(np.full(len(piece), epoch))
            size += len(piece)
            if size >= CHUNK:
                yield np.concatenate(pieces), np.concatenate(epochs), rate
                pieces, epochs, size = [], [], 0
    if pieces:
        yield np.concatenate(pieces), np.concatenate(epochs), rate


def _train_fused(compiled, keep_rows: int | None = None, sink=None) -> Trace:
    """One row per step through the generated loop, CHUNK steps at a time; each chunk's numbers are
    checked at once, and a step that gave a non-finite number or raised is redone by the general
    code, which records it or says where training diverged."""
    problem, layout = compiled.problem, compiled.layout
    data = [np.asarray(problem.data[c], dtype=float) for c in problem.graph.columns]
    params = tuple(float(problem.initial[p]) for p in layout.params)
    state = tuple(float(v) for v in compiled.stepper.initial_state())
    carried = len(params) + len(state)
    width = carried + layout.width
    record = bytearray()
    rows_fed, epochs_fed, rates = [], [], []
    diverged, t = None, 1
    for rows, epochs, rate in fused_chunks(problem.n_rows, problem.training, compiled.schedule):
        position = 0
        while position < len(rows) and diverged is None:
            start = len(record)
            columns = [column[rows[position:]].tolist() for column in data]
            after, after_state, raised = compiled.loop(params, state, zip(*columns), rate, t, record)
            done = (len(record) - start) // (8 * width)
            block = np.frombuffer(record, dtype="<f8", offset=start).reshape(done, width) if done else \
                np.zeros((0, width))
            bad = _first_bad_step(block, carried, after + after_state, raised)
            if bad < done:
                params, state = tuple(block[bad, :len(params)].tolist()), tuple(block[bad, len(params):carried].tolist())
            else:
                params, state = after, after_state
            del block  # the record may grow again only when no array looks into it
            del record[start + bad * 8 * width:]
            rows_fed.append(rows[position:position + bad])
            epochs_fed.append(epochs[position:position + bad])
            rates.append(np.full(bad, rate))
            t, position = t + bad, position + bad
            if bad == done and not raised and position == len(rows):
                break
            r = int(rows[position])
            out, new, diverged = _general_step(compiled, params, state, [[float(c[r]) for c in data]], rate, t, [r])
            if diverged is None:
                record += struct.pack(f"<{width}d", *params, *state, *out[0])
                rows_fed.append(rows[position:position + 1])
                epochs_fed.append(epochs[position:position + 1])
                rates.append(np.full(1, rate))
                params, state = new[:len(params)], new[len(params):]
                t, position = t + 1, position + 1
        if sink is not None:
            sink.feed(fused_block(compiled, record, width, params + state, rows_fed, epochs_fed, rates))
            record, rows_fed, epochs_fed, rates = bytearray(), [], [], []
        if diverged is not None:
            break
    if sink is not None:
        return digested(compiled, sink, diverged)
    return fused_trace(compiled, record, width, params + state, rows_fed, epochs_fed, rates, keep_rows, diverged)


def _first_bad_step(block: np.ndarray, carried: int, after: tuple, raised: bool) -> int:
    """The index of the first step of a chunk that gave a non-finite number (its outputs, or the
    parameters and state it updated to) or raised; len(block) when every step was good."""
    done = len(block)
    if not np.isfinite(block).all():
        first = int(np.argmax(~np.isfinite(block).all(axis=1)))
        # Parameters before a step that are not finite were made by the step before it.
        return first - 1 if not np.isfinite(block[first, :carried]).all() else first
    if not all(math.isfinite(v) for v in after):
        return done - 1
    return done


def _general_step(compiled, params, state, batch_rows, rate, t, indices=None):
    """One step by the general code: (row outputs, new parameters and state, diverged or None)."""
    try:
        outputs = [compiled.kernel.row(params, row) for row in batch_rows]
    except (OverflowError, ZeroDivisionError, ValueError):
        outputs = None
    if outputs is None or not all(_finite(o, compiled.exact) for o in outputs):
        return None, None, _locate(compiled, params, batch_rows, t, outputs, indices)
    m = len(batch_rows)
    grad_slice = compiled.layout.gradients
    grads = outputs[0][grad_slice] if m == 1 else \
        tuple(sum(column) / m for column in zip(*(o[grad_slice] for o in outputs)))
    result, diverged = _update(compiled, params, grads, state, rate, t)
    return (None, None, diverged) if diverged else (outputs, result, None)


def _train_general(compiled, keep_rows: int | None = None) -> Trace:
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
        except ExactGrowth as exc:
            raise _growth_error(compiled, t, exc) from None
        if outputs is None or not all(_finite(o, exact) for o in outputs):
            diverged = _locate(compiled, params, [rows[r] for r in batch], t, outputs, list(batch))
            break
        m = len(batch)
        if m == 1:
            out = outputs[0]
            loss = sum(out[i] for i in loss_index)
            grads = out[grad_slice]
        else:
            # A row's loss of several nodes (the data loss and a penalty) is rounded as shown in the mean.
            row_loss = (lambda o: rounding(sum(o[i] for i in loss_index))) if len(loss_index) > 1 else \
                (lambda o: o[loss_index[0]])
            loss = rounding(sum(row_loss(o) for o in outputs) / m)
            grads = tuple(rounding(sum(column) / m) for column in zip(*(o[grad_slice] for o in outputs)))
        rate = compiled.schedule(epoch)
        result, diverged = _update(compiled, params, grads, state, rate, t)
        if diverged:
            break
        if exact:
            _within_budget(compiled, t, outputs, result)
        for key, value in (("epochs", epoch), ("before", params + tuple(state)), ("gradients", grads),
                           ("losses", loss), ("rates", rate)):
            record[key].append(value)
        record["rows"].extend(batch)
        offsets.append(offsets[-1] + m)
        if keep_rows is None or t <= keep_rows:
            outputs_kept.extend(outputs)
        params, state = result[:len(params)], result[len(params):]

    # Exact reports keep Rationals; values rounded as shown are short decimals, which floats hold
    # exactly as far as their shortest repr goes.
    dtype = object if compiled.problem.report.exact else float
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


def _locate(compiled, params, rows, t: int, outputs=None, indices=None) -> dict:
    """Find the first quantity of a failing step that is infinite or NaN; where the step raised,
    re-run it on NumPy floats, which give inf and NaN instead of exceptions. A node whose value is
    NaN from finite inputs is outside its function's domain: a SpecError naming node and row."""
    if outputs is None:
        safe = compiled.batch_row
        with np.errstate(all="ignore"):
            outputs = [safe(tuple(np.float64(float(p)) for p in params), tuple(np.float64(float(v)) for v in row))
                       for row in rows]
    for k, out in enumerate(outputs):
        for name, value in zip(compiled.layout.quantities, out):
            if not _finite((value,), compiled.exact):
                if name.startswith("values.") and _describe(value) == "nan":
                    raise _domain_error(compiled, name.removeprefix("values."), t, indices[k] if indices else None,
                                        params, rows[k], out)
                return {"step": t, "quantity": name, "value": _describe(value)}
    return {"step": t, "quantity": "loss", "value": "nan"}


DIGIT_BUDGET = 300  # digits of an exact fraction's numerator or denominator


def _within_budget(compiled, t: int, outputs, result) -> None:
    """Refuse a step whose exact fractions outgrow DIGIT_BUDGET digits: they only grow from there,
    and neither a report nor a student can use them."""
    limit = 10 ** DIGIT_BUDGET
    names = compiled.layout.quantities
    updated = [f"updated.{p}" for p in compiled.layout.params]
    for name, value in [*(pair for out in outputs for pair in zip(names, out)), *zip(updated, result)]:
        if getattr(value, "is_Rational", False) and max(abs(value.p), value.q) >= limit:
            size = digits(max(abs(value.p), value.q))
            raise SpecError(f"{name} at step {t} is a fraction of {size} digits, more than {DIGIT_BUDGET}; set "
                            f"exact = false (or carry = \"rounded\"), or train fewer steps.", "report.exact",
                            compiled.problem.source)


def _growth_error(compiled, t: int, exc: ExactGrowth) -> SpecError:
    return SpecError(f"a fraction worked in step {t} grew to {exc.digits} digits, more than {EXACT_DIGITS}; set "
                     f"exact = false (or carry = \"rounded\"), or train fewer steps.", "report.exact",
                     compiled.problem.source)


def _domain_error(compiled, node: str, t: int, row, params, values, out) -> SpecError:
    """The error for a node with no real value (sqrt or log of a negative number, a negative base
    to a fractional power, 0/0), naming the step, the data row and the values the node used."""
    graph = compiled.problem.graph
    known = {**dict(zip(graph.params, params)), **dict(zip(graph.columns, values)),
             **dict(zip(graph.node_names, out))}
    used = sorted(s.name for s in dict(graph.nodes)[node].free_symbols)
    shown = ", ".join(f"{name} = {float(known[name]):.6g}" for name in used)
    where = f"data row {row + 1}" if row is not None else "a row"
    return SpecError(f"has no real value at step {t}, {where} ({shown}): the square root or log of a negative "
                     f"number, a negative number to a fractional power, or 0/0; change the starting values or the "
                     f"data, or keep the argument in the function's domain.", f"model.nodes.{node}",
                     compiled.problem.source)

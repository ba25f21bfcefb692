"""What a report reads of a run, gathered block by block as it trains: its first steps, a sample
of steps and of epochs chosen from the planned run length, and running aggregates for the notes
(the loss rising, inactive and saturated units, overshoot), so that a long run is never held whole.

A finished run's trace is digested the same way in one block (see digest_trace), with the run's
own length as its plan: a report reads every run through a Digest."""
from __future__ import annotations

import numpy as np
import sympy

from ..engine.trace import Block, Trace
from ..model.functions import relu, sigmoid
from .notes import only_through, outgoing

SUMMARY_STEPS = 100  # steps listed one by one when a run has no more; else a sample of them
SAMPLE_EDGE = 10     # the first and last steps of the sample
PROGRESS_POINTS = 200
HEAD = max(SUMMARY_STEPS, PROGRESS_POINTS)  # first steps kept whole: a run this short is listed from them
SATURATION = 1e-3    # a derivative, or a gradient, below this share of its largest counts as vanished
MAX_LISTED = 6       # step numbers listed before they are counted instead
SPAN_LIMIT = 1000    # runs of step numbers kept for a sentence


class StepSet:
    """0-based step indices, added in ascending order: their runs (the first SPAN_LIMIT), count and first."""

    def __init__(self):
        self.spans: list[list[int]] = []
        self.count, self.more = 0, False

    def add(self, indices: np.ndarray) -> None:
        if not len(indices):
            return
        self.count += len(indices)
        breaks = np.flatnonzero(np.diff(indices) != 1)
        starts = [int(indices[0]), *indices[breaks + 1].tolist()]
        ends = [*indices[breaks].tolist(), int(indices[-1])]
        for a, b in zip(starts, ends):
            if self.spans and a == self.spans[-1][1] + 1:
                self.spans[-1][1] = b
            elif len(self.spans) < SPAN_LIMIT and not self.more:
                self.spans.append([a, b])
            else:
                self.more = True

    def __bool__(self) -> bool:
        return self.count > 0

    def result(self) -> dict:
        """The steps as text for a sentence (`1 to 3, 5 and 8`, 1-based), how many, whether few
        enough to list, and the first."""
        spans = [(a + 1, b + 1) for a, b in self.spans]
        parts = [str(a) if a == b else (f"{a} and {b}" if b == a + 1 else f"{a} to {b}") for a, b in spans]
        text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        if self.more:
            text = ", ".join(parts) + ", …"
        return {"text": text, "count": self.count, "listed": len(spans) <= MAX_LISTED and not self.more,
                "first": spans[0][0]}


def step_list(indices) -> dict:
    """0-based step indices as text for a sentence (see StepSet.result)."""
    steps = StepSet()
    steps.add(np.asarray(indices, dtype=int))
    return steps.result()


def units(graph, kind) -> list[str]:
    return [name for name, expr in graph.nodes if isinstance(expr, sympy.Function) and expr.func in kind]


def _within(sample: range, base: int, k: int) -> range:
    """The members of `sample` in [base, base + k)."""
    skip = max(0, -(-(base - sample.start) // sample.step))
    return range(sample.start + skip * sample.step, min(sample.stop, base + k), sample.step)


class Digest:
    """A run's numbers as a report reads them, fed Blocks of consecutive steps in order; `finish`
    ends it. `planned` steps in `planned_epochs` epochs choose the sample; `shown` steps keep
    their rows' outputs."""

    def __init__(self, compiled, planned: int, planned_epochs: int, shown: int):
        problem, layout = compiled.problem, compiled.layout
        self.compiled, self.problem, self.layout = compiled, problem, layout
        self.p, self.shown = len(layout.params), shown
        self.planned, self.planned_epochs = planned, planned_epochs
        self.n_steps = self.n_epochs = 0
        self.head: list[Block] = []
        self.stride = max(1, (planned - 2 * SAMPLE_EDGE) // SAMPLE_EDGE)
        self.middle = range(SAMPLE_EDGE, planned - SAMPLE_EDGE, self.stride)
        self.picked: dict[int, dict] = {}
        self.last: list[dict] = []
        self.progress_steps = range(0, planned, max(1, planned // PROGRESS_POINTS))
        self.progress_losses: dict[int, float] = {}
        epochs = planned_epochs
        stride = epochs / SUMMARY_STEPS
        self.summary_epochs = set(range(epochs)) if epochs <= SUMMARY_STEPS else \
            {int(k * stride) for k in range(SUMMARY_STEPS)} | {epochs - 1}
        self.progress_epochs = set(range(0, epochs, max(1, epochs // PROGRESS_POINTS)))
        self.epoch_rows: dict[int, dict] = {}
        self.pending: list[tuple] = []
        self.final, self.first_loss, self.last_loss = None, None, None
        # the notes' running facts
        self.full_batch = problem.training.batch_size is None
        self.previous_loss = self.previous_mean = None
        self.rose, self.rose_first = StepSet(), None
        self.rose_epochs, self.rose_epoch_first = 0, None
        self.overshoot = None
        initial = problem.initial
        self.start_size = max(abs(float(v)) for v in initial.values()) if initial else 0.0
        graph, params = problem.graph, list(layout.params)
        self.inactive = []
        for unit in units(graph, (relu,)):
            watched = [params.index(q) for q in [*only_through(unit, graph), *outgoing(unit, graph)]]
            self.inactive.append({"unit": unit, "column": self._column(unit), "params": watched, "steps": StepSet(),
                                  "zero": np.ones(len(watched), bool), "moved": np.zeros(len(watched), bool)})
        self.saturated = []
        for unit in units(graph, (sigmoid, sympy.tanh)):
            watched = [params.index(q) for q in only_through(unit, graph)]
            if watched:
                self.saturated.append({"unit": unit, "column": self._column(unit), "params": watched,
                                       "sigmoid": dict(graph.nodes)[unit].func is sigmoid, "steps": StepSet()})

    def _column(self, node: str) -> int:
        layout = self.layout
        return range(layout.width)[layout.slices["values"]][layout.nodes.index(node)]

    # -- feeding -------------------------------------------------------------------------
    def feed(self, block: Block) -> None:
        k, base = len(block), self.n_steps
        if not k:
            return
        if base < HEAD:
            end = min(k, HEAD - base)
            kept = int(block.offsets[max(0, min(end, self.shown - base))])
            self.head.append(_copy(block.take(end, kept)))
        for i in _within(self.middle, base, k):
            self.picked[i] = self._row(block, i - base, i)
        for i in _within(self.progress_steps, base, k):
            self.progress_losses[i] = float(block.losses[i - base])
        self.last = (self.last + [self._row(block, j, base + j) for j in range(max(0, k - SAMPLE_EDGE), k)])[-SAMPLE_EDGE:]
        losses = np.asarray(block.losses, dtype=float)
        if self.first_loss is None:
            self.first_loss = losses[0]
        self.last_loss, self.final = losses[-1], tuple(block.after[-1].tolist())
        self._per_step(block, losses, base)
        self.n_steps += k
        self._per_epoch(block, losses, base)

    def _row(self, block: Block, j: int, index: int) -> dict:
        start, end = int(block.offsets[j]), int(block.offsets[j + 1])
        rows = block.rows[start:min(end, start + 6)].tolist()
        label = ", ".join(str(r + 1) for r in rows) + (", …" if end - start > 6 else "")
        return {"step": index + 1, "epoch": int(block.epochs[j]), "rows": label, "loss": block.losses[j],
                "params": block.after[j, :self.p].tolist()}

    def _per_step(self, block: Block, losses: np.ndarray, base: int) -> None:
        if self.full_batch:
            seq = losses if self.previous_loss is None else np.concatenate([[self.previous_loss], losses])
            first = base if self.previous_loss is None else base - 1
            rose = np.flatnonzero(np.diff(seq) > 0)
            if len(rose) and self.rose_first is None:
                self.rose_first = (first + int(rose[0]), seq[rose[0]], seq[rose[0] + 1])
            self.rose.add(rose + first)
            self.previous_loss = losses[-1]
        if block.outputs is None or not (self.inactive or self.saturated):
            return
        starts = block.offsets[:-1]
        gradients = np.asarray(block.gradients, dtype=float)
        for unit in self.inactive:
            flat = np.logical_and.reduceat(block.outputs[:, unit["column"]].astype(float) == 0, starts)
            steps, watched = np.flatnonzero(flat), unit["params"]
            unit["steps"].add(steps + base)
            if len(steps) and watched:
                unit["zero"] &= np.all(gradients[np.ix_(steps, watched)] == 0, axis=0)
                before = np.asarray(block.before, dtype=float)[np.ix_(steps, watched)]
                unit["moved"] |= np.any(np.asarray(block.after, dtype=float)[np.ix_(steps, watched)] != before, axis=0)
        size = np.abs(gradients)
        largest = size.max(axis=1)
        for unit in self.saturated:
            value = block.outputs[:, unit["column"]].astype(float)
            slope, top = (value * (1 - value), 0.25) if unit["sigmoid"] else (1 - value ** 2, 1.0)
            flat = np.logical_and.reduceat(slope < SATURATION * top, starts)
            small = np.all(size[:, unit["params"]] < SATURATION * largest[:, None], axis=1) & (largest > 0)
            unit["steps"].add(np.flatnonzero(flat & small) + base)

    def _per_epoch(self, block: Block, losses: np.ndarray, base: int) -> None:
        """Holds the steps of the epoch still open; every epoch that closed is summed up."""
        after = block.after[:, :self.p]
        sizes = np.abs(np.asarray(after, dtype=float)).max(axis=1)
        piece = (block.epochs, losses, block.losses, sizes, after, base)
        last = block.epochs[-1]
        cut = int(np.searchsorted(block.epochs, last))
        if cut == 0 and (not self.pending or self.pending[-1][0][-1] == last):
            self.pending.append(piece)
            return
        closed = [*self.pending, tuple(part[:cut] for part in piece[:5]) + (base,)]
        self.pending = [tuple(part[cut:] for part in piece[:5]) + (base + cut,)]
        self._close(closed)

    def _close(self, pieces: list[tuple], last: bool = False) -> None:
        epochs, losses, raw, sizes, after = (np.concatenate([p[i] for p in pieces]) for i in range(5))
        if not len(epochs):
            return
        start = pieces[0][5]
        bounds = np.flatnonzero(np.diff(epochs)) + 1
        lengths = np.diff([0, *bounds.tolist(), len(epochs)])
        if (lengths == lengths[0]).all():
            self._epochs(epochs, losses, raw, sizes, after, start, int(lengths[0]), last)
            return
        for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(epochs)]):
            self._epochs(epochs[a:b], losses[a:b], raw[a:b], sizes[a:b], after[a:b], start + a, b - a,
                         last and b == len(epochs))

    def _epochs(self, epochs, losses, raw, sizes, after, start: int, length: int, last: bool) -> None:
        """Closed epochs of `length` steps each, the first starting at step index `start`."""
        m = len(epochs) // length
        table, size = losses.reshape(m, length), sizes.reshape(m, length)
        means = table.mean(axis=1)
        numbers = epochs[::length]
        if not self.full_batch:
            seq = means if self.previous_mean is None else np.concatenate([[self.previous_mean], means])
            rose = np.flatnonzero(np.diff(seq) > 0)
            shift = 0 if self.previous_mean is None else 1
            if len(rose) and self.rose_epoch_first is None:
                i = int(rose[0])
                self.rose_epoch_first = (int(numbers[i + 1 - shift]), seq[i], seq[i + 1])
            self.rose_epochs += len(rose)
            self.previous_mean = means[-1]
        if self.overshoot is None:
            first, worst, grown = table[:, 0], table.argmax(axis=1), size.argmax(axis=1)
            over = (first > 0) & (table.max(axis=1) > 10 * first) & (size.max(axis=1) > 10 * (self.start_size + 1))
            if over.any():
                j = int(np.argmax(over))
                a = start + j * length
                self.overshoot = {"epoch": int(numbers[j]), "first_step": a + 1, "first_loss": table[j, 0],
                                  "worst_step": a + int(worst[j]) + 1, "worst_loss": table[j, worst[j]],
                                  "size": size[j, grown[j]]}
        for j, number in enumerate(numbers.tolist()):
            position = self.n_epochs + j
            if position in self.summary_epochs or position in self.progress_epochs or (last and j == m - 1):
                a = j * length
                self.epoch_rows[position] = {"epoch": number, "loss": sum(raw[a:a + length]) / length,
                                             "params": after[a + length - 1].tolist()}
        self.n_epochs += m

    def finish(self, diverged: dict | None = None) -> Digest:
        """Close the last epoch; the digest is then read (see Summary and RunNotes)."""
        if self.pending:
            self._close(self.pending, last=True)
            self.pending = []
        return self

    # -- reading -------------------------------------------------------------------------
    def head_block(self) -> Block | None:
        return Block.join(self.head) if self.head else None

    def head_rows(self, indices) -> list[dict]:
        """Summary rows of steps among the first HEAD."""
        block = self.head_block()
        return [self._row(block, i, i) for i in indices]

    def step_rows(self) -> tuple[list[dict], bool]:
        """The summary's steps: every one of a short run, else the first and last SAMPLE_EDGE and
        the sample between (chosen from the planned length); and whether it is a sample."""
        n = self.n_steps
        if n <= SUMMARY_STEPS:
            return self.head_rows(range(n)), False
        first = self.head_rows(range(SAMPLE_EDGE))
        middle = [self.picked[i] for i in self.middle if i < n - SAMPLE_EDGE]
        return first + middle + self.last, True

    def epoch_list(self) -> list[dict]:
        """The summary's epochs: the sample chosen from the planned epochs, and the last."""
        last = self.n_epochs - 1
        return [self.epoch_rows[e] for e in sorted(self.summary_epochs) if e < last] + [self.epoch_rows[last]]

    def progress(self) -> tuple[str, list[tuple[int, float]]]:
        """(axis, points) of the loss chart: per step for short runs, else per epoch or a sample of steps."""
        n = self.n_steps
        if n <= PROGRESS_POINTS:
            block = self.head_block()
            return "step", [(i + 1, float(block.losses[i])) for i in range(n)]
        if self.n_epochs >= 5:
            return "epoch", [(self.epoch_rows[e]["epoch"], float(self.epoch_rows[e]["loss"]))
                             for e in sorted(self.progress_epochs) if e < self.n_epochs]
        return "step", [(i + 1, self.progress_losses[i]) for i in self.progress_steps if i < n]


def _copy(block: Block) -> Block:
    return Block(*(None if part is None else np.array(part) for part in
                   (block.epochs, block.offsets, block.rows, block.before, block.after, block.gradients,
                    block.losses, block.rates, block.outputs)))


def digest_trace(trace: Trace) -> Digest:
    """The digest of a finished trace, planned as long as it ran."""
    if trace.digest is not None:
        return trace.digest
    n = len(trace.losses)
    epochs = len(np.unique(trace.epochs)) if n else 0
    digest = Digest(trace.compiled, n, epochs, n)
    for block in trace.blocks():
        digest.feed(block)
    return digest.finish()

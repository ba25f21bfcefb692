"""The end of a report: every step (or a sample) and each epoch in tables, and the loss chart."""
from __future__ import annotations

import numpy as np
from markupsafe import Markup

from .notes import epoch_bounds

SUMMARY_STEPS = 100
SAMPLE_EDGE = 10


class Summary:
    """The tables and chart of a report's end, with the report's number and name formats."""

    def __init__(self, report):
        self.trace, self.problem = report.trace, report.problem
        self.num, self.tex, self.chunks = report.num, report.tex, report.chunks

    def summary(self) -> dict:
        """Every step for short runs; for long ones every epoch's last step and a sample of steps."""
        trace = self.trace
        n = len(trace.steps)
        params = self.problem.graph.params
        header = [self.tex(p) for p in params]
        stride = max(1, (n - 2 * SAMPLE_EDGE) // SAMPLE_EDGE)
        if n <= SUMMARY_STEPS:
            picks = list(range(n))
            epochs = None
        else:
            middle = range(SAMPLE_EDGE, n - SAMPLE_EDGE, stride)
            picks = sorted(set(range(SAMPLE_EDGE)) | set(middle) | set(range(n - SAMPLE_EDGE, n)))
            epochs = self.epoch_rows()
        steps = [self.summary_row(i) for i in picks]
        cells = [row["params"] for row in steps] + [row["params"] for row in epochs or ()]
        return {"header": header, "steps": steps, "epochs": epochs, "chunks": self.chunks(header, cells, 30),
                "exact": self.problem.report.exact,
                "sampled": n > SUMMARY_STEPS, "n_steps": n, "n_picked": len(picks), "edge": SAMPLE_EDGE,
                "stride": stride, "n_epochs": len(epoch_bounds(self.trace)) if epochs else 0,
                "n_epoch_rows": len(epochs) if epochs else 0}

    def summary_row(self, index: int) -> dict:
        trace = self.trace
        rows = trace.rows[trace.offsets[index]:trace.offsets[index + 1]]
        label = ", ".join(str(r + 1) for r in rows[:6]) + (", …" if len(rows) > 6 else "")
        return {"step": index + 1, "epoch": int(trace.epochs[index]), "rows": label,
                "loss": self.num(trace.losses[index]),
                "params": [self.num(v) for v in trace.updated[index].tolist()]}

    def epoch_rows(self) -> list[dict]:
        trace = self.trace
        bounds = epoch_bounds(self.trace)
        if len(bounds) > SUMMARY_STEPS:
            stride = len(bounds) / SUMMARY_STEPS
            bounds = [bounds[int(k * stride)] for k in range(SUMMARY_STEPS)] + [bounds[-1]]
        return [{"epoch": e, "loss": self.num(sum(trace.losses[a:b + 1]) / (b + 1 - a)),
                 "params": [self.num(v) for v in trace.updated[b].tolist()]} for e, a, b in bounds]

    def progress(self) -> dict:
        """Loss per step (or per epoch for long runs) for the training-progress chart."""
        trace = self.trace
        n = len(trace.steps)
        if n <= 200:
            points = [(i + 1, float(trace.losses[i])) for i in range(n)]
            axis = "step"
        else:
            bounds = epoch_bounds(self.trace)
            if len(bounds) >= 5:
                stride = max(1, len(bounds) // 200)
                points = [(e, float(sum(trace.losses[a:b + 1]) / (b + 1 - a))) for e, a, b in bounds[::stride]]
                axis = "epoch"
            else:
                stride = max(1, n // 200)
                points = [(i + 1, float(trace.losses[i])) for i in range(0, n, stride)]
                axis = "step"
        finite = [y for _, y in points if np.isfinite(y)]
        log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 1000
        return {"axis": axis, "log": log,
                "points": [{"x": x, "y": Markup(f"{y:.6g}")} for x, y in points if np.isfinite(y)]}


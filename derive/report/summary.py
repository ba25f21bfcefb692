"""The summary table and training-progress chart of a report."""
from __future__ import annotations

import numpy as np
from markupsafe import Markup

from .digest import SAMPLE_EDGE


class Summary:
    """The tables and chart of a report's end, from the run's digest, with the report's number and
    name formats."""

    def __init__(self, report):
        self.digest, self.problem = report.digest, report.problem
        self.num, self.tex, self.chunks = report.num, report.tex, report.chunks

    def summary(self) -> dict:
        """Every step for short runs; for long ones every epoch's last step and a sample of steps."""
        digest = self.digest
        n = digest.n_steps
        header = [self.tex(p) for p in self.problem.graph.params]
        picked, sampled = digest.step_rows()
        steps = [self.row(row) for row in picked]
        epochs = [self.row(row) for row in digest.epoch_list()] if sampled else None
        cells = [row["params"] for row in steps] + [row["params"] for row in epochs or ()]
        return {"header": header, "steps": steps, "epochs": epochs, "chunks": self.chunks(header, cells, 30),
                "exact": self.problem.report.exact,
                "sampled": sampled, "n_steps": n, "n_picked": len(picked), "edge": SAMPLE_EDGE,
                "stride": digest.stride, "n_epochs": digest.n_epochs if epochs else 0,
                "n_epoch_rows": len(epochs) if epochs else 0}

    def row(self, row: dict) -> dict:
        return {**row, "loss": self.num(row["loss"]), "params": [self.num(v) for v in row["params"]]}

    def progress(self) -> dict:
        """Loss per step (or per epoch for long runs) for the training-progress chart."""
        axis, points = self.digest.progress()
        finite = [y for _, y in points if np.isfinite(y)]
        log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 1000
        return {"axis": axis, "log": log,
                "points": [{"x": x, "y": Markup(f"{y:.6g}")} for x, y in points if np.isfinite(y)]}


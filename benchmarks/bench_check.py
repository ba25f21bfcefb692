"""Marking: `derive check` of one answer at step 1 of a 100,000-row full-batch spec, against
`derive run --format json` of the same one-step spec, each in a fresh process, best of interleaved repetitions."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import bench_memory
from common import command, interleaved, verdict

N = 100_000
# Seed A's model on a CSV, as the memory benchmark has it, one full-batch step.
SPEC = bench_memory.MODEL + '[data]\ncsv = "rows.csv"\n[train]\nlearning_rate = 0.01\nbatch_size = "all"\n'


REPEATS = 5


def main() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rng = np.random.default_rng(0)
        x1, x2 = rng.normal(size=N), rng.normal(size=N)
        np.savetxt(folder / "rows.csv", np.column_stack([x1, x2, 0.5 * x1 - 0.3 * x2 + 0.1]), delimiter=",",
                   header="x1,x2,y", comments="", fmt="%.6f")
        spec = folder / "spec.toml"
        spec.write_text(SPEC)
        answers = folder / "answers.toml"
        answers.write_text("[[steps]]\nstep = 1\nloss = 0.5\n")
        run, check = interleaved([command(["run", str(spec), "--format", "json", "-o", str(folder / "run.json")]),
                                  command(["check", str(spec), str(answers)], (0, 1))], REPEATS)
    ratio = check / run
    print(f"check: derive check of one answer at step 1 on {N:,} rows {check:.2f} s; "
          f"derive run --format json of that one step {run:.2f} s; best of {REPEATS} interleaved")
    ok = ratio <= 2
    print(verdict("check", ratio, "<= 2x", ok))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

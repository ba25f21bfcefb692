"""Memory: `derive run` on a 1,000,000-row CSV with a summary Markdown report, in a child process
whose peak resident memory is read from the operating system."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import verdict

N = 1_000_000
SPEC = """title = "Seed A's model on a million rows"
[model]
inputs = ["x1", "x2"]
targets = ["y"]
loss = "L"
[model.nodes]
yhat = "w1*x1 + w2*x2 + b"
L = "(yhat - y)**2"
[params]
w1 = -0.017
w2 = -0.048
b = 0
[data]
csv = "rows.csv"
[train]
learning_rate = 0.01
[report]
steps = 3
"""


def main() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rng = np.random.default_rng(0)
        x1, x2 = rng.normal(size=N), rng.normal(size=N)
        y = 0.5 * x1 - 0.3 * x2 + 0.1
        np.savetxt(folder / "rows.csv", np.column_stack([x1, x2, y]), delimiter=",", header="x1,x2,y",
                   comments="", fmt="%.6f")
        (folder / "spec.toml").write_text(SPEC)
        out = folder / "report.md"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = subprocess.run([sys.executable, "-m", "derive", "run", str(folder / "spec.toml"), "-o", str(out)],
                                capture_output=True, text=True)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode != 0:
            print(result.stderr)
            return False
        print(f"memory: derive run on {N:,} rows: peak resident memory {peak_mb:.0f} MB "
              f"(report {os.path.getsize(out) / 1e3:.0f} kB; earlier children {before / 1024:.0f} MB)")
    ok = peak_mb <= 500
    print(verdict("memory", peak_mb, "<= 500MB", ok).replace("x ", "MB", 1))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

"""Memory: `derive run` on a 1,000,000-row CSV with a summary Markdown report, in a child process
whose peak resident memory is read from the operating system."""
from __future__ import annotations

import os
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
        # The child reads its own high-water mark (VmHWM), which starts afresh with the new program.
        child = ("import sys; from derive.cli import main; code = main(sys.argv[1:]); "
                 "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); "
                 "sys.exit(code)")
        result = subprocess.run([sys.executable, "-c", child, "run", str(folder / "spec.toml"), "-o", str(out)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr)
            return False
        peak_mb = int(result.stdout.split()[-1]) / 1024
        print(f"memory: derive run on {N:,} rows, Markdown report with 3 steps in full and a summary: "
              f"peak resident memory {peak_mb:.0f} MB (report {os.path.getsize(out) / 1e3:.0f} kB)")
    ok = peak_mb <= 500
    print(verdict("memory", peak_mb, "<= 500MB", ok).replace("x ", "MB", 1))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

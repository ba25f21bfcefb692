"""Memory: `derive run` with a Markdown report in a child process whose peak resident memory
(VmHWM) is read from the operating system: on a 1,000,000-row CSV, on 2,000,000 rows fed 1,000 at
a time in order, and for 10,000,000 steps on 4 rows."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import verdict

MODEL = """[model]
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
"""
# (what, rows in the CSV, [train] and [report] settings, target in MB)
CASES = [
    ("1,000,000 rows, one row a step, summary report", 1_000_000,
     "[train]\nlearning_rate = 0.01\n[report]\nsteps = 3\n", 500),
    ("2,000,000 rows, batch_size = 1000, no shuffle", 2_000_000,
     "[train]\nlearning_rate = 0.01\nbatch_size = 1000\nshuffle = false\n", 300),
    ("10,000,000 steps on 4 rows", 4,
     "[train]\nlearning_rate = 0.01\nepochs = 2500000\n", 300),
]
# The child reads its own high-water mark (VmHWM), which starts afresh with the new program.
CHILD = ("import sys; from derive.cli import main; code = main(sys.argv[1:]); "
         "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); "
         "sys.exit(code)")


def peak_mb(folder: Path, rows: int, settings: str) -> tuple[float, int]:
    """(peak resident memory of `derive run` in MB, size of its report in bytes)."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    y = 0.5 * x1 - 0.3 * x2 + 0.1
    np.savetxt(folder / "rows.csv", np.column_stack([x1, x2, y]), delimiter=",", header="x1,x2,y",
               comments="", fmt="%.6f")
    (folder / "spec.toml").write_text(f'title = "Seed A\'s model"\n{MODEL}[data]\ncsv = "rows.csv"\n{settings}')
    out = folder / "report.md"
    result = subprocess.run([sys.executable, "-c", CHILD, "run", str(folder / "spec.toml"), "-o", str(out)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return int(result.stdout.split()[-1]) / 1024, os.path.getsize(out)


def main(cases=CASES) -> bool:
    ok = True
    for what, rows, settings, target in cases:
        with tempfile.TemporaryDirectory() as folder:
            peak, size = peak_mb(Path(folder), rows, settings)
        print(f"memory: derive run, {what}, Markdown report: peak resident memory {peak:.0f} MB "
              f"(report {size / 1e3:.0f} kB)")
        met = peak <= target
        print(verdict("memory", peak, f"<= {target}MB", met).replace("x ", "MB", 1))
        ok = ok and met
    return ok


if __name__ == "__main__":
    chosen = [c for i, c in enumerate(CASES) if str(i + 1) in sys.argv[1:]] or CASES
    sys.exit(0 if main(chosen) else 1)

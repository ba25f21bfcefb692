"""Variants: `derive variants --pdf` for a class, and derive's own share of its time (everything
but pdflatex), measured as the same command without --pdf over the command with it, in one run.
python benchmarks/bench_variants.py [STUDENTS] (default 40; the target is stated for 200)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import verdict

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = """
[exercise]
steps = 2

[variants]
salt = "benchmark"
learning_rate = { choice = [0.01, 0.02] }
w1 = { uniform = [-1, 1], decimals = 2 }
w2 = { uniform = [-1, 1], decimals = 2 }
x1 = { integers = [-3, 3] }

[variants.require]
nonzero = ["gradients.w1"]
max_abs = { "updated.w1" = 100 }
"""


def timed(arguments: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "derive", *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return time.perf_counter() - start


def main(students: int = 40) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        spec = folder / "spec.toml"
        spec.write_text((ROOT / "examples" / "seed_a_linear_regression.toml").read_text() + VARIANTS)
        roster = folder / "roster.csv"
        roster.write_text("id\n" + "".join(f"s{i:03d}\n" for i in range(students)))
        common = [str(spec), "--roster", str(roster), "--jobs", "2"]
        own = timed(["variants", *common, "--out", str(folder / "plain")])
        total = timed(["variants", *common, "--out", str(folder / "pdf"), "--pdf"])
    ratio = own / total
    print(f"variants: {students} students on 2 processes: without PDFs {own:.1f} s, with worksheet and solution "
          f"PDFs {total:.1f} s; derive's own share {100 * ratio:.0f}%")
    ok = ratio < 0.2
    print(verdict("variants", ratio, "< 0.2x", ok))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main(*(int(a) for a in sys.argv[1:])) else 1)

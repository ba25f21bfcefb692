"""Variants: `derive variants --pdf` for a class, and derive's own share of its time (everything
but pdflatex), measured as the same command without --pdf over the command with it, in one run.
python benchmarks/bench_variants.py [STUDENTS] (default 40; the target is stated for 200)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import command, interleaved, verdict

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


REPEATS = 3


def main(students: int = 40) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        spec = folder / "spec.toml"
        spec.write_text((ROOT / "examples" / "seed_a_linear_regression.toml").read_text() + VARIANTS)
        roster = folder / "roster.csv"
        roster.write_text("id\n" + "".join(f"s{i:03d}\n" for i in range(students)))
        common = [str(spec), "--roster", str(roster), "--jobs", "2"]
        own, total = interleaved([command(["variants", *common, "--out", str(folder / "plain")]),
                                  command(["variants", *common, "--out", str(folder / "pdf"), "--pdf"])], REPEATS)
    ratio = own / total
    print(f"variants: {students} students on 2 processes: without PDFs {own:.1f} s, with worksheet and solution "
          f"PDFs {total:.1f} s (best of {REPEATS} interleaved); derive's own share {100 * ratio:.0f}%")
    ok = ratio < 0.2
    print(verdict("variants", ratio, "< 0.2x", ok))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main(*(int(a) for a in sys.argv[1:])) else 1)

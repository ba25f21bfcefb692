"""Engine: per-row SGD on seed A's model, 100,000 rows, one epoch, every number kept, against the
tightest honest hand loop (Python floats, rows as tuples from a list, one tuple of the twelve
numbers of each step appended), best of several interleaved repetitions in one run."""
from __future__ import annotations

import sys
import time

from common import interleaved, seed_a_data, seed_a_problem, verdict

from derive.api import compile_problem

N = 100_000
REPEATS = 7


def hand_loop(rows, w1=-0.017, w2=-0.048, b=0.0, lr=0.01):
    """What a careful person writes by hand: the parameters, the prediction, the loss, dL/dyhat,
    the three gradients and the three updated parameters of every step, in one tuple a step."""
    keep = []
    append = keep.append
    for x1, x2, y in rows:
        yhat = w1 * x1 + w2 * x2 + b
        loss = (yhat - y) ** 2
        d = 2 * (yhat - y)
        g1, g2, g3 = d * x1, d * x2, d
        n1, n2, n3 = w1 - lr * g1, w2 - lr * g2, b - lr * g3
        append((w1, w2, b, yhat, loss, d, g1, g2, g3, n1, n2, n3))
        w1, w2, b = n1, n2, n3
    return keep


def main() -> bool:
    data = seed_a_data(N)
    rows = list(zip(*(data[c].tolist() for c in ("x1", "x2", "y"))))
    problem = seed_a_problem(N)
    start = time.perf_counter()
    compile_problem(problem).loop  # noqa: B018 (made on first use)
    compiling = time.perf_counter() - start
    compiled = compile_problem(problem)
    compiled.loop  # noqa: B018 (the loop is made on first use, outside the timing)
    ours, hand = interleaved([compiled.train, lambda: hand_loop(rows)], REPEATS)
    ratio = ours / hand
    print(f"engine: derive {ours * 1e3:.0f} ms, hand loop {hand * 1e3:.0f} ms for {N:,} steps "
          f"(best of {REPEATS} interleaved); compiling the model takes {compiling * 1e3:.0f} ms, once")
    ok = ratio <= 1.2
    print(verdict("engine", ratio, "<= 1.2x", ok))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

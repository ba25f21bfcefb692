"""Full batch: one epoch of full-batch gradient descent over 1,000,000 rows, vectorised over rows,
against a hand-written NumPy expression of the same gradient, best of interleaved repetitions."""
from __future__ import annotations

import sys

import numpy as np

from common import interleaved, seed_a_data, seed_a_problem, verdict

from derive.api import compile_problem

N = 1_000_000
REPEATS = 9


def hand_numpy(x1, x2, y, w1=-0.017, w2=-0.048, b=0.0, lr=0.01):
    yhat = w1 * x1 + w2 * x2 + b
    d = 2 * (yhat - y)
    loss = ((yhat - y) ** 2).mean()
    g = (np.mean(d * x1), np.mean(d * x2), np.mean(d))
    return loss, (w1 - lr * g[0], w2 - lr * g[1], b - lr * g[2])


def main() -> bool:
    data = seed_a_data(N)
    compiled = compile_problem(seed_a_problem(N, batch_size=None))  # compiled once, outside the timing
    compiled.train()
    ours, hand = interleaved([compiled.train, lambda: hand_numpy(data["x1"], data["x2"], data["y"])], REPEATS)
    ratio = ours / hand
    print(f"full batch: derive {ours * 1e3:.0f} ms (every row's values kept), NumPy by hand {hand * 1e3:.0f} ms "
          f"(best of {REPEATS} interleaved)")
    print(verdict("full batch", ratio, "<= 3x", ratio <= 3))
    return ratio <= 3


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

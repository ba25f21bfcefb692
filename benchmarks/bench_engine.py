"""Engine: per-sample SGD on seed A's model, 100,000 rows, one epoch, the full trace kept,
against a hand-written pure-Python loop doing the same arithmetic and keeping the same numbers."""
from __future__ import annotations

import sys

from common import best_of, seed_a_data, seed_a_problem, verdict

N = 100_000


def hand_loop(x1, x2, y, w1=-0.017, w2=-0.048, b=0.0, lr=0.01):
    """What a careful person writes by hand: every number of every step kept in lists."""
    keep = {k: [] for k in ("params", "values", "loss", "local", "deltas", "grads", "updated")}
    for i in range(len(x1)):
        a, c, t = x1[i], x2[i], y[i]
        yhat = w1 * a + w2 * c + b
        loss = (yhat - t) ** 2
        d = 2 * yhat - 2 * t
        g1, g2, g3 = d * a, d * c, d
        n1, n2, n3 = w1 - lr * g1, w2 - lr * g2, b - lr * g3
        keep["params"].append((w1, w2, b))
        keep["values"].append((yhat, loss))
        keep["loss"].append(loss)
        keep["local"].append((a, c, 1, d))
        keep["deltas"].append((d, 1))
        keep["grads"].append((g1, g2, g3))
        keep["updated"].append((n1, n2, n3))
        w1, w2, b = n1, n2, n3
    return keep


def main() -> bool:
    data = seed_a_data(N)
    columns = [data[c].tolist() for c in ("x1", "x2", "y")]
    problem = seed_a_problem(N)
    problem.train()  # compile once, outside the timing
    ours = best_of(problem.train)
    hand = best_of(lambda: hand_loop(*columns))
    ratio = ours / hand
    print(f"engine: derive {ours * 1e3:.0f} ms, hand loop {hand * 1e3:.0f} ms for {N:,} steps")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        def torch_loop(n=2000):
            w = torch.tensor([-0.017, -0.048, 0.0], dtype=torch.float64, requires_grad=True)
            for i in range(n):
                loss = (w[0] * columns[0][i] + w[1] * columns[1][i] + w[2] - columns[2][i]) ** 2
                loss.backward()
                with torch.no_grad():
                    w -= 0.01 * w.grad
                w.grad.zero_()
        per_step = best_of(torch_loop, 1) / 2000
        print(f"        PyTorch autograd per step: {per_step / (hand / N):.0f}x the hand loop")
    ok = ratio <= 1.5
    print(verdict("engine", ratio, "<= 1.5x", ok))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

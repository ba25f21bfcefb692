"""Random small networks for the oracle tests, written as derive node strings."""
from __future__ import annotations

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def random_network(seed: int, activation: str, loss: str, batch_size: int, n_in: int = 2,
                   n_hidden: int = 3, n_rows: int = 5, epochs: int = 2, learning_rate: float = 0.3):
    """A 1-hidden-layer network with its data, as keyword arguments for derive.Problem.build."""
    rng = np.random.default_rng(seed)
    inputs = [f"x{i}" for i in range(n_in)]
    params, nodes = {}, {}
    for j in range(n_hidden):
        terms = []
        for i in range(n_in):
            params[f"w{i}{j}"] = float(rng.normal())
            terms.append(f"w{i}{j}*x{i}")
        params[f"b{j}"] = float(rng.normal(scale=0.5))
        nodes[f"h{j}"] = f"{activation}({' + '.join(terms)} + b{j})"
    for j in range(n_hidden):
        params[f"v{j}"] = float(rng.normal())
    params["c"] = float(rng.normal(scale=0.5))
    out = " + ".join(f"v{j}*h{j}" for j in range(n_hidden)) + " + c"
    data = {x: rng.normal(size=n_rows).round(3).tolist() for x in inputs}
    if loss == "bce":
        nodes["p"] = f"sigmoid({out})"
        nodes["L"] = "-(y*log(p) + (1 - y)*log(1 - p))"
        data["y"] = rng.integers(0, 2, size=n_rows).astype(float).tolist()
    else:
        nodes["yhat"] = out
        nodes["L"] = "(yhat - y)**2"
        data["y"] = rng.normal(size=n_rows).round(3).tolist()
    return dict(inputs=inputs, targets=["y"], nodes=nodes, loss="L", params=params, data=data,
                learning_rate=learning_rate, training={"batch_size": batch_size, "epochs": epochs})


CASES = [(seed, act, loss, bs) for seed, (act, loss, bs) in enumerate(
    (a, kind, b) for a in ACTIVATIONS for kind in ("mse", "bce") for b in (1, 2, 3))]

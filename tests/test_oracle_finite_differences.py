"""Gradients match central finite differences of the loss computed at 50 digits with mpmath."""
from __future__ import annotations

import mpmath
import pytest
import sympy

from networks import CASES, random_network

import derive
from derive.model.graph import symbol

MP_FUNCTIONS = {"sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)), "relu": lambda x: x if x > 0 else mpmath.mpf(0),
                "Heaviside": lambda x, h0=0: 1 if x > 0 else 0}


def batch_loss_function(spec):
    """The batch loss as an mpmath function of the parameters, built from the node strings."""
    names = [*spec["inputs"], *spec["targets"], *spec["params"], *spec["nodes"]]
    env = {n: symbol(n) for n in names}
    from derive.model.expressions import parse

    values = {}
    for name, text in spec["nodes"].items():
        values[symbol(name)] = parse(text, env).xreplace(values)
    loss = values[symbol("L")]
    args = [symbol(n) for n in [*spec["params"], *spec["inputs"], *spec["targets"]]]
    f = sympy.lambdify(args, loss, modules=[MP_FUNCTIONS, "mpmath"])
    columns = [*spec["inputs"], *spec["targets"]]

    def batch(params, rows):
        total = mpmath.mpf(0)
        for r in rows:
            total += f(*params, *[mpmath.mpf(spec["data"][c][r]) for c in columns])
        return total / len(rows)

    return batch


@pytest.mark.parametrize("seed,activation,loss,batch_size", CASES[::3],
                         ids=[f"{a}-{kind}-batch{b}" for _, a, kind, b in CASES[::3]])
def test_gradients_match_high_precision_differences(seed, activation, loss, batch_size):
    spec = random_network(seed, activation, loss, batch_size)
    trace = derive.Problem.build(**spec).train()
    batch = batch_loss_function(spec)
    names = list(spec["params"])
    h = mpmath.mpf("1e-20")
    with mpmath.workdps(50):
        for step in trace.steps:
            base = [mpmath.mpf(step.params[n]) for n in names]
            assert step.loss == pytest.approx(float(batch(base, step.rows)), rel=1e-12)
            for i, name in enumerate(names):
                up, down = list(base), list(base)
                up[i] += h
                down[i] -= h
                fd = (batch(up, step.rows) - batch(down, step.rows)) / (2 * h)
                assert step.gradients[name] == pytest.approx(float(fd), rel=1e-9, abs=1e-12), name

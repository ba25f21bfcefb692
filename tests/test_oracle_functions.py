"""Every function and loss of the registry, without torch and with it, one row each and three rows per step.

Without torch: values against the function written here in mpmath at 50 digits, and gradients against
central differences at 50 digits. On a kink a difference quotient has no single answer, so there the
gradient PyTorch gives is written out by hand (relu'(0) = 0, |x|'(0) = 0, leaky_relu'(0) = slope,
a tie of k arguments of max or min gives each 1/k, mae'(0) = 0, huber'(±delta) = ±delta) and checked
instead; next to each kink (2^-30 away) the difference quotient is checked again.
With torch: the same rows through torch's own functions, three rows at a time, against autograd.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import pytest

from support import require
from torch_oracle import torch

import derive
from derive.model.functions import REGISTRY

mp = mpmath.mp
EPS = 2.0 ** -30  # next to a kink: far enough for a difference quotient at 50 digits, exact in floats
H = mpmath.mpf("1e-25")
W = 0.5  # every case's argument is z = w*x + d with x = 2, so z = 1 + d and dz/dw = 2
X = 2.0


def around(*kinks):
    """Argument values at each kink and 2^-30 either side of it, three per kink (one batch of three)."""
    return [z for k in kinks for z in (k, k + EPS, k - EPS)]


@dataclass(frozen=True)
class Case:
    """One function: a node using it, its value in mpmath (by hand), and the rows to check it on.

    `value(p, r)` takes the parameters and one row as mpmath numbers. `kink(p, r)`, where given,
    returns the gradient PyTorch gives on a kink (a dict by parameter), or None off the kinks.
    `torch_value(p, r)` is the same node with torch's own functions, over three rows at once.
    """

    function: str
    node: str
    value: Callable
    zs: list[float]
    columns: dict[str, list[float]] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    kink: Callable | None = None
    torch_value: Callable | None = None


def z_of(p, r):
    return p["w"] * r["x"] + r["d"]


def torch_function(name):
    """torch's own function of that name: torch.<name>, else torch.nn.functional.<name>."""
    return getattr(torch, name, None) or getattr(torch.nn.functional, name)


def unary(function, mp_value, zs, kink_slope=None):
    """A case f(w*x + d); `kink_slope` is PyTorch's f'(0) where f has a kink at 0."""
    def kink(p, r):
        return {"w": kink_slope * r["x"]} if kink_slope is not None and z_of(p, r) == 0 else None

    return Case(function, f"{function}(w*x + d)", lambda p, r: mp_value(z_of(p, r)), zs,
                kink=kink if kink_slope is not None else None,
                torch_value=lambda p, r: torch_function(function)(p["w"] * r["x"] + r["d"]))


def sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


def extreme_kink(pick):
    """max or min of (z, v, c): where k arguments tie for the extreme each gets 1/k (PyTorch's amax/amin)."""
    def kink(p, r):
        args = [z_of(p, r), p["v"], r["c"]]
        top = pick(args)
        tied = [a == top for a in args]
        if sum(tied) < 2:
            return None
        share = mpmath.mpf(1) / sum(tied)
        return {"w": share * r["x"] if tied[0] else 0, "v": share if tied[1] else 0}
    return kink


def huber_value(p, r, delta=1):
    d = z_of(p, r) - r["y"]
    return d**2 / 2 if abs(d) < delta else delta * (abs(d) - mpmath.mpf(delta) / 2)


def huber_kink(p, r, delta=1):
    d = z_of(p, r) - r["y"]
    return {"w": delta * mpmath.sign(d) * r["x"]} if abs(d) == delta else None


def torch_leaky_relu(p, r):
    """torch's slope is a plain number: the slope's own gradient is checked by the differences alone."""
    return torch.nn.functional.leaky_relu(p["w"] * r["x"] + r["d"], 0.1)


def torch_extreme(reduce):
    def value(p, r):
        args = [p["w"] * r["x"] + r["d"], p["v"].expand(r["c"].shape), r["c"]]
        return reduce(torch.stack(args), dim=0)
    return value


SMOOTH = [-1.25, 0.25, 2.0]  # values whose z - 1 is exact in floats, as every row's is
CASES = [
    unary("exp", mpmath.exp, SMOOTH),
    unary("log", mpmath.log, [0.375, 1.0, 2.5]),
    unary("log1p", mpmath.log1p, [-0.5, 0.25, 2.0]),
    unary("sqrt", mpmath.sqrt, [0.375, 1.0, 2.5]),
    unary("abs", abs, SMOOTH + around(0), kink_slope=0),
    unary("tanh", mpmath.tanh, SMOOTH),
    unary("sigmoid", sigmoid, SMOOTH + [-30.0, 30.0, 0.0]),
    unary("relu", lambda z: max(z, 0), SMOOTH + around(0), kink_slope=0),
    Case("leaky_relu", "leaky_relu(w*x + d, s)",
         lambda p, r: z_of(p, r) if z_of(p, r) > 0 else p["s"] * z_of(p, r), SMOOTH + around(0),
         params={"s": 0.1},
         kink=lambda p, r: {"w": p["s"] * r["x"], "s": 0} if z_of(p, r) == 0 else None,
         torch_value=torch_leaky_relu),
    unary("softplus", lambda z: mpmath.log(1 + mpmath.exp(z)), SMOOTH + [-30.0, 15.0, 0.0]),
    unary("elu", lambda z: z if z > 0 else mpmath.expm1(z), SMOOTH + around(0), kink_slope=1),
    unary("gelu", lambda z: z * (1 + mpmath.erf(z / mpmath.sqrt(2))) / 2, SMOOTH),
    # max and min of (z, v, c), v = 0.5: rows tie all three, two of them, or sit next to a tie.
    Case("max", "max(w*x + d, v, c)", lambda p, r: max(z_of(p, r), p["v"], r["c"]),
         [0.5, 0.5, 1.0, 0.5 + EPS, 0.5 - EPS, 2.0], columns={"c": [0.5, 0.0, 1.0, 0.5, 0.5 + EPS, -1.0]},
         params={"v": 0.5}, kink=extreme_kink(max), torch_value=torch_extreme(torch.amax if torch else None)),
    Case("min", "min(w*x + d, v, c)", lambda p, r: min(z_of(p, r), p["v"], r["c"]),
         [0.5, 0.5, 0.0, 0.5 - EPS, 0.5 + EPS, -2.0], columns={"c": [0.5, 1.0, 0.0, 0.5, 0.5 - EPS, 1.0]},
         params={"v": 0.5}, kink=extreme_kink(min), torch_value=torch_extreme(torch.amin if torch else None)),
    Case("mse", "mse(w*x + d, y)", lambda p, r: (z_of(p, r) - r["y"]) ** 2, SMOOTH,
         columns={"y": [1.0, 0.25, -3.0]},
         torch_value=lambda p, r: torch.nn.functional.mse_loss(p["w"] * r["x"] + r["d"], r["y"], reduction="none")),
    Case("mae", "mae(w*x + d, y)", lambda p, r: abs(z_of(p, r) - r["y"]), SMOOTH + around(0.75),
         columns={"y": [1.0, 0.5, -3.0, 0.75, 0.75, 0.75]},
         kink=lambda p, r: {"w": 0} if z_of(p, r) == r["y"] else None,
         torch_value=lambda p, r: torch.nn.functional.l1_loss(p["w"] * r["x"] + r["d"], r["y"], reduction="none")),
    Case("bce", "bce(w*x + d, y)",
         lambda p, r: -(r["y"] * mpmath.log(z_of(p, r)) + (1 - r["y"]) * mpmath.log(1 - z_of(p, r))),
         [0.125, 0.5, 0.875], columns={"y": [1.0, 0.0, 0.25]},
         torch_value=lambda p, r: torch.nn.functional.binary_cross_entropy(p["w"] * r["x"] + r["d"], r["y"],
                                                                            reduction="none")),
    # huber with delta 1 at d = z - y = 0 and at |d| = delta, and next to both.
    Case("huber", "huber(w*x + d, y, 1)", huber_value, SMOOTH + around(1.5) + around(-0.5),
         columns={"y": [1.0, 0.25, -3.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]}, kink=huber_kink,
         torch_value=lambda p, r: torch.nn.functional.huber_loss(p["w"] * r["x"] + r["d"], r["y"], delta=1.0,
                                                                 reduction="none")),
    Case("logsumexp", "logsumexp(w*x + d, v, c)",
         lambda p, r: mpmath.log(mpmath.exp(z_of(p, r)) + mpmath.exp(p["v"]) + mpmath.exp(r["c"])),
         [0.5, 710.0, -3.0], columns={"c": [0.5, 700.0, 2.0]}, params={"v": 0.5},
         torch_value=lambda p, r: torch.logsumexp(torch.stack([p["w"] * r["x"] + r["d"], p["v"].expand(r["c"].shape),
                                                               r["c"]]), dim=0)),
]


def test_every_registry_function_has_a_case():
    public = {name for name, entry in REGISTRY.items() if entry.public}
    assert {case.function for case in CASES} == public


def rows_of(case):
    columns = {"x": [X] * len(case.zs), "d": [z - W * X for z in case.zs], **case.columns}
    assert all(W * X + d == z for d, z in zip(columns["d"], case.zs)), "z must be exact in floats"
    return columns


def run(case, batch_size):
    columns = rows_of(case)
    params = {"w": W, **case.params}
    problem = derive.Problem.build(inputs=list(columns), targets=[], nodes={"L": case.node}, loss="L",
                                   params=params, data=columns, learning_rate=1,
                                   training={"batch_size": batch_size, "frozen": tuple(params)})
    return problem.train(), params, columns


def gradient_of_row(case, p, r):
    """PyTorch's gradient on a kink (by hand), else a central difference at 50 digits."""
    on_kink = case.kink(p, r) if case.kink else None
    if on_kink is not None:
        return {name: mpmath.mpf(on_kink.get(name, 0)) for name in p}
    gradient = {}
    for name in p:
        up, down = dict(p), dict(p)
        up[name] += H
        down[name] -= H
        gradient[name] = (case.value(up, r) - case.value(down, r)) / (2 * H)
    return gradient


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("case", CASES, ids=[c.function for c in CASES])
def test_value_and_gradient_match_high_precision(case, batch_size):
    trace, params, columns = run(case, batch_size)
    assert len(trace.steps) == -(-len(case.zs) // batch_size)
    with mpmath.workdps(50):
        p = {k: mpmath.mpf(v) for k, v in params.items()}
        for step in trace.steps:
            rows = [{c: mpmath.mpf(values[i]) for c, values in columns.items()} for i in step.rows]
            loss = sum(case.value(p, r) for r in rows) / len(rows)
            assert step.loss == pytest.approx(float(loss), rel=1e-12, abs=1e-15), step.rows
            grads = [gradient_of_row(case, p, r) for r in rows]
            for name in params:
                expected = float(sum(g[name] for g in grads) / len(rows))
                assert step.gradients[name] == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, step.rows)


@pytest.mark.parametrize("case", CASES, ids=[c.function for c in CASES])
def test_three_rows_at_a_time_match_torch(case):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    trace, params, columns = run(case, 3)
    for step in trace.steps:
        p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
        r = {c: torch.tensor([values[i] for i in step.rows], dtype=torch.float64) for c, values in columns.items()}
        loss = case.torch_value(p, r).mean()
        loss.backward()
        assert step.loss == pytest.approx(loss.item(), rel=1e-12, abs=1e-15), step.rows
        compared = [name for name, tensor in p.items() if tensor.grad is not None]
        assert "w" in compared
        for name in compared:
            assert step.gradients[name] == pytest.approx(p[name].grad.item(), rel=1e-12, abs=1e-15), (name, step.rows)

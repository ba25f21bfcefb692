"""Every expression function and named loss: values and derivatives as PyTorch computes them, kinks included."""
from __future__ import annotations

import math

import pytest
from support import ROOT, require
from torch_oracle import torch

import derive
from derive.model.functions import readme_table
from derive.model.spec import loads

F = torch.nn.functional if torch is not None else None
CASES = [
    ("leaky_relu(w*x, 0.1)", lambda z: F.leaky_relu(z, 0.1)),
    ("softplus(w*x)", lambda z: F.softplus(z)),
    ("elu(w*x)", lambda z: F.elu(z)),
    ("log1p(w*x*w*x)", lambda z: torch.log1p(z * z)),
    ("max(w*x, 0.5)", lambda z: torch.maximum(z, torch.tensor(0.5, dtype=torch.float64))),
    ("min(w*x, 0.5)", lambda z: torch.minimum(z, torch.tensor(0.5, dtype=torch.float64))),
    ("relu(w*x)", lambda z: torch.relu(z)),
    ("abs(w*x)", lambda z: torch.abs(z)),
    ("tanh(w*x)", lambda z: torch.tanh(z)),
    ("sigmoid(w*x)", lambda z: torch.sigmoid(z)),
    ("sqrt(1 + w*x*w*x)", lambda z: torch.sqrt(1 + z * z)),
    ("gelu(w*x)", lambda z: F.gelu(z)),
]
POINTS = [-1.3, 0.0, 0.25, 0.5, 2.0]  # w*x with x = 1: 0 and 0.5 are the kinks (relu, abs, max/min ties)


@pytest.mark.parametrize("node,reference", CASES, ids=[c[0].split("(")[0] for c in CASES])
@pytest.mark.parametrize("w", POINTS)
def test_function_and_derivative_match_torch(node, reference, w):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    step = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": node}, loss="L", params={"w": w},
                                data={"x": [1.0]}, learning_rate=1).train().steps[0]
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    out = reference(tw * 1.0)
    out.backward()
    assert step.loss == pytest.approx(out.item(), rel=1e-12, abs=1e-15)
    assert step.gradients["w"] == pytest.approx(tw.grad.item(), rel=1e-12, abs=1e-15)


LOSSES = [
    ("mse(w*x, y)", lambda p, y: F.mse_loss(p, y)),
    ("mae(w*x, y)", lambda p, y: F.l1_loss(p, y)),
    ("bce(sigmoid(w*x), y)", lambda p, y: F.binary_cross_entropy(torch.sigmoid(p), y)),
    ("huber(w*x, y, 1.0)", lambda p, y: F.huber_loss(p, y, delta=1.0)),
]


@pytest.mark.parametrize("node,reference", LOSSES, ids=[c[0].split("(")[0] for c in LOSSES])
@pytest.mark.parametrize("w,y", [(0.3, 1.0), (2.0, 0.0), (-1.5, 1.0), (1.0, 1.0)])
def test_named_losses_match_torch(node, reference, w, y):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    step = derive.Problem.build(inputs=["x"], targets=["y"], nodes={"L": node}, loss="L", params={"w": w},
                                data={"x": [1.0], "y": [y]}, learning_rate=1).train().steps[0]
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    out = reference(tw * 1.0, torch.tensor(y, dtype=torch.float64))
    out.backward()
    assert step.loss == pytest.approx(out.item(), rel=1e-12, abs=1e-15)
    assert step.gradients["w"] == pytest.approx(tw.grad.item(), rel=1e-12, abs=1e-15)


SOFTMAX_NODES = {
    "z1": "a1*x1 + b1", "z2": "a2*x1 + b2", "z3": "a3*x1 + b3",
}
WRITTEN = {**SOFTMAX_NODES,
           "p1": "exp(z1)/(exp(z1) + exp(z2) + exp(z3))",
           "p2": "exp(z2)/(exp(z1) + exp(z2) + exp(z3))",
           "p3": "exp(z3)/(exp(z1) + exp(z2) + exp(z3))",
           "L": "-(y1*log(p1) + y2*log(p2) + y3*log(p3))"}
SHORTHAND = {**SOFTMAX_NODES, "L": "logsumexp(z1, z2, z3) - (y1*z1 + y2*z2 + y3*z3)"}


def softmax_problem(nodes):
    params = {"a1": 0.2, "a2": -0.4, "a3": 0.1, "b1": 0.0, "b2": 0.3, "b3": -0.2}
    data = {"x1": [1.0, -2.0, 0.5, 3.0], "y1": [1.0, 0.0, 0.0, 1.0], "y2": [0.0, 1.0, 0.0, 0.0], "y3": [0.0, 0.0, 1.0, 0.0]}
    return derive.Problem.build(inputs=["x1"], targets=["y1", "y2", "y3"], nodes=nodes, loss="L", params=params,
                                data=data, learning_rate=0.5, training={"batch_size": 2, "epochs": 2})


def test_softmax_cross_entropy_written_out_and_shorthand_agree_with_torch():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    written, short = softmax_problem(WRITTEN).train(), softmax_problem(SHORTHAND).train()
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in {"a1": 0.2, "a2": -0.4, "a3": 0.1, "b1": 0.0, "b2": 0.3, "b3": -0.2}.items()}
    optimiser = torch.optim.SGD(list(params.values()), lr=0.5)
    x = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 0])
    for a, b in zip(written.steps, short.steps):
        rows = list(a.rows)
        optimiser.zero_grad()
        logits = torch.stack([params[f"a{k}"] * x[rows] + params[f"b{k}"] for k in (1, 2, 3)], dim=1)
        loss = F.cross_entropy(logits, labels[rows])
        loss.backward()
        optimiser.step()
        for step in (a, b):
            assert step.loss == pytest.approx(loss.item(), rel=1e-9)
            for name, tensor in params.items():
                assert step.updated[name] == pytest.approx(tensor.item(), rel=1e-9, abs=1e-12)


# Rows of (x, y) at and next to the kinks of max, min and huber, run three rows per step.
BATCHED = [
    ("max(w*x, y, 0.5)", lambda z, y: torch.amax(torch.stack([z, y, torch.full_like(z, 0.5)]), dim=0)),
    ("min(w*x, y, 0.5)", lambda z, y: torch.amin(torch.stack([z, y, torch.full_like(z, 0.5)]), dim=0)),
    ("huber(w*x, y, 1.0)", lambda z, y: F.huber_loss(z, y, delta=1.0, reduction="none")),
    ("logsumexp(w*x, y, 2*w*x)", lambda z, y: torch.logsumexp(torch.stack([z, y, 2 * z]), dim=0)),
    ("gelu(w*x - y)", lambda z, y: F.gelu(z - y)),
    ("leaky_relu(w*x - y, 0.2)", lambda z, y: F.leaky_relu(z - y, 0.2)),
]


@pytest.mark.parametrize("node,reference", BATCHED, ids=[c[0].split("(")[0] for c in BATCHED])
@pytest.mark.parametrize("batch", [1, 3])
def test_functions_run_batched_and_match_torch_at_ties(node, reference, batch):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    # With w = 0.5: rows 1 and 2 tie all three arguments of max and min (0.5, 0.5, 0.5) and two
    # of them; rows 3 and 4 put huber at |d| = delta exactly; the rest are ordinary points.
    x, y = [1.0, 1.0, 3.0, 1.0, -2.0, 4.0], [0.5, 0.2, 0.5, 1.5, 0.7, -1.0]
    trace = derive.Problem.build(inputs=["x"], targets=["y"], nodes={"L": node}, loss="L", params={"w": 0.5},
                                 data={"x": x, "y": y}, learning_rate=0.1,
                                 training={"batch_size": batch}).train()
    w = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    for step in trace.steps:
        rows = list(step.rows)
        w = torch.tensor(step.params["w"], dtype=torch.float64, requires_grad=True)
        tx, ty = torch.tensor(x, dtype=torch.float64)[rows], torch.tensor(y, dtype=torch.float64)[rows]
        loss = reference(w * tx, ty).mean()
        loss.backward()
        assert step.loss == pytest.approx(loss.item(), rel=1e-12, abs=1e-15)
        assert step.gradients["w"] == pytest.approx(w.grad.item(), rel=1e-12, abs=1e-15)


def test_three_way_tie_splits_the_gradient_in_thirds():
    # max(a, b, c) at a = b = c: PyTorch's max (and amax) gives each argument 1/3, so d/dw of max(w, w*x, 1)
    # at w = 1, x = 1 is 1/3 + 1/3 (w appears in two of the three tied arguments).
    step = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": "max(w, w*x, 1)"}, loss="L",
                                params={"w": 1.0}, data={"x": [1.0]}, learning_rate=1).train().steps[0]
    assert step.gradients["w"] == pytest.approx(2 / 3, rel=1e-15)


def test_the_max_rule_is_worded_for_a_tie_of_any_number_of_arguments():
    # Three arguments tied at 0.5 in step 1: the report's value is 1/3, and the rule's words say 1/k, not 1/2.
    trace = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": "max(w*x, 0.5, x/2)"}, loss="L",
                                 params={"w": 0.5}, data={"x": [1.0]}, learning_rate=1).train()
    assert trace.steps[0].gradients["w"] == pytest.approx(1 / 3, rel=1e-15)
    for fmt in ("markdown", "latex"):
        report = derive.render(trace, fmt)
        assert r"max rule: 1 for the largest argument, 0 for the others, and $\frac{1}{k}$ each to a tie of $k$" in report
        assert r"$\frac{1}{2}$ each at a tie" not in report


def test_logsumexp_is_shifted_by_its_largest_argument():
    # log(e^710 + e^700) = 710 + log(1 + e^-10), which overflows a double if not shifted.
    step = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": "logsumexp(710*w*x, 700*w*x)"}, loss="L",
                                params={"w": 1.0}, data={"x": [1.0, 1.0]}, learning_rate=1e-9,
                                training={"batch_size": 2}).train().steps[0]
    assert step.loss == pytest.approx(710 + math.log1p(math.exp(-10)), rel=1e-15)
    # d/dw = (710 e^710 + 700 e^700) / (e^710 + e^700) = 710 - 10 / (1 + e^10)
    assert step.gradients["w"] == pytest.approx(710 - 10 / (1 + math.exp(10)), rel=1e-13)


def test_readme_function_table_is_the_registry():
    readme = (ROOT / "README.md").read_text()
    assert readme_table() in readme


GELU_LAYERS = """
[model]
inputs = ["x1", "x2"]
targets = ["y"]
layers = [{ size = 2, activation = "gelu" }, { size = 1 }]
loss = "L"
[model.nodes]
L = "mse(h2_1, y)"
[params]
w1_1_1 = 0.3
w1_2_1 = -0.8
w1_1_2 = 1.1
w1_2_2 = 0.4
w2_1_1 = 0.7
w2_2_1 = -0.5
[data]
x1 = [1.0, -2.0]
x2 = [0.5, 1.5]
y = [1.0, -1.0]
[train]
learning_rate = 0.1
batch_size = 2
"""


def test_gelu_in_layer_shorthand_matches_torch_and_prints_in_reports():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    trace = loads(GELU_LAYERS).train()
    given = {"w1_1_1": 0.3, "w1_2_1": -0.8, "w1_1_2": 1.1, "w1_2_2": 0.4, "w2_1_1": 0.7, "w2_2_1": -0.5}
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in given.items()}
    b = {k: torch.tensor(0.0, dtype=torch.float64, requires_grad=True) for k in ("b1_1", "b1_2", "b2_1")}
    x1, x2 = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([0.5, 1.5], dtype=torch.float64)
    h1 = F.gelu(t["w1_1_1"] * x1 + t["w1_2_1"] * x2 + b["b1_1"])
    h2 = F.gelu(t["w1_1_2"] * x1 + t["w1_2_2"] * x2 + b["b1_2"])
    out = t["w2_1_1"] * h1 + t["w2_2_1"] * h2 + b["b2_1"]
    loss = F.mse_loss(out, torch.tensor([1.0, -1.0], dtype=torch.float64))
    loss.backward()
    step = trace.steps[0]
    assert step.loss == pytest.approx(loss.item(), rel=1e-12)
    for name, tensor in {**t, **b}.items():
        assert step.gradients[name] == pytest.approx(tensor.grad.item(), rel=1e-12, abs=1e-15)
    report = derive.render(trace, "latex")
    assert r"h^{(1)}_{1} &= \operatorname{gelu}\left(z^{(1)}_{1}\right)" in report
    assert r"\operatorname{erf}" in report

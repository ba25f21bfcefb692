"""Every expression function and named loss: values and derivatives as PyTorch computes them, kinks included."""
from __future__ import annotations

import pytest

from conftest import require
from torch_oracle import torch

import derive

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

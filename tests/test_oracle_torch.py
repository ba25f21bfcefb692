"""Every step of random small networks matches PyTorch autograd and torch.optim.SGD in float64."""
from __future__ import annotations


import pytest

from support import require
from networks import CASES, random_network

import derive

from torch_oracle import compare_with_torch, torch


@pytest.mark.parametrize("seed,activation,loss,batch_size", CASES,
                         ids=[f"{a}-{kind}-batch{b}" for _, a, kind, b in CASES])
def test_matches_torch_every_step(seed, activation, loss, batch_size):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    spec = random_network(seed, activation, loss, batch_size)
    trace = compare_with_torch(spec, lambda params: torch.optim.SGD(params, lr=spec["learning_rate"]))
    assert len(trace.steps) == 2 * -(-5 // batch_size)


def test_relu_at_exactly_zero_follows_torch():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    problem = derive.Problem.build(inputs=["x"], targets=[], nodes={"h": "relu(w*x)", "a": "abs(w*x - 1)", "L": "h + a"},
                                   loss="L", params={"w": 0.0}, data={"x": [2.0]}, learning_rate=1)
    step = problem.train().steps[0]
    w = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (torch.relu(w * 2.0) + torch.abs(w * 2.0 - 1)).backward()
    assert step.gradients["w"] == w.grad.item() == -2.0
    w0 = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    torch.abs(w0 * 2.0 - 1).backward()
    kink = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": "abs(w*x - 1)"}, loss="L",
                                params={"w": 0.5}, data={"x": [2.0]}, learning_rate=1).train().steps[0]
    assert kink.gradients["w"] == w0.grad.item() == 0.0


def test_the_oracle_is_torch_2_13():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    assert torch.__version__.startswith("2.13.0"), torch.__version__

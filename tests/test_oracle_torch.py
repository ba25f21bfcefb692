"""Every step of random small networks matches PyTorch autograd and torch.optim.SGD in float64."""
from __future__ import annotations

import os

import pytest

from conftest import require
from networks import CASES, random_network

import derive

try:
    import torch
except ImportError:  # the oracle is a test-only dependency
    torch = None

TORCH_FUNCTIONS = {"sigmoid": "torch.sigmoid", "tanh": "torch.tanh", "relu": "torch.relu",
                   "log": "torch.log", "exp": "torch.exp"}


def torch_forward(spec, params, rows):
    """Evaluate the node strings with torch tensors (the strings are ours, from networks.py)."""
    env = {name: params[name] for name in params}
    env.update({name: torch.tensor(values, dtype=torch.float64) for name, values in rows.items()})
    env["torch"] = torch
    for name, text in spec["nodes"].items():
        for fn, tfn in TORCH_FUNCTIONS.items():
            text = text.replace(f"{fn}(", f"{tfn}(")
        env[name] = eval(text, env)  # test-only oracle over strings written in networks.py
    return env["L"].mean()


@pytest.mark.parametrize("seed,activation,loss,batch_size", CASES,
                         ids=[f"{a}-{l}-batch{b}" for _, a, l, b in CASES])
def test_matches_torch_every_step(seed, activation, loss, batch_size):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    spec = random_network(seed, activation, loss, batch_size)
    trace = derive.Problem.build(**spec).train()
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in spec["params"].items()}
    optimiser = torch.optim.SGD(list(params.values()), lr=spec["learning_rate"])
    assert len(trace.steps) == 2 * -(-5 // batch_size)
    for step in trace.steps:
        rows = {k: [v[r] for r in step.rows] for k, v in spec["data"].items()}
        optimiser.zero_grad()
        batch_loss = torch_forward(spec, params, rows)
        batch_loss.backward()
        assert step.loss == pytest.approx(batch_loss.item(), rel=1e-9, abs=1e-12)
        for name, tensor in params.items():
            assert step.params[name] == pytest.approx(tensor.item(), rel=1e-9, abs=1e-12)
            assert step.gradients[name] == pytest.approx(tensor.grad.item(), rel=1e-9, abs=1e-12), name
        optimiser.step()
        for name, tensor in params.items():
            assert step.updated[name] == pytest.approx(tensor.item(), rel=1e-9, abs=1e-12), name


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


def test_ci_requires_the_oracle():
    if os.environ.get("DERIVE_REQUIRE_ALL") == "1":
        assert torch is not None and torch.__version__.startswith("2.13.0")

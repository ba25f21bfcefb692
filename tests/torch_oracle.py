"""PyTorch as the oracle: the same network evaluated with torch, and a run compared step by step."""
from __future__ import annotations

import pytest

import derive

try:
    import torch
except ImportError:  # the oracle is a test-only dependency
    torch = None

TORCH_FUNCTIONS = {"sigmoid": "torch.sigmoid", "tanh": "torch.tanh", "relu": "torch.relu",
                   "log": "torch.log", "exp": "torch.exp"}


def torch_forward(spec, params, rows):
    """Evaluate the node strings with torch tensors (the strings are the tests' own, from networks.py)."""
    env = {name: params[name] for name in params}
    env.update({name: torch.tensor(values, dtype=torch.float64) for name, values in rows.items()})
    env["torch"] = torch
    for name, text in spec["nodes"].items():
        for fn, tfn in TORCH_FUNCTIONS.items():
            text = text.replace(f"{fn}(", f"{tfn}(")
        env[name] = eval(text, env)  # test-only oracle over strings written in the tests
    return env["L"].mean()


def compare_with_torch(spec, make_optimiser, make_scheduler=None, state_keys=None):
    """Train with derive and with torch.optim side by side; every step's numbers must agree."""
    trace = derive.Problem.build(**spec).train()
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in spec["params"].items()}
    optimiser = make_optimiser(list(params.values()))
    scheduler = make_scheduler(optimiser) if make_scheduler else None
    epoch = 1
    for step in trace.steps:
        if step.epoch != epoch:
            epoch = step.epoch
            if scheduler:
                scheduler.step()
        assert step.learning_rate == pytest.approx(optimiser.param_groups[0]["lr"], rel=1e-12)
        rows = {k: [v[r] for r in step.rows] for k, v in spec["data"].items()}
        optimiser.zero_grad()
        loss = torch_forward(spec, params, rows)
        loss.backward()
        assert step.loss == pytest.approx(loss.item(), rel=1e-9, abs=1e-12)
        for name, tensor in params.items():
            assert step.gradients[name] == pytest.approx(tensor.grad.item(), rel=1e-9, abs=1e-12), name
        optimiser.step()
        for name, tensor in params.items():
            assert step.updated[name] == pytest.approx(tensor.item(), rel=1e-9, abs=1e-12), (step.step, name)
            for ours, theirs in (state_keys or {}).items():
                if ours in step.state[name]:
                    expected = optimiser.state[tensor][theirs].item()
                    assert step.state[name][ours] == pytest.approx(expected, rel=1e-9, abs=1e-12), (ours, name)
    return trace



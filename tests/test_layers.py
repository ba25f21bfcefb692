"""Layer shorthand, starting values and penalties: the same problem as written out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from support import EXAMPLES, require
from torch_oracle import torch

import derive
from derive.model.spec import loads

DATA_AND_TRAINING = """
[data]
x1 = [0.5, -1.0, 2.0]
x2 = [1.5, 0.3, -0.7]
y = [1.0, -1.0, 0.5]
[train]
learning_rate = 0.1
epochs = 2
"""
WRITTEN_OUT = """
[model]
inputs = ["x1", "x2"]
targets = ["y"]
loss = "L"
[model.nodes]
z1_1 = "w1_1_1*x1 + w1_2_1*x2 + b1_1"
h1_1 = "tanh(z1_1)"
z1_2 = "w1_1_2*x1 + w1_2_2*x2 + b1_2"
h1_2 = "tanh(z1_2)"
h2_1 = "w2_1_1*h1_1 + w2_2_1*h1_2 + b2_1"
L = "(h2_1 - y)**2"
[params]
{params}
""" + DATA_AND_TRAINING
SHORTHAND = """
[model]
inputs = ["x1", "x2"]
targets = ["y"]
layers = [{ size = 2, activation = "tanh" }, { size = 1 }]
init = { kind = "uniform", low = -1, high = 1, seed = 4 }
loss = "L"
[model.nodes]
L = "(h2_1 - y)**2"
""" + DATA_AND_TRAINING


def test_layer_shorthand_gives_the_trace_of_the_network_written_node_by_node():
    short = loads(SHORTHAND)
    params = "\n".join(f"{k} = {float(v)!r}" for k, v in short.initial.items())
    written = loads(WRITTEN_OUT.format(params=params))
    a, b = short.train(), written.train()
    assert short.graph.params == written.graph.params and short.graph.node_names == written.graph.node_names
    for x, y in zip(a.steps, b.steps):
        assert x.loss == y.loss and x.updated == y.updated and x.values == y.values


def test_starting_values_are_drawn_from_the_seed_and_printed():
    first, again = loads(SHORTHAND), loads(SHORTHAND)
    assert first.initial == again.initial
    other = loads(SHORTHAND.replace("seed = 4", "seed = 5"))
    assert other.initial != first.initial
    weights = [v for k, v in first.initial.items() if k.startswith("w")]
    assert len(weights) == 2 * 2 + 2 * 1 and all(-1 <= w <= 1 for w in weights)
    assert all(v == 0 for k, v in first.initial.items() if k.startswith("b"))
    document = derive.render(first.train(), "markdown")
    table = document.split("Starting values:")[1].split("Learning rate")[0]
    assert all(f"{w:g}" in table for w in weights)
    assert "w^{(1)}_{12}" in document  # w1_1_2 is the weight from input 1 to unit 2 of layer 1


def test_truncated_normal_keeps_within_two_standard_deviations():
    problem = derive.load(EXAMPLES / "layers_three_four_one.toml")
    weights = np.array([v for k, v in problem.initial.items() if k.startswith("w")])
    assert len(weights) == 3 * 4 + 4 * 1 and np.all(np.abs(weights) <= 2 * 0.5) and weights.std() > 0.2


def test_layers_example_matches_torch():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    problem = derive.load(EXAMPLES / "layers_three_four_one.toml")
    trace = problem.train()
    p = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in problem.initial.items()}
    W1 = lambda: torch.stack([torch.stack([p[f"w1_{i}_{j}"] for i in (1, 2, 3)]) for j in (1, 2, 3, 4)])  # noqa: E731
    optimiser = torch.optim.SGD(list(p.values()), lr=0.1)
    X = torch.tensor(np.stack([problem.data[c] for c in ("x1", "x2", "x3")], axis=1), dtype=torch.float64)
    Y = torch.tensor(problem.data["y"], dtype=torch.float64)
    for step in trace.steps:
        rows = list(step.rows)
        optimiser.zero_grad()
        hidden = torch.relu(X[rows] @ W1().T + torch.stack([p[f"b1_{j}"] for j in (1, 2, 3, 4)]))
        out = torch.sigmoid(hidden @ torch.stack([p[f"w2_{i}_1"] for i in (1, 2, 3, 4)]) + p["b2_1"])
        loss = torch.nn.functional.binary_cross_entropy(out, Y[rows])
        loss.backward()
        optimiser.step()
        assert step.loss == pytest.approx(loss.item(), rel=1e-9)
        assert step.updated == pytest.approx({k: t.item() for k, t in p.items()}, rel=1e-9, abs=1e-12)


def test_l2_penalty_is_added_to_the_loss_as_torch_computes_it():
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    text = SHORTHAND.replace('init = {', 'penalty = { kind = "l2", weight = 0.05, params = ["w1_1_1", "w2_1_1"] }\ninit = {')
    problem = loads(text)
    assert problem.graph.loss == ("L", "R")
    trace = problem.train()
    p = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in problem.initial.items()}
    optimiser = torch.optim.SGD(list(p.values()), lr=0.1)
    for step in trace.steps:
        (r,) = step.rows
        x1, x2, y = (float(problem.data[c][r]) for c in ("x1", "x2", "y"))
        optimiser.zero_grad()
        h = [torch.tanh(p[f"w1_1_{j}"] * x1 + p[f"w1_2_{j}"] * x2 + p[f"b1_{j}"]) for j in (1, 2)]
        out = p["w2_1_1"] * h[0] + p["w2_2_1"] * h[1] + p["b2_1"]
        loss = (out - y) ** 2 + 0.05 * (p["w1_1_1"] ** 2 + p["w2_1_1"] ** 2)
        loss.backward()
        optimiser.step()
        assert step.loss == pytest.approx(loss.item(), rel=1e-12)
        assert step.updated == pytest.approx({k: t.item() for k, t in p.items()}, rel=1e-12, abs=1e-15)
    w, v = problem.initial["w1_1_1"], problem.initial["w2_1_1"]
    assert trace.steps[0].values["R"] == pytest.approx(0.05 * (w * w + v * v), rel=1e-15)
    loss_lines = derive.render(trace, "markdown").split("**Loss.**")[1].split("**Local")[0]
    assert r"R &= 0.05 \left(\left(w^{(1)}_{11}\right)^{2} + \left(w^{(2)}_{11}\right)^{2}\right) = 0.05 \times" in loss_lines


@pytest.mark.parametrize("change,message", [
    ('activation = "tanh"', 'model.layers[1].activation: \'tanhh\' is not one of'),
    ('size = 2', "model.layers[1].size: expected a whole number of units of at least 1, got 0."),
    ('kind = "uniform"', "model.init.kind: 'uniform_' is not one of"),
], ids=["activation", "size", "init"])
def test_bad_layers_are_refused(change, message):
    bad = {'activation = "tanh"': 'activation = "tanhh"', 'size = 2': 'size = 0', 'kind = "uniform"': 'kind = "uniform_"'}
    with pytest.raises(derive.SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        loads(SHORTHAND.replace(change, bad[change]))

"""The worked examples reproduce the articles' published numbers (WORKED-EXAMPLES.md)."""
from __future__ import annotations

import math
import tomllib

import pytest
import sympy

from support import EXAMPLES


def test_every_example_spec_has_a_test_here():
    tested = {"seed_a_linear_regression.toml", "seed_b_straight_line.toml", "seed_c_relu_sigmoid_network.toml",
              "seed_a_with_momentum.toml", "seed_a_with_adam.toml", "logistic_regression.toml",
              "softmax_three_classes.toml", "layers_three_four_one.toml"}  # the last: tests/test_layers.py
    assert {p.name for p in EXAMPLES.glob("*.toml")} <= tested


def test_seed_a_first_step_matches_the_article(example):
    step = example("seed_a_linear_regression.toml").train().steps[0]
    # Article (seed 001), full precision: yhat = -0.116, L = 4.477456.
    assert step.values["yhat"] == pytest.approx(-0.116, abs=1e-12)
    assert step.loss == pytest.approx(4.477456, abs=1e-12)
    assert step.gradients == pytest.approx({"w1": -16.928, "w2": -4.232, "b": -4.232}, abs=1e-12)
    assert step.updated == pytest.approx({"w1": 0.8294, "w2": 0.1636, "b": 0.2116}, abs=1e-12)
    # As the article rounds them: yhat -0.1, L 4.48, b 0.212, w1 0.829, w2 0.164.
    assert round(step.loss, 2) == 4.48
    assert (round(step.updated["w1"], 3), round(step.updated["w2"], 3), round(step.updated["b"], 3)) == (0.829, 0.164, 0.212)


def test_seed_a_diverges_over_the_epoch_as_the_design_notes_say(example):
    trace = example("seed_a_linear_regression.toml").train()
    assert [s.rows for s in trace.steps] == [(0,), (1,), (2,), (3,), (4,), (5,)]
    assert trace.steps[5].loss > 2000  # WORKED-EXAMPLES.md: row 6's loss is above 2000


def test_seed_b_iteration_table_is_exact(example):
    trace = example("seed_b_straight_line.toml").train()
    R = sympy.Rational
    # The article's table: (m, c, L) before iterations 1 and 2, and (m, c) before iteration 3.
    s1, s2, s3 = trace.steps[:3]
    assert (s1.params["m"], s1.params["c"], s1.loss) == (5, 4, 18)
    assert (s2.params["m"], s2.params["c"], s2.loss) == (R(7, 2), R(5, 2), R(81, 8))
    assert (s3.params["m"], s3.params["c"]) == (R(5, 4), R(11, 8))


def test_seed_b_loop_version_matches_the_articles_printout():
    import derive

    xs = list(range(10))
    # The article's loop, with the random start it printed: W = 6.436103983994634, C = 8.562471646963367.
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"yhat": "m*x + c", "L": "(yhat - y)**2 / 2"}, loss="L",
        params={"m": 6.436103983994634, "c": 8.562471646963367},
        data={"x": xs, "y": [2 * x + 1 for x in xs]}, learning_rate=0.05, training={"epochs": 50})
    trace = problem.train()
    epoch_loss = [sum(s.loss for s in trace.steps[e * 10:(e + 1) * 10]) / 10 for e in range(50)]
    after = [trace.steps[e * 10 + 9].updated for e in range(50)]
    # Printed: "Epoch = 0 Loss = 31.27642 Y = 0.79X + 5.87", "Epoch = 1 Loss = 2.18066 Y = 1.67X + 5.60",
    # "Epoch = 2 Loss = 2.53907 Y = 1.60X + 5.06", "Epoch = 49 Loss = 0.00004 Y = 2.00X + 1.02".
    printed = {0: (31.27642, 0.79, 5.87), 1: (2.18066, 1.67, 5.60), 2: (2.53907, 1.60, 5.06), 49: (0.00004, 2.00, 1.02)}
    for epoch, (loss, m, c) in printed.items():
        assert f"{epoch_loss[epoch]:.5f}" == f"{loss:.5f}"
        assert (f"{after[epoch]['m']:.2f}", f"{after[epoch]['c']:.2f}") == (f"{m:.2f}", f"{c:.2f}")


def test_seed_c_forward_pass_matches_the_article(example):
    step = example("seed_c_relu_sigmoid_network.toml").train().steps[0]
    # Article (seed 004): for input [1, 2, 3] node E = 6 and the output F = 0.999.
    assert step.values["D"] == 6 and step.values["E"] == 6
    assert step.values["F"] == pytest.approx(1 / (1 + math.exp(-12)), rel=1e-15)
    assert math.floor(step.values["F"] * 1000) / 1000 == 0.999


def test_seed_c_update_of_EF_by_hand(example):
    step = example("seed_c_relu_sigmoid_network.toml").train().steps[0]
    F = 1 / (1 + math.exp(-12))
    # Sigmoid with cross-entropy: dL/dz = F - y; dz/dEF = E = 6; EF' = 1 - 0.1 * (F - 1) * 6.
    assert step.gradients["EF"] == pytest.approx((F - 1) * 6, rel=1e-9)
    assert step.updated["EF"] == pytest.approx(1 - 0.1 * (F - 1) * 6, rel=1e-15)


def test_seed_c_relu_at_exactly_zero_passes_no_gradient(example):
    # Row 3 is (2, -1, -2): pre-activation 2 - 1 - 2 = -1 < 0 for both hidden nodes, so they are 0
    # and no weight into them moves. The output weights see D = E = 0 and do not move either.
    trace = example("seed_c_relu_sigmoid_network.toml").train()
    step = trace.steps[2]
    assert step.values["D"] == 0 and step.values["E"] == 0
    assert all(g == 0 for g in step.gradients.values())


def test_seed_a_with_momentum_first_steps_by_hand(example):
    trace = example("seed_a_with_momentum.toml").train()
    s1, s2 = trace.steps[:2]
    # Step 1 (row 1): the gradient is the article's (-16.928, -4.232, -4.232); PyTorch's buffer starts at it,
    # so w1' = -0.017 - 0.001*(-16.928) = -0.000072, w2' = -0.048 + 0.004232 = -0.043768, b' = 0.004232.
    assert s1.state["w1"]["b"] == pytest.approx(-16.928, abs=1e-12)
    assert s1.updated == pytest.approx({"w1": -0.000072, "w2": -0.043768, "b": 0.004232}, abs=1e-12)
    # Step 2 (row 2: x = (2, 8), y = -14): yhat = -0.000072*2 - 0.043768*8 + 0.004232 = -0.346056,
    # dL/dyhat = 2(-0.346056 + 14) = 27.307888; b(w1) = 0.9*(-16.928) + 2*27.307888 = 39.380576.
    assert s2.values["yhat"] == pytest.approx(-0.346056, abs=1e-12)
    assert s2.state["w1"]["b"] == pytest.approx(0.9 * -16.928 + 2 * 27.307888, abs=1e-9)
    assert s2.updated["w1"] == pytest.approx(-0.000072 - 0.001 * 39.380576, abs=1e-9)


def test_seed_a_with_adam_first_step_moves_each_weight_by_the_learning_rate(example):
    step = example("seed_a_with_adam.toml").train().steps[0]
    # Rows 1 and 2: gradients (-16.928, -4.232, -4.232) and (54.328, 217.312, 27.164); their means are
    # (18.7, 106.54, 11.466). Adam's first step is eta * g / (|g| + eps') = 0.1 for each (all positive).
    assert step.gradients == pytest.approx({"w1": 18.7, "w2": 106.54, "b": 11.466}, abs=1e-12)
    assert step.updated == pytest.approx({"w1": -0.117, "w2": -0.148, "b": -0.1}, abs=1e-8)
    assert step.state["w2"]["m"] == pytest.approx(10.654, abs=1e-12)


@pytest.mark.parametrize("name", ["seed_a_with_momentum.toml", "seed_a_with_adam.toml"])
def test_optimiser_examples_match_torch(name):
    from torch_oracle import compare_with_torch, torch

    from support import require

    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    # Everything below is read from the example file itself, not from derive's reading of it.
    spec = tomllib.loads((EXAMPLES / name).read_text())
    train, model = spec["train"], spec["model"]
    options = {k: v for k, v in train.items() if k not in ("learning_rate", "optimizer", "epochs", "batch_size")}
    build = {"inputs": model["inputs"], "targets": model["targets"], "loss": model["loss"], "nodes": model["nodes"],
             "params": {k: float(v) for k, v in spec["params"].items()}, "data": spec["data"],
             "learning_rate": train["learning_rate"],
             "training": {"batch_size": train["batch_size"], "epochs": train["epochs"],
                          "optimizer": train["optimizer"], "options": options}}

    def make(params):
        if train["optimizer"] == "adam":  # PyTorch's defaults unless the file sets them
            betas = (options.get("beta1", 0.9), options.get("beta2", 0.999))
            return torch.optim.Adam(params, lr=train["learning_rate"], betas=betas, eps=options.get("eps", 1e-8))
        return torch.optim.SGD(params, lr=train["learning_rate"], momentum=options.get("momentum", 0))

    trace = compare_with_torch(build, make)
    rows = len(spec["data"]["y"])
    assert len(trace.steps) == train["epochs"] * -(-rows // train["batch_size"])


def test_logistic_regression_first_step_by_hand(example):
    trace = example("logistic_regression.toml").train()
    step = trace.steps[0]
    # w = b = 0: every p is 1/2, L = log 2 per row. dL/dz = p - y = (1/2, 1/2, -1/2, -1/2), so
    # dL/dw = mean((p - y) x) = (0.25 + 0.75 - 1.25 - 1.75)/4 = -0.5 and dL/db = 0; w' = 0 + 0.5*0.5 = 0.25.
    assert step.rows == (0, 1, 2, 3)
    assert step.loss == pytest.approx(math.log(2), rel=1e-15)
    assert step.gradients == pytest.approx({"w": -0.5, "b": 0.0}, abs=1e-15)
    assert step.updated == pytest.approx({"w": 0.25, "b": 0.0}, abs=1e-15)
    assert len(trace.steps) == 3 and trace.steps[2].loss < trace.steps[1].loss < step.loss


def test_softmax_example_matches_torch_cross_entropy(example):
    from torch_oracle import torch

    from support import require

    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    problem = example("softmax_three_classes.toml")
    trace = problem.train()
    params = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in problem.initial.items()}
    optimiser = torch.optim.SGD(list(params.values()), lr=0.5)
    x = torch.tensor(problem.data["x1"], dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 0])
    for step in trace.steps:
        rows = list(step.rows)
        optimiser.zero_grad()
        logits = torch.stack([params[f"a{k}"] * x[rows] + params[f"b{k}"] for k in (1, 2, 3)], dim=1)
        loss = torch.nn.functional.cross_entropy(logits, labels[rows])
        loss.backward()
        optimiser.step()
        assert step.loss == pytest.approx(loss.item(), rel=1e-9)
        assert step.updated == pytest.approx({k: t.item() for k, t in params.items()}, rel=1e-9, abs=1e-12)

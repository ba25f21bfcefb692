"""How reports are laid out: steps over many rows, headings, tables and the notes about a run."""
from __future__ import annotations

import dataclasses

import numpy as np

import derive
from support import EXAMPLES


def with_report(problem, **changes):
    return dataclasses.replace(problem, report=dataclasses.replace(problem.report, **changes))


def test_step_over_more_rows_than_shown_works_one_row_and_tabulates_the_first():
    problem = with_report(derive.load(EXAMPLES / "logistic_regression.toml"), rows_shown=2)
    document = derive.render(problem.train(), "markdown")
    step = document[document.index("## Step 1 "):document.index("## Step 2 ")]
    assert step.startswith("## Step 1 (epoch 1, 4 rows)")
    # By hand at w = b = 0: p = sigmoid(0) = 0.5 for every row, L = ln 2 = 0.6931, and
    # dL/dw = (p - y) x: row 1 (0.5 - 0) 0.5 = 0.25, row 2 (0.5 - 0) 1.5 = 0.75; dL/db = p - y = 0.5.
    assert "| 1 | 0.5 | 0 | 0.6931 | 0.2500 | 0.5000 |" in step
    assert "| 2 | 1.5 | 0 | 0.6931 | 0.7500 | 0.5000 |" in step
    assert "| … | 2 more rows | | | | |" in step
    assert step.count("### Row") == 1 and "### Row 1, worked in full" in step
    # The mean of all four rows (rows 3 and 4: (0.5 - 1) 2.5 = -1.25, (0.5 - 1) 3.5 = -1.75) is -0.5.
    assert (r"\frac{\partial \bar{L}}{\partial w} &= \frac{1}{4} \left(0.2500 + 0.7500 + \ldots \text{ (2 more rows)}\right)"
            r" = -0.5000") in step


def test_full_batch_over_200000_rows_is_a_short_report():
    n = 200_000
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"yhat": "w*x + b", "L": "(yhat - y)**2"}, loss="L",
        params={"w": 0.0, "b": 0.0}, data={"x": x, "y": 2 * x + 1}, learning_rate=0.1,
        training={"batch_size": None, "epochs": 3})
    for fmt in ("markdown", "latex"):
        document = derive.render(problem.train(), fmt)
        assert len(document.encode()) < 100_000
        assert document.count("199,997 more rows") == 3 * 3  # the loss and two gradients of each step
        assert document.count("199,990 more rows") == 3  # the table of the first 10 rows of each step


def notes_of(document: str) -> str:
    start = document.index("## What to notice")
    return document[start:document.index("## Improving the training")]


def tips_of(document: str) -> str:
    return document[document.index("## Improving the training"):]


def test_inactive_relu_unit_and_the_weights_that_stood_still():
    # z = w x + b with w = -1, b = 0 and x > 0 is negative in every row, so h = relu(z) = 0:
    # dL/dw = dL/db = 0 (relu'(z) = 0) and dL/dv = 2 (v h + c - y) h = 0; c alone moves.
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"z": "w*x + b", "h": "relu(z)", "L": "(v*h + c - y)**2"}, loss="L",
        params={"w": -1.0, "b": 0.0, "v": 1.0, "c": 0.0}, data={"x": [1.0, 2.0], "y": [1.0, 2.0]},
        learning_rate=0.1)
    notes = notes_of(derive.render(problem.train(), "markdown"))
    assert ("The ReLU unit $h$ was inactive (its input at or below 0 for every row of the batch) in every step: "
            "its output was 0 and no gradient flowed back through it, so $w$, $b$ and $v$ had gradient 0 there "
            "and did not move.") in notes


def test_saturated_sigmoid_unit_whose_weight_gets_a_vanishing_gradient():
    # h = sigmoid(20) = 1 - 2.1e-9: dL/dw = 2 (h - 0) h (1 - h) 1 = 4.1e-9, against dL/dv = 2 h h = 2.
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"h": "sigmoid(w*x)", "L": "(v*h - y)**2"}, loss="L",
        params={"w": 20.0, "v": 1.0}, data={"x": [1.0], "y": [0.0]}, learning_rate=0.01,
        training={"epochs": 3})
    notes = notes_of(derive.render(problem.train(), "markdown"))
    assert ("The sigmoid unit $h$ was saturated in every step: its slope was below a thousandth of its largest, "
            "so $w$ got gradients below a thousandth of the step's largest and barely moved.") in notes


def test_full_batch_loss_rising_after_a_step_and_the_advice_that_follows():
    # w' = w - 1.5 (2 w) = -2 w: the loss w^2 goes 1, 4, 16 over the three steps.
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"L": "(w*x - y)**2"}, loss="L", params={"w": 1.0},
        data={"x": [1.0], "y": [0.0]}, learning_rate=1.5, training={"epochs": 3, "batch_size": None})
    document = derive.render(problem.train(), "markdown")
    assert "The loss rose after steps 1 and 2 (after step 1: from 1.0000 to 4.0000)" in notes_of(document)
    tips = tips_of(document)
    assert "A smaller learning rate" in tips and "Shuffling" not in tips  # one batch of every row: nothing to shuffle


def test_frozen_parameter_is_noted():
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"L": "(w*x + b - y)**2"}, loss="L",
        params={"w": 1.0, "b": 0.5}, data={"x": [1.0], "y": [0.0]}, learning_rate=0.1,
        training={"frozen": ("b",)})
    notes = notes_of(derive.render(problem.train(), "markdown"))
    assert "$b$ was held at 0.5 throughout, as the spec asks (frozen)" in notes


def test_advice_leaves_out_what_the_spec_already_does():
    adam = derive.render(derive.load(EXAMPLES / "seed_a_with_adam.toml").train(), "markdown")
    assert "Adam" not in tips_of(adam) and "[train.schedule]" in tips_of(adam)
    momentum = tips_of(derive.render(derive.load(EXAMPLES / "seed_a_with_momentum.toml").train(), "markdown"))
    assert "(`optimizer`: Adam)" in momentum
    shuffled = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"L": "(w*x - y)**2"}, loss="L", params={"w": 1.0},
        data={"x": [1.0, 2.0], "y": [0.0, 1.0]}, learning_rate=0.1, training={"shuffle": True})
    assert "Shuffling" not in tips_of(derive.render(shuffled.train(), "markdown"))
    plain = tips_of(derive.render(derive.load(EXAMPLES / "seed_b_straight_line.toml").train(), "markdown"))
    assert "Shuffling the rows each epoch" in plain and "(`optimizer`: momentum, Adam)" in plain


def test_title_math_is_typeset_and_everything_else_escaped():
    problem = derive.load(EXAMPLES / "seed_b_straight_line.toml")
    cases = {"Fitting $y = 2x + 1$ in $\\eta$-steps": r"{\LARGE Fitting $y = 2x + 1$ in $\eta$-steps\par}",
             "Costs $5, 50% off": r"{\LARGE Costs \$5, 50\% off\par}",
             "Not $\\input{/etc/passwd}$": r"{\LARGE Not \$\textbackslash{}input\{/etc/passwd\}\$\par}"}
    for title, shown in cases.items():
        document = derive.render(dataclasses.replace(problem, title=title).train(), "latex")
        assert shown in document
    markdown = derive.render(dataclasses.replace(problem, title="A $\\hat{y}$ of 5_000").train(), "markdown")
    assert markdown.startswith("# A $\\hat{y}$ of 5\\_000\n")


def test_table_numbers_line_up_at_the_decimal_point_in_scientific_notation_too():
    from derive.report.formats import latex_decimal

    # Two cells of an r@{}l pair: the whole part right-aligned, the point and the rest left-aligned.
    assert latex_decimal(r"6.100019 \times 10^{-6}") == r"$6$ & $.100019 \times 10^{-6}$"
    assert latex_decimal("0.03407181") == "$0$ & $.03407181$"
    assert latex_decimal(r"\frac{1}{2}") == r"$\frac{1}{2}$ & "

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
    assert "| 1 | 0.5 | 0 | 0.6931 | 0.25 | 0.5 |" in step
    assert "| 2 | 1.5 | 0 | 0.6931 | 0.75 | 0.5 |" in step
    assert "| … | 2 more rows | | | | |" in step
    assert step.count("### Row") == 1 and "### Row 1, worked in full" in step
    # The mean of all four rows (rows 3 and 4: (0.5 - 1) 2.5 = -1.25, (0.5 - 1) 3.5 = -1.75) is -0.5.
    assert (r"\frac{\partial L}{\partial w} &= \frac{1}{4} \left(0.25 + 0.75 + \ldots \text{ (2 more rows)}\right)"
            r" = -0.5") in step


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

"""Steps filled from a layout made once per shape of step, and from the shape's plan: every step
reads as it would were it worked on its own, and every line of a long report checks by hand."""
from __future__ import annotations

import dataclasses

import pytest

from support import EXAMPLES
from test_report import assert_every_line_true

import derive
from derive import api
from derive.report import formats
from derive.report.document import Report
from derive.report.stepview import StepView


def every_step(name: str):
    problem = derive.load(EXAMPLES / f"{name}.toml")
    return dataclasses.replace(problem, report=dataclasses.replace(problem.report, steps="all"))


@pytest.mark.parametrize("name", ["seed_a_with_adam", "seed_a_with_momentum", "layers_three_four_one"])
@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_each_step_reads_as_it_does_worked_alone(name, fmt):
    trace = api.carried(every_step(name).train())
    form = formats.get(fmt)
    env = form.environment()
    report = Report(trace, form)
    statement = report.statement()
    n = len(trace.steps)
    together = [form.fill(*pair) for pair in report.stepview.layouts(env, range(n), statement)]
    alone = [form.fill(*pair) for index in range(n) for pair in report.stepview.layouts(env, [index], statement)]
    assert together == alone


def test_a_mean_writes_each_negative_term_in_parentheses_at_every_step():
    problem = every_step("seed_a_with_adam")
    document = derive.render(problem.train(), "markdown")
    assert assert_every_line_true(problem, document, "markdown") > 100
    # Step 4 (rows 1 and 2 again) by hand: dL/dw1 is the mean of -3.3144 and -6.5016, -9.8160 / 2 = -4.9080.
    assert (r"\frac{\partial \bar{L}}{\partial w_{1}} &= \frac{1}{2} \left(-3.3144 + \left(-6.5016\right)\right)"
            r" = -4.9080") in document
    assert "+ -" not in document


@pytest.mark.parametrize("name, training, worked_steps, n_steps", [
    ("seed_a_with_momentum", {}, [1, 2, 3, 4, 5, 6], 30),  # 5 epochs of 6 one-row steps: 6 shapes (the row marked)
    ("seed_a_linear_regression", {"batch_size": 3, "epochs": 4}, [1, 2], 8),  # rows 1-3 and 4-6
    ("seed_a_with_adam", {}, [1, 2, 3], 9),  # Adam's corrected moments are worked out again at each step
])
def test_steps_of_one_shape_are_worked_through_the_formulas_once(monkeypatch, name, training, worked_steps, n_steps):
    problem = every_step(name)
    problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, **training))
    worked: list[int] = []
    context = StepView.context

    def counted(self, step, previous_state, compared):
        worked.append(step.step)
        return context(self, step, previous_state, compared)

    monkeypatch.setattr(StepView, "context", counted)
    document = derive.render(problem.train(), "markdown")
    assert worked == worked_steps
    assert document.count("## Step ") == n_steps
    assert assert_every_line_true(problem, document, "markdown") > 10 * n_steps

"""Node by node, a target of 0 or 1 is put into a row's loss lines first, as a teacher writes them:
L = -(y log F + (1 - y) log(1 - F)) = -log(0.9999939), not -(1 × log(0.9999939) + (1 - 1) × ...)."""
from __future__ import annotations

import math
import re

import mpmath

from arithmetic import check_row, equation_rows
from support import EXAMPLES
from test_report import assert_every_line_true

import derive
from derive.model.spec import loads

mpmath.mp.dps = 50


def rows_of(document: str, lhs: str) -> list[list[str]]:
    return [parts for parts in equation_rows(document, "markdown") if parts[0] == lhs and len(parts) > 2]


def step_one(document: str) -> str:
    return document.split("## Step 1 ")[1].split("## Step 2 ")[0]


def printed(x, significant: int) -> str:
    """x at `significant` significant figures, as the report writes it (a x 10^{e} below 0.001)."""
    text = mpmath.nstr(x, significant, min_fixed=-3, max_fixed=significant + 1, strip_zeros=False)
    mantissa, _, exponent = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa


def test_seed_c_row_one_loss_is_minus_log_f():
    # Seed C's row 1 by hand (WORKED-EXAMPLES, seed 004): all weights 1 and input [1, 2, 3] give
    # D = E = 6 and F = sigmoid(12) = 0.99999..., printed at 7 significant figures; with y = 1 the
    # loss is -ln F, worked from the printed F: -ln(0.9999939) = 6.100019 x 10^-6; its partial
    # dL/dF = (1 - y)/(1 - F) - y/F is -1/F = -1/0.9999939 = -1.000006.
    f = printed(1 / (1 + mpmath.exp(-12)), 7)
    assert f == "0.9999939"
    loss = printed(-mpmath.log(mpmath.mpf(f)), 7)
    assert loss == r"6.100019 \times 10^{-6}"
    partial = "-" + printed(1 / mpmath.mpf(f), 7)
    assert partial == "-1.000006"

    problem = derive.load(EXAMPLES / "seed_c_relu_sigmoid_network.toml")
    document = step_one(derive.render(problem.train(), "markdown"))
    [line] = rows_of(document, "L")
    assert line[1:] == [r"- (y \log{\left(F \right)} + \left(1 - y\right) \log{\left(1 - F \right)})",
                        rf"- \log{{\left({f} \right)}}", loss]
    [line] = rows_of(document, r"\frac{\partial L}{\partial F}")
    assert line[1:] == [r"\frac{1 - y}{1 - F} - \frac{y}{F}", rf"- \frac{{1}}{{{f}}}", partial]
    assert "With $y = 1$ put in, the term with $(1 - y)$ drops out, here and in the local partial derivatives:" \
        in document
    assert r"\times \log" not in document and "(1 - 1)" not in document


def test_softmax_row_one_loss_is_minus_log_p1():
    # Row 1: x1 = 1, so z = (0.2, -0.1, -0.1) and p1 = e^0.2/(e^0.2 + 2e^-0.1), printed at 4 decimals
    # from the printed z's; with y1 = 1, y2 = y3 = 0 only -ln p1 remains: -ln 0.4030 = 0.9088.
    e = math.exp
    p1 = f"{e(0.2) / (e(0.2) + 2 * e(-0.1)):.4f}"
    assert p1 == "0.4030"
    loss = f"{-math.log(float(p1)):.4f}"
    assert loss == "0.9088"

    problem = derive.load(EXAMPLES / "softmax_three_classes.toml")
    document = derive.render(problem.train(), "markdown")
    row_one = document.split("### Row 1")[1].split("### Row 2")[0]
    [line] = rows_of(row_one, "L")
    assert line[1:] == [r"- (y_{1} \log{\left(p_{1} \right)} + y_{2} \log{\left(p_{2} \right)} + y_{3} \log{\left(p_{3} \right)})",
                        rf"- \log{{\left({p1} \right)}}", loss]
    assert "With $y_{1} = 1$, $y_{2} = 0$ and $y_{3} = 0$ put in, only the term with $y_{1}$ remains" in row_one
    # dL/dp2 = -y2/p2 with y2 = 0 is 0, stated so rather than worked as -0/0.2985.
    [line] = rows_of(row_one, r"\frac{\partial L}{\partial p_{2}}")
    assert line[1:] == [r"- \frac{y_{2}}{p_{2}}", "0"]


def test_the_hand_check_reads_the_put_in_lines():
    # The reader of tests/arithmetic.py evaluates -log(...) and -1/(...) from the printed numbers:
    # the right value passes, a value off by one in its last digit does not.
    line = ["L", "-(...)", r"- \log{\left(0.9999939 \right)}", r"6.100019 \times 10^{-6}"]
    assert check_row(line, "rounded") is None
    assert check_row([*line[:3], r"6.100020 \times 10^{-6}"], "rounded") is not None
    line = ["dL/dF", "...", r"\frac{1}{1 - 0.9975274}", "404.4326"]
    assert check_row(line, "rounded") is None  # 1/0.0024726 = 404.43258...
    assert check_row([*line[:3], "404.4327"], "rounded") is not None


def test_a_target_that_picks_no_terms_is_not_put_in():
    # Seed A's squared error has a row with y = 1: (yhat - y)^2 keeps its form, and no sentence.
    problem = derive.load(EXAMPLES / "seed_a_linear_regression.toml")
    document = derive.render(problem.train(), "markdown")
    assert "put in" not in document
    lines = rows_of(document, "L")
    squared = re.compile(r"\\left\(-?[\d.]+ - (\d+|\\left\(-\d+\\right\))\\right\)\^\{2\}")
    assert len(lines) == 6 and all(squared.fullmatch(parts[2]) for parts in lines)


def test_many_rows_each_step_takes_its_own_rows_target():
    # Over 20 rows a step's layout is not keyed by its row: the targets put in must key it, so
    # that a step on a row with y = 0 does not reuse the lines of a row with y = 1.
    ys = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0]
    xs = [round(0.25 * i - 3, 2) for i in range(len(ys))]
    spec = f"""
[model]
inputs = ["x"]
targets = ["y"]
loss = "L"
[model.nodes]
z = "w*x + b"
p = "sigmoid(z)"
L = "-(y*log(p) + (1 - y)*log(1 - p))"
[params]
w = 0.3
b = -0.1
[data]
x = {xs}
y = {ys}
[train]
learning_rate = 0.5
[report]
steps = "all"
"""
    problem = loads(spec)
    document = derive.render(problem.train(), "markdown")
    losses = rows_of(document, "L")
    assert len(losses) == len(ys)
    for y, line in zip(ys, losses):
        assert line[2].startswith(r"- \log{\left(1 - " if y == 0 else r"- \log{\left(0."), (y, line)
    assert assert_every_line_true(problem, document, "markdown") > 10

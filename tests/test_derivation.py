"""The backprop recursion gives exactly the derivatives of the fully expanded loss."""
from __future__ import annotations

import random

import pytest
import sympy

from support import EXAMPLES

import derive
from derive.api import differentiate
from derive.model.graph import symbol


def expanded_loss(graph):
    values = {}
    for name, expr in graph.nodes:
        values[symbol(name)] = expr.xreplace(values)
    return sum((values[symbol(n)] for n in graph.loss), sympy.Integer(0))


def at_random_points(expr, symbols, draws):
    """The expression's value at 40 digits at each draw of values for its symbols."""
    for values in draws:
        point = {s: values[s] for s in symbols}
        yield sympy.N(expr.xreplace(point).rewrite(sympy.exp), 40)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_gradients_equal_diff_of_expanded_loss(path):
    """Equal as functions: equal at random points (exact rationals, compared at 40 digits)."""
    problem = derive.load(path)
    loss = expanded_loss(problem.graph)
    symbols = sorted(loss.free_symbols, key=str)
    rng = random.Random(path.stem)
    draws = [{s: sympy.Rational(rng.randint(-2000, 2000), 1000) for s in symbols} for _ in range(3)]
    for param in problem.graph.params:
        recursion = differentiate(problem).expanded_gradient(param)
        direct = sympy.diff(loss, symbol(param))
        assert recursion.free_symbols <= set(symbols), param
        for ours, theirs in zip(at_random_points(recursion, symbols, draws), at_random_points(direct, symbols, draws)):
            assert abs(ours - theirs) <= sympy.Float("1e-30", 40) * (1 + abs(theirs)), (param, ours, theirs)


def test_shared_parameter_sums_over_the_nodes_that_use_it():
    # b is used by two nodes: dL/db = dL/du * 1 + dL/dv * 1, derived by hand for L = u^2 + v^2.
    problem = derive.Problem.build(
        inputs=["x"], targets=[], nodes={"u": "w*x + b", "v": "2*w + b", "L": "u**2 + v**2"}, loss="L",
        params={"w": 1.0, "b": 0.5}, data={"x": [3.0]}, learning_rate=0.1)
    step = problem.train().steps[0]
    u, v = 3.5, 2.5
    assert step.gradients["b"] == pytest.approx(2 * u + 2 * v, rel=1e-15)
    assert step.gradients["w"] == pytest.approx(2 * u * 3 + 2 * v * 2, rel=1e-15)


def test_several_loss_nodes_are_summed():
    problem = derive.Problem.build(
        inputs=["x"], targets=["y1", "y2"],
        nodes={"a": "w*x", "b": "v*x", "L1": "(a - y1)**2", "L2": "(b - y2)**2"}, loss=["L1", "L2"],
        params={"w": 1.0, "v": 2.0}, data={"x": [1.0], "y1": [0.0], "y2": [0.0]}, learning_rate=0.1)
    step = problem.train().steps[0]
    assert step.loss == pytest.approx(1.0 + 4.0)
    assert step.gradients == pytest.approx({"w": 2.0, "v": 4.0})


def test_frozen_parameter_is_held():
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"L": "(w*x + b - y)**2"}, loss="L",
        params={"w": 1.0, "b": 1.0}, data={"x": [1.0], "y": [0.0]}, learning_rate=0.1,
        training={"frozen": ("b",)})
    step = problem.train().steps[0]
    assert step.updated["b"] == 1.0
    assert step.updated["w"] == pytest.approx(1.0 - 0.1 * 2 * 2 * 1)


def test_local_partial_of_sigmoid_node_is_written_with_its_value():
    problem = derive.Problem.build(inputs=["x"], targets=[], nodes={"s": "sigmoid(w*x)", "L": "s"},
                                   loss="L", params={"w": 0.0}, data={"x": [1.0]}, learning_rate=1)
    s, x = symbol("s"), symbol("x")
    assert differentiate(problem).local[("s", "w")] == x * s * (1 - s)


def test_local_partials_are_written_with_the_nodes_they_contain():
    # Softmax written out: by hand, d p1/d z1 = p1 (1 - p1) and d p1/d z2 = -p1 p2; tanh's is 1 - h^2
    # and the sigmoid's F (1 - F), never the definition of a node expanded again.
    p1, p2, h, F = (symbol(n) for n in ("p1", "p2", "h", "F"))
    derivation = differentiate(derive.load(EXAMPLES / "softmax_three_classes.toml"))
    assert sympy.expand(derivation.local[("p1", "z1")] - p1 * (1 - p1)) == 0
    assert sympy.expand(derivation.local[("p1", "z2")] + p1 * p2) == 0
    assert sympy.expand(derivation.local[("p2", "z1")] + p1 * p2) == 0
    problem = derive.Problem.build(inputs=["x"], targets=["y"], nodes={"h": "tanh(w*x)", "F": "sigmoid(v*h)",
                                                                       "L": "(F - y)**2"},
                                   loss="L", params={"w": 0.5, "v": 0.5}, data={"x": [1.0], "y": [1.0]})
    local = differentiate(problem).local
    assert sympy.expand(local[("h", "w")] - (1 - h**2) * symbol("x")) == 0
    assert sympy.expand(local[("F", "h")] - F * (1 - F) * symbol("v")) == 0
    document = derive.render(derive.load(EXAMPLES / "softmax_three_classes.toml").train(), "markdown")
    step = document[document.index("**Local partial derivatives**"):document.index("**Chain rule**")]
    assert r"\frac{\partial p_{1}}{\partial z_{1}} &= p_{1} \left(1 - p_{1}\right) = 0.4030 \times \left(1 - 0.4030\right)" in step
    assert r"\frac{\partial p_{1}}{\partial z_{2}} &= - p_{1} p_{2} = " in step
    assert "e^{z_{1}}" not in step

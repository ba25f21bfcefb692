"""Expression strings: a whitelist over Python's ast; everything else is refused fast and clearly."""
from __future__ import annotations

import ast

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import hang_guard

from derive.errors import ExpressionError
from derive.model.expressions import parse
from derive.model.graph import symbol

NAMES = {n: symbol(n) for n in ("w1", "w2", "x1", "b", "y", "yhat")}


def test_accepts_the_documented_forms():
    w1, x1, b = NAMES["w1"], NAMES["x1"], NAMES["b"]
    assert parse("w1*x1 + b", NAMES) == w1 * x1 + b
    assert parse("-(w1 - 2)**2 / 4", NAMES) == -(w1 - 2) ** 2 / 4
    assert parse("exp(w1) + log(x1) + sqrt(b) + abs(w1) + tanh(b)", NAMES) == \
        sympy.exp(w1) + sympy.log(x1) + sympy.sqrt(b) + sympy.Abs(w1) + sympy.tanh(b)


@pytest.mark.parametrize("text,message", [
    ("w1.real", "attribute access is not allowed"),
    ("w1[0]", "subscripts are not allowed"),
    ("lambda: 1", "lambdas are not allowed"),
    ("[w1 for w1 in y]", "comprehensions are not allowed"),
    ("w1 if b else y", "conditionals are not allowed"),
    ("'text'", "strings are not allowed"),
    ("exp(x=w1)", "keyword arguments are not allowed"),
    ("__import__('os')", "unknown function '__import__'"),
    ("__class__", "the name '__class__' is not allowed"),
    ("w1 < b", "comparisons are not allowed"),
    ("w1 // 2", "the operator 'FloorDiv' is not allowed"),
    ("w1 = 2", "is not a valid expression"),
    ("", "the expression is empty"),
], ids=["attribute", "subscript", "lambda", "comprehension", "conditional", "string", "keyword", "dunder-call",
        "dunder-name", "comparison", "floordiv", "assignment", "empty"])
def test_refuses_what_is_not_a_formula(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text, NAMES)


def test_unknown_function_lists_the_known_ones_and_the_closest():
    with pytest.raises(ExpressionError) as info:
        parse("sigmod(w1)", NAMES)
    assert "Did you mean 'sigmoid'?" in str(info.value)
    assert "Known functions: abs, bce, elu, exp, gelu, huber, leaky_relu, log, log1p, logsumexp, mae, max, min, mse, relu, " \
           "sigmoid, softplus, sqrt, tanh." in str(info.value)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ExpressionError, match="unknown name 'yhta'. Did you mean 'yhat'?"):
        parse("yhta - y", NAMES)


@pytest.mark.parametrize("text,message", [
    ("w1 + " * 200_001 + "1", "characters long; the limit is 1000000"),
    ("(" * 150 + "w1" + ")" * 150 + "+" + "-" * 150 + "w1", "nests deeper than 100"),
    ("9**9**9**9", "is too large"),
    ("10**10**10 * w1", "is too large"),
    ("w1**w1", "exponents must be numbers"),
    ("(2**90)**90", "more than 300 digits"),
    ("(-1) ** (log(-1))", "has no real value"),
], ids=["length", "nesting", "tower", "power-of-power", "name-exponent", "digits", "complex-exponent"])
def test_limits_fail_fast(text, message):
    with hang_guard(), pytest.raises(ExpressionError, match=message):
        parse(text, NAMES)


def _guarded(text: str) -> None:
    with hang_guard():
        try:
            parse(text, NAMES)
            parse(text, NAMES, evaluate=False)
        except ExpressionError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="w1xby()+-*/.e 0123456789_[]'\"lambdaiforsqrtexpg,=<>", max_size=80))
def test_random_strings_raise_only_the_documented_error(text):
    _guarded(text)


LEAVES = st.one_of(st.sampled_from(["w1", "x1", "b", "y", "q", "__x"]),
                   st.integers(-1000, 1000).map(str), st.floats(-1e6, 1e6, allow_nan=False).map(repr))


def _combine(children):
    unary = st.tuples(st.sampled_from(["-", "+", "~", "not "]), children).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "%", "//", "@", "<", "and"]), children) \
        .map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    call = st.tuples(st.sampled_from(["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "eval", "open"]),
                     st.lists(children, max_size=2)).map(lambda t: f"{t[0]}({', '.join(t[1])})")
    other = st.tuples(children, st.sampled_from([".real", "[0]", " if 1 else 0"])).map(lambda t: f"({t[0]}){t[1]}")
    return st.one_of(unary, binary, call, other)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(LEAVES, _combine, max_leaves=25))
def test_random_syntax_trees_raise_only_the_documented_error(text):
    ast.parse(text, mode="eval")  # the strategy makes valid Python; the parser must still refuse safely
    _guarded(text)

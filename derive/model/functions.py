"""Every function an expression may call, declared once: its SymPy form, its derivative (with
PyTorch's value at kinks) and its float, exact and NumPy implementations.

The parser's whitelist, the layer activations, the three code-generation namespaces and the
README's function table are all read from REGISTRY. Adding a function is one `_add(...)` here
(and, when SymPy has no class for it, its class in derive/model/operators.py).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
from sympy import Heaviside, S
from sympy.codegen.cfunctions import log1p

from .operators import (bce, elu, gelu, huber, leaky_relu, logsumexp, mae, max_share, maximum, min_share,
                        minimum, mse, relu, sigmoid, softplus)


@dataclass(frozen=True)
class Entry:
    """One function.

    `build` makes the SymPy expression from the arguments (a class, or a builder that writes a
    named loss out in full); `cls` is the SymPy class generated code calls as `code` (None when
    the function is written with other functions). `call`, `meaning` and `derivative` are the
    README's row; `rule` names the step a derivation shows, and `in_terms_of_output` gives the
    derivative through the function's own value y where that is how it is taught. `rational`: a
    rational argument gives a rational value, so `exact = true` can use it. `public` functions
    may be written in expressions; the others appear only in derivatives and generated code, and
    the `written` ones among them may be written in a derivative (a derivation's result, a formula
    answer): heaviside(x) is 1 for x > 0, else 0.
    """

    name: str
    build: Callable[..., sympy.Expr]
    call: str
    meaning: str
    derivative: str
    rule: str
    cls: type | None = None
    code: str | None = None
    float: Callable | None = None
    exact: Callable | None = None
    numpy: Callable | None = None
    rational: bool = False
    activation: bool = False
    public: bool = True
    written: bool = False
    in_terms_of_output: str | None = None


# Float implementations (Python floats; a value outside the domain raises ValueError).

def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _heaviside(x, at_zero=0.0):
    return 1.0 if x > 0 else (at_zero if x == 0 else 0.0)


def _sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _share(pick, one):
    def share(a, *zs):
        top = pick(zs)
        return one / sum(1 for z in zs if z == top) if a == top else one * 0
    return share


def _logsumexp(*zs):
    top = max(zs)
    if math.isinf(top):
        return top
    return top + math.log(sum(math.exp(z - top) for z in zs))


def _real_power(base, exponent):
    """base**exponent for a non-integer exponent: a negative base has no real value."""
    if base < 0:
        raise ValueError("a negative number to a fractional power has no real value")
    return base ** exponent


def _exact_sqrt(x):
    if x < 0:
        raise ValueError("the square root of a negative number has no real value")
    return sympy.sqrt(x)


def _exact_log(x):
    if x <= 0:
        raise ValueError("log of a number that is not positive")
    return sympy.log(x)


# NumPy implementations (arrays of rows; out-of-domain values give nan or inf, never an exception).

def _np_share(pick):
    def share(a, *zs):
        top = functools.reduce(pick, zs)
        count = sum((z == top) * 1.0 for z in zs)
        return np.where(a == top, 1.0 / count, 0.0)
    return share


def _np_logsumexp(*zs):
    top = functools.reduce(np.maximum, zs)
    shift = np.where(np.isfinite(top), top, 0.0)
    return shift + np.log(sum(np.exp(z - shift) for z in zs))


_np_erf = np.vectorize(math.erf, otypes=[float])


def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


REGISTRY: dict[str, Entry] = {}


def _add(**fields) -> None:
    entry = Entry(**fields)
    REGISTRY[entry.name] = entry


_add(name="exp", build=sympy.exp, call="exp(x)", meaning="e^x", derivative="e^x", rule="exponential",
     cls=sympy.exp, code="_exp", float=math.exp, exact=sympy.exp, numpy=np.exp, in_terms_of_output="y")
_add(name="log", build=sympy.log, call="log(x)", meaning="natural logarithm", derivative="1/x", rule="logarithm",
     cls=sympy.log, code="_log", float=math.log, exact=_exact_log, numpy=np.log)
_add(name="log1p", build=log1p, call="log1p(x)", meaning="log(1 + x)", derivative="1/(1 + x)", rule="logarithm",
     cls=log1p, code="_log1p", float=math.log1p, exact=lambda x: _exact_log(1 + x), numpy=np.log1p)
_add(name="sqrt", build=sympy.sqrt, call="sqrt(x)", meaning="square root", derivative="1/(2 sqrt(x))",
     rule="power", code="_sqrt", float=math.sqrt, exact=_exact_sqrt, numpy=np.sqrt, in_terms_of_output="1/(2y)")
_add(name="abs", build=sympy.Abs, call="abs(x)", meaning="\\|x\\|", derivative="sign(x); 0 at x = 0",
     rule="absolute value", cls=sympy.Abs, code="_abs", float=abs, exact=abs, numpy=np.abs, rational=True)
_add(name="tanh", build=sympy.tanh, call="tanh(x)", meaning="hyperbolic tangent", derivative="1 − tanh(x)²",
     rule="tanh", cls=sympy.tanh, code="_tanh", float=math.tanh, exact=sympy.tanh, numpy=np.tanh,
     activation=True, in_terms_of_output="1 − y²")
_add(name="sigmoid", build=sigmoid, call="sigmoid(x)", meaning="1 / (1 + e^(−x))", derivative="σ(x)(1 − σ(x))",
     rule="sigmoid", cls=sigmoid, code="_sigmoid", float=_sigmoid, exact=lambda x: 1 / (1 + sympy.exp(-x)),
     numpy=_np_sigmoid, activation=True, in_terms_of_output="y(1 − y)")
_add(name="relu", build=relu, call="relu(x)", meaning="max(x, 0)", derivative="1 for x > 0, else 0 (0 at x = 0)",
     rule="relu", cls=relu, code="_relu", float=lambda x: x if x > 0 else 0.0,
     exact=lambda x: x if x > 0 else sympy.Integer(0), numpy=lambda x: np.maximum(x, 0.0), rational=True,
     activation=True)
_add(name="leaky_relu", build=leaky_relu, call="leaky_relu(x, slope)", meaning="x for x > 0, else slope·x",
     derivative="1 for x > 0, else slope (slope at x = 0)", rule="leaky relu", cls=leaky_relu, code="_leaky_relu",
     float=lambda x, slope: x if x > 0 else slope * x, exact=lambda x, slope: x if x > 0 else slope * x,
     numpy=lambda x, slope: np.where(x > 0, x, slope * x), rational=True)
_add(name="softplus", build=softplus, call="softplus(x)", meaning="log(1 + e^x)", derivative="σ(x)",
     rule="softplus", cls=softplus, code="_softplus", float=lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
     exact=lambda x: sympy.log(1 + sympy.exp(x)), numpy=lambda x: np.logaddexp(0.0, x), activation=True)
_add(name="elu", build=elu, call="elu(x)", meaning="x for x > 0, else e^x − 1 (alpha 1)",
     derivative="1 for x > 0, else e^x (1 at x = 0)", rule="elu", cls=elu, code="_elu",
     float=lambda x: x if x > 0 else math.expm1(x), exact=lambda x: x if x > 0 else sympy.exp(x) - 1,
     numpy=lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))), activation=True)
_add(name="gelu", build=gelu, call="gelu(x)", meaning="x·Φ(x) = x(1 + erf(x/√2))/2, PyTorch's exact form",
     derivative="Φ(x) + x·e^(−x²/2)/√(2π)", rule="gelu", cls=gelu, code="_gelu",
     float=lambda x: 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476)),
     exact=lambda x: x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2,
     numpy=lambda x: 0.5 * x * (1.0 + _np_erf(x * 0.7071067811865476)), activation=True)
_add(name="max", build=maximum, call="max(a, b, ...)", meaning="the largest argument",
     derivative="1 for the largest, else 0; a tie of k arguments gives each 1/k", rule="max", cls=maximum,
     code="_max", float=max, exact=max, numpy=lambda *zs: functools.reduce(np.maximum, zs), rational=True)
_add(name="min", build=minimum, call="min(a, b, ...)", meaning="the smallest argument",
     derivative="1 for the smallest, else 0; a tie of k arguments gives each 1/k", rule="min", cls=minimum,
     code="_min", float=min, exact=min, numpy=lambda *zs: functools.reduce(np.minimum, zs), rational=True)
_add(name="mse", build=mse, call="mse(yhat, y)", meaning="(yhat − y)²", derivative="2(yhat − y)",
     rule="written out", rational=True)
_add(name="mae", build=mae, call="mae(yhat, y)", meaning="\\|yhat − y\\|", derivative="sign(yhat − y); 0 at a tie",
     rule="written out", rational=True)
_add(name="bce", build=bce, call="bce(p, y)", meaning="−(y log p + (1 − y) log(1 − p))",
     derivative="−y/p + (1 − y)/(1 − p)", rule="written out")
_add(name="huber", build=huber, call="huber(yhat, y, delta)",
     meaning="½d² where \\|d\\| < delta, else delta(\\|d\\| − ½delta), d = yhat − y",
     derivative="d where \\|d\\| < delta, else delta·sign(d)", rule="written out", rational=True)
_add(name="logsumexp", build=logsumexp, call="logsumexp(z1, ..., zn)",
     meaning="log Σ e^(z_k), computed shifted by the largest z_k; softmax cross-entropy with one-hot targets "
             "is `logsumexp(z1, z2, z3) - (y1*z1 + y2*z2 + y3*z3)`",
     derivative="e^(z_k − logsumexp) (softmax)", rule="logsumexp", cls=logsumexp, code="_logsumexp",
     float=_logsumexp, exact=lambda *zs: sympy.log(sum(sympy.exp(z) for z in zs)), numpy=_np_logsumexp)
# Functions that appear only in derivatives (and, for the power, in generated code).
_add(name="heaviside", build=lambda x: Heaviside(x, 0), call="", meaning="step", derivative="0", rule="", cls=Heaviside,
     code="_heaviside", float=_heaviside,
     exact=lambda x, h0=0: sympy.Integer(1) if x > 0 else (sympy.sympify(h0) if x == 0 else sympy.Integer(0)),
     numpy=lambda x, h0=0.0: np.where(x > 0, 1.0, np.where(x == 0, h0, 0.0)), rational=True, public=False, written=True)
_add(name="sign", build=sympy.sign, call="", meaning="sign", derivative="0", rule="", cls=sympy.sign, code="_sign",
     float=_sign, exact=sympy.sign, numpy=np.sign, rational=True, public=False, written=True)
_add(name="erf", build=sympy.erf, call="", meaning="error function", derivative="2e^(−x²)/√π", rule="",
     cls=sympy.erf, code="_erf", float=math.erf, exact=sympy.erf, numpy=_np_erf, public=False, written=True)
_add(name="max_share", build=max_share, call="", meaning="tie share", derivative="0", rule="", cls=max_share,
     code="_max_share", float=_share(max, 1.0), exact=_share(max, S.One), numpy=_np_share(np.maximum), rational=True,
     public=False, written=True)
_add(name="min_share", build=min_share, call="", meaning="tie share", derivative="0", rule="", cls=min_share,
     code="_min_share", float=_share(min, 1.0), exact=_share(min, S.One), numpy=_np_share(np.minimum), rational=True,
     public=False, written=True)
_add(name="power", build=sympy.Pow, call="", meaning="a fractional power", derivative="", rule="power",
     code="_pow", float=_real_power, exact=_real_power, numpy=np.power, public=False)
_add(name="select", build=sympy.Piecewise, call="", meaning="a case", derivative="", rule="cases", code="_select",
     float=lambda condition, a, b: a if condition else b, exact=lambda condition, a, b: a if condition else b,
     numpy=np.where, rational=True, public=False)

FUNCTIONS: dict[str, Callable[..., sympy.Expr]] = {e.name: e.build for e in REGISTRY.values() if e.public}
ACTIVATIONS: tuple[str, ...] = (*(e.name for e in REGISTRY.values() if e.activation), "linear")
# What a derivative may be written with: the spec's functions and the written derivative-only ones.
DERIVATIVE_FUNCTIONS: dict[str, Callable[..., sympy.Expr]] = {e.name: e.build for e in REGISTRY.values()
                                                              if e.public or e.written}
BY_CLASS: dict[type, Entry] = {e.cls: e for e in REGISTRY.values() if e.cls is not None}


def helpers(kind: str) -> dict[str, Callable]:
    """The helpers generated code calls, by code name: kind is "float", "exact" or "numpy"."""
    return {e.code: getattr(e, kind) for e in REGISTRY.values() if e.code}


def readme_table() -> str:
    """The README's table of functions, one row per function that expressions may use."""
    rows = ["| function | meaning | derivative |", "|---|---|---|"]
    rows += [f"| `{e.call}` | {e.meaning} | {e.derivative} |" for e in REGISTRY.values() if e.public]
    return "\n".join(rows)


def not_rational(expr: sympy.Expr) -> str | None:
    """The first function in `expr` whose value at a rational argument is not rational (by its
    name in expressions), or None when exact arithmetic can evaluate the whole expression."""
    for sub in sympy.preorder_traversal(expr):
        if sub.is_Pow and not sub.exp.is_integer:
            return "sqrt" if sub.exp in (S.Half, -S.Half) else "a fractional power"
        entry = BY_CLASS.get(type(sub))
        if entry is not None and not entry.rational:
            return entry.name
    return None

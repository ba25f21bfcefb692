"""Straight-line Python source from SymPy assignments: the one compiler behind every kernel."""
from __future__ import annotations

import math
import types
from collections.abc import Sequence

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..model.functions import (numeric_elu, numeric_heaviside, numeric_leaky_relu, numeric_relu, numeric_sigmoid,
                        numeric_sign, numeric_softplus)


class FloatCodePrinter(PythonCodePrinter):
    """Prints float arithmetic with the math module and derive's activation helpers."""

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"_relu({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_leaky_relu(self, expr):
        return "_leaky_relu(%s, %s)" % tuple(self._print(a) for a in expr.args)

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

    def _print_elu(self, expr):
        return f"_elu({self._print(expr.args[0])})"

    def _print_sign(self, expr):
        return f"_sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)


class ExactCodePrinter(FloatCodePrinter):
    """Prints arithmetic on SymPy Rationals: fractions stay fractions."""

    def _print_Rational(self, expr):
        return f"_R({expr.p}, {expr.q})"

    def _print_Half(self, expr):
        return "_R(1, 2)"

    def _print_Float(self, expr):
        return "_R(%r)" % str(sympy.nsimplify(expr, rational=True))

    def _print_Integer(self, expr):
        return f"_R({expr.p})"

    def _print_Pow(self, expr, rational=False):
        base = self.parenthesize(expr.base, 60)
        if expr.exp.is_Integer:
            return f"{base}**{expr.exp.p}"
        return f"{base}**({self._print(expr.exp)})"


def _exact_sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


def _exact_relu(x):
    return x if x > 0 else sympy.Integer(0)


FLOAT_NAMESPACE = {"math": math, "_sigmoid": numeric_sigmoid, "_relu": numeric_relu,
                   "_sign": numeric_sign, "_heaviside": numeric_heaviside,
                   "_leaky_relu": numeric_leaky_relu, "_softplus": numeric_softplus, "_elu": numeric_elu}
EXACT_NAMESPACE = {
    "math": types.SimpleNamespace(exp=sympy.exp, log=sympy.log, sqrt=sympy.sqrt, tanh=sympy.tanh,
                                  log1p=lambda x: sympy.log(1 + x), pi=sympy.pi, e=sympy.E),
    "_sigmoid": _exact_sigmoid, "_relu": _exact_relu, "_sign": sympy.sign,
    "_R": sympy.Rational,
    "_heaviside": lambda x, h0=0: sympy.Integer(1) if x > 0 else (sympy.sympify(h0) if x == 0 else sympy.Integer(0)),
    "_leaky_relu": lambda x, slope: x if x > 0 else slope * x,
    "_softplus": lambda x: sympy.log(1 + sympy.exp(x)),
    "_elu": lambda x: x if x > 0 else sympy.exp(x) - 1,
}


def straight_line(assignments: Sequence[tuple[str, sympy.Expr]], exact: bool = False, shared: bool = True,
                  rounding: bool = False, temp_prefix: str = "_t") -> list[str]:
    """Python statements 'target = expression' for the assignments, in order.

    Every expression's free symbols must be arguments or earlier targets, each named by a valid
    Python identifier. With shared=True common subexpressions are computed once; with rounding,
    every assigned value is passed through _round as it is made.
    """
    # Terms are printed in the order they are held; sorting them costs time and changes nothing.
    printer = ExactCodePrinter({"order": "none"}) if exact else FloatCodePrinter({"order": "none"})
    if rounding:
        shared = False
        assignments = [(t, _Rounded(e)) for t, e in assignments]
    targets = [t for t, _ in assignments]
    exprs = [e for _, e in assignments]
    if not (shared and len(exprs) > 1):
        return [f"{t} = {printer.doprint(e)}" for t, e in zip(targets, exprs)]
    common, exprs = sympy.cse(exprs, symbols=sympy.numbered_symbols(temp_prefix), order="none")
    # A common subexpression may use a target assigned earlier, so emit each one just
    # before the first assignment that needs it, after the targets it uses.
    lines, pending = [], list(common)
    for target, expr in zip(targets, exprs):
        lines.extend(f"{t} = {printer.doprint(v)}" for t, v in _emit_needed(pending, expr.free_symbols))
        lines.append(f"{target} = {printer.doprint(expr)}")
    return lines


def namespace(exact: bool = False, rounding=None) -> dict:
    """The names generated code may call: math (or SymPy's exact functions) and derive's helpers."""
    names = dict(EXACT_NAMESPACE if exact else FLOAT_NAMESPACE)
    names["_round"] = rounding
    return names


def compile_source(source: str, name: str, names: dict):
    """Compile generated source (made from SymPy trees only, never from user text) and return `name`."""
    exec(compile(source, f"<derive {name}>", "exec"), names)
    function = names[name]
    function.source = source
    return function


def compile_function(name: str, arguments: Sequence[str], assignments: Sequence[tuple[str, sympy.Expr]],
                     results: Sequence[str], exact: bool = False, shared: bool = True,
                     prologue: Sequence[str] = (), rounding=None):
    """Compile `def name(*arguments)` that runs `assignments` in order and returns `results`;
    `prologue` lines (plain Python, made by derive) come first. See straight_line."""
    body = [*prologue, *straight_line(assignments, exact, shared, rounding is not None)]
    lines = [f"def {name}({', '.join(arguments)}):", *(f"    {line}" for line in body),
             f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})"]
    return compile_source("\n".join(lines) + "\n", name, namespace(exact, rounding))


class _Rounded(sympy.Function):
    """Marks an assigned value to be rounded to the digits shown; printed as _round(...)."""

    nargs = 1


def _print_rounded(self, expr):
    return f"_round({self._print(expr.args[0])})"


FloatCodePrinter._print__Rounded = _print_rounded


def _emit_needed(pending: list, needed: set) -> list:
    """Remove from `pending` and return, in order, the temporaries `needed` uses, with their own needs."""
    wanted = set(needed)
    for temp, value in reversed(pending):
        if temp in wanted:
            wanted |= value.free_symbols
    emitted = [(t, v) for t, v in pending if t in wanted]
    pending[:] = [(t, v) for t, v in pending if t not in wanted]
    return emitted


def _numpy_namespace():
    import numpy as np

    shim = types.SimpleNamespace(exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, log1p=np.log1p, pi=np.pi, e=np.e)

    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    return {"math": shim, "_sigmoid": sigmoid, "_relu": lambda x: np.maximum(x, 0.0),
            "_sign": np.sign,
            "_heaviside": lambda x, h0=0.0: np.where(x > 0, 1.0, np.where(x == 0, h0, 0.0)),
            "_leaky_relu": lambda x, slope: np.where(x > 0, x, slope * x),
            "_softplus": lambda x: np.logaddexp(0.0, x), "_elu": lambda x: np.where(x > 0, x, np.expm1(x)),
            "_R": lambda p, q=1: np.float64(p) / q, "_round": lambda x: x}


def recompile_for_numpy(function):
    """The same source run on NumPy float64 values: overflow gives inf, log(0) gives -inf, no exceptions."""
    namespace = _numpy_namespace()
    exec(compile(function.source, "<derive numpy>", "exec"), namespace)
    return namespace[function.__name__]

"""Straight-line Python source from SymPy assignments: the one compiler behind every kernel."""
from __future__ import annotations

import functools
import gc
import itertools
import linecache
import math
import operator
import types
from collections.abc import Sequence

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..model.functions import REGISTRY, helpers


LONG_SUM = 100


class FloatCodePrinter(PythonCodePrinter):
    """Prints float arithmetic: every registered function as a call to its helper (see
    derive.model.functions), the same source running on floats, Rationals or NumPy arrays."""

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Pow(self, expr, rational=False):
        exponent = expr.exp
        if exponent.is_Number and not exponent.is_Integer:
            base = self._print(expr.base)
            if exponent == sympy.S.Half:
                return f"_sqrt({base})"
            if exponent == -sympy.S.Half:
                return f"(1/_sqrt({base}))"
            return f"_pow({base}, {self._print(exponent)})"
        return self._print_integer_power(expr, rational)

    def _print_integer_power(self, expr, rational=False):
        return super()._print_Pow(expr, rational)

    def _print_Piecewise(self, expr):
        (value, _), *rest = expr.args
        if not rest:
            return self._print(value)
        return f"_select({self._print(expr.args[0].cond)}, {self._print(value)}, " \
               f"{self._print(sympy.Piecewise(*rest))})"

    def _print_Add(self, expr, order=None):
        """A long sum as sum((...)): Python's compiler recurses once per + of a chain."""
        if len(expr.args) <= LONG_SUM:
            return super()._print_Add(expr, order=order)
        return "sum((%s,))" % ", ".join(self._print(term) for term in self._as_ordered_terms(expr, order=order))

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)


def _call(code: str):
    def print_call(self, expr):
        return f"{code}({', '.join(self._print(a) for a in expr.args)})"
    return print_call


for _entry in REGISTRY.values():
    if _entry.cls is not None and f"_print_{_entry.cls.__name__}" not in vars(FloatCodePrinter):
        setattr(FloatCodePrinter, f"_print_{_entry.cls.__name__}", _call(_entry.code))


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

    def _print_integer_power(self, expr, rational=False):
        if expr.exp.is_Integer:
            # A product: SymPy's ** on a Rational asks its assumptions, some 200x the multiplications.
            return f"_ipow({self._print(expr.base)}, {expr.exp.p})"
        return f"{self.parenthesize(expr.base, 60)}**({self._print(expr.exp)})"


class BoundedCodePrinter(ExactCodePrinter):
    """Exact arithmetic in which every sum, product and whole power (_ipow) is a call that checks
    the size of the fraction it makes, so that fractions that double their digits at each operation stop
    within one step instead of running for hours."""

    def _print_Add(self, expr, order=None):
        return "_add(%s)" % ", ".join(self._print(term) for term in expr.args)

    def _print_Mul(self, expr):
        return "_mul(%s)" % ", ".join(self._print(factor) for factor in expr.args)


EXACT_DIGITS = 3000  # digits a fraction may reach while one step is worked (the steps' budget is 300)
_EXACT_BITS = int(EXACT_DIGITS * math.log2(10))


class ExactGrowth(ArithmeticError):
    """A fraction outgrew EXACT_DIGITS digits while a step was worked; `digits` is its size."""

    def __init__(self, digits: int):
        super().__init__(digits)
        self.digits = digits


def _bits(value) -> int:
    return max(abs(value.p), value.q).bit_length() if getattr(value, "is_Rational", False) else 0


def _sized(value):
    if _bits(value) > _EXACT_BITS:
        raise ExactGrowth(digits(max(abs(value.p), value.q)))
    return value


def digits(n: int) -> int:
    """The decimal digits of a whole number n > 0, without printing it (str() refuses beyond 4300)."""
    count = int((n.bit_length() - 1) * math.log10(2)) + 1
    return count + 1 if n >= 10 ** count else count


def _add(*terms):
    return _sized(functools.reduce(operator.add, terms))


def _mul(*factors):
    return _sized(functools.reduce(operator.mul, factors))


def _ipow(base, n: int):
    """base**n for an integer n, refused before it is computed when the fraction would outgrow the
    budget. A Rational is raised through its integers (SymPy's ** on a Rational asks its
    assumptions, some 200x the multiplications); anything else by multiplying."""
    bits = _bits(base)
    if bits > 1 and bits * abs(n) > _EXACT_BITS + 64:
        raise ExactGrowth(int((bits - 1) * abs(n) * math.log10(2)) + 1)
    if n == 0:
        return sympy.S.One
    if getattr(base, "is_Rational", False) and base != 0:
        p, q = (base.p, base.q) if n > 0 else (base.q, base.p)
        return _sized(sympy.Rational(p ** abs(n), q ** abs(n)))
    result = base
    for _ in range(abs(n) - 1):
        result = result * base
    return result if n > 0 else 1 / result


FLOAT_NAMESPACE = {"math": math, **helpers("float")}
EXACT_NAMESPACE = {"math": types.SimpleNamespace(pi=sympy.pi, e=sympy.E), "_R": sympy.Rational, **helpers("exact"),
                   "_add": _add, "_mul": _mul, "_ipow": _ipow}


def straight_line(assignments: Sequence[tuple[str, sympy.Expr]], exact: bool = False, shared: bool = True,
                  rounding: bool = False, temp_prefix: str = "_t") -> list[str]:
    """Python statements 'target = expression' for the assignments, in order.

    Every expression's free symbols must be arguments or earlier targets, each named by a valid
    Python identifier. With shared=True common subexpressions are computed once; with rounding,
    every assigned value is passed through _round as it is made.
    """
    # Terms are printed in the order they are held; sorting them costs time and changes nothing.
    kind = FloatCodePrinter if not exact else ExactCodePrinter if rounding else BoundedCodePrinter
    printer = kind({"order": "none"})
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


def collection_paused(function):
    """`function` run with Python's cycle collector paused (and resumed after, if it was running).
    Deriving and compiling a model makes hundreds of thousands of SymPy objects that hold no
    cycles; each full collection would walk every object the process holds, so the collector's
    passes grew with the size of the program around the model, not with the model."""
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return paused


_compiled = itertools.count(1)


def compile_source(source: str, name: str, names: dict):
    """Compile generated source (made from SymPy trees only, never from user text) and return `name`.
    The source is registered with linecache under its own file name, so a traceback shows its lines."""
    filename = f"<derive {name} {next(_compiled)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), names)
    function = names[name]
    function.source = source
    return function


def compile_function(name: str, arguments: Sequence[str], assignments: Sequence[tuple[str, sympy.Expr]],
                     results: Sequence[str], exact: bool = False, shared: bool = True, rounding=None):
    """Compile `def name(*arguments)` that runs `assignments` in order and returns `results`
    (see straight_line)."""
    body = straight_line(assignments, exact, shared, rounding is not None)
    lines = [f"def {name}({', '.join(arguments)}):", *(f"    {line}" for line in body),
             f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})"]
    return compile_source("\n".join(lines) + "\n", name, namespace(exact, rounding))


def unpack(array: str, names: list[str]) -> list[str]:
    """A statement that unpacks a tuple argument into named locals."""
    return [f"{', '.join(names)}, = {array}"] if names else []


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

    return {"math": types.SimpleNamespace(pi=np.pi, e=np.e), "_R": lambda p, q=1: np.float64(p) / q,
            "_round": lambda x: x, "_add": lambda *terms: functools.reduce(operator.add, terms),
            "_mul": lambda *factors: functools.reduce(operator.mul, factors), "_ipow": lambda base, n: base ** n,
            **helpers("numpy")}


def numpy_function(source: str, name: str):
    """Generated source (float or exact) run on NumPy float64 values: overflow gives inf, log(0)
    gives -inf, no exceptions."""
    return compile_source(source, name, _numpy_namespace())


def recompile_for_numpy(function):
    """The same source as a compiled function, run on NumPy float64 values (see numpy_function)."""
    return numpy_function(function.source, function.__name__)

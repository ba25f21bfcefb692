"""The activation functions derive adds to SymPy, with PyTorch's derivatives at kinks."""
from __future__ import annotations

import math

import sympy
from sympy import Function, Heaviside, S


class _Operator(Function):
    """A function printed in LaTeX as its `tex` name applied to its arguments."""

    tex = r"\operatorname{f}"

    def _latex(self, printer, exp=None):
        tex = r"%s\left(%s\right)" % (self.tex, ", ".join(printer._print(a) for a in self.args))
        return tex if exp is None else r"%s^{%s}" % (tex, exp)


class sigmoid(_Operator):
    """The logistic function 1 / (1 + e^(-x)); its derivative is sigmoid(x) (1 - sigmoid(x))."""

    nargs = 1
    tex = r"\sigma"

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, arg):
        if arg.is_Number and arg.is_zero:  # structural: asking a long sum is_zero is slow
            return S.Half
        return None

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sympy.exp(-arg))



class relu(_Operator):
    """max(x, 0); its derivative is 1 for x > 0 and 0 otherwise (PyTorch: relu'(0) = 0)."""

    nargs = 1
    tex = r"\operatorname{relu}"

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return sympy.Max(arg, 0)
        return None

    def _eval_rewrite_as_Max(self, arg, **kwargs):
        return sympy.Max(arg, 0)



def numeric_sigmoid(x: float) -> float:
    """Evaluate the logistic function without overflow for large negative x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def numeric_relu(x: float) -> float:
    return x if x > 0 else 0.0


def numeric_sign(x: float) -> float:
    """sign(x) with sign(0) = 0, the derivative PyTorch gives |x| at 0."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


class leaky_relu(_Operator):
    """x for x > 0, else slope * x; its derivative at 0 is the slope, as in PyTorch."""

    nargs = 2
    tex = r"\operatorname{leaky\_relu}"

    def fdiff(self, argindex=1):
        x, slope = self.args
        if argindex == 2:
            return sympy.Min(x, 0)
        step = Heaviside(x, 0)
        return step + slope * (1 - step)



class softplus(_Operator):
    """log(1 + e^x), computed without overflow; its derivative is sigmoid(x)."""

    nargs = 1
    tex = r"\operatorname{softplus}"

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return sympy.log(1 + sympy.exp(arg))



class elu(_Operator):
    """x for x > 0, else e^x - 1 (alpha = 1); its derivative is 1 for x > 0, else e^x."""

    nargs = 1
    tex = r"\operatorname{elu}"

    def fdiff(self, argindex=1):
        x = self.args[0]
        step = Heaviside(x, 0)
        return step + (1 - step) * sympy.exp(x)



def numeric_softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def numeric_elu(x: float) -> float:
    return x if x > 0 else math.expm1(x)


def numeric_leaky_relu(x: float, slope: float) -> float:
    return x if x > 0 else slope * x


def numeric_heaviside(x: float, at_zero: float = 0.0) -> float:
    """The step function with its value at 0 given (0 for relu', 1/2 for max and min at ties)."""
    return 1.0 if x > 0 else (at_zero if x == 0 else 0.0)

"""The SymPy classes of the functions SymPy lacks (sigmoid, relu, ..., logsumexp), each with its
derivative (PyTorch's value at kinks) and LaTeX, and the named losses written out in full.

derive.model.functions registers each of them once, with its float, exact and NumPy code.
"""
from __future__ import annotations

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


class leaky_relu(_Operator):
    """x for x > 0, else slope * x; its derivative at 0 is the slope, as in PyTorch."""

    nargs = 2
    tex = r"\operatorname{leaky\_relu}"

    def fdiff(self, argindex=1):
        x, slope = self.args
        if argindex == 2:
            return minimum(x, 0)  # the registry's min: NumPy code takes it row by row
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


class gelu(_Operator):
    """x Phi(x) with Phi the standard normal CDF, written with erf as PyTorch's exact GELU."""

    nargs = 1
    tex = r"\operatorname{gelu}"

    def fdiff(self, argindex=1):
        x = self.args[0]
        return (1 + sympy.erf(x / sympy.sqrt(2))) / 2 + x * sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi)

    @classmethod
    def eval(cls, arg):
        if arg.is_Number and arg.is_zero:
            return S.Zero
        return None


class _Extreme(_Operator):
    """The largest (or smallest) of any number of arguments; at a tie the derivative is split
    evenly among the tied arguments, as PyTorch's max and min split it."""

    share: type

    @classmethod
    def eval(cls, *args):
        if not args:
            raise TypeError("at least one argument is needed")
        if len(args) == 1:
            return args[0]
        if all(a.is_Number for a in args):
            return cls._pick(args)
        return None

    def fdiff(self, argindex=1):
        return self.share(self.args[argindex - 1], *self.args)


class maximum(_Extreme):
    tex = r"\max"
    _pick = staticmethod(max)


class minimum(_Extreme):
    tex = r"\min"
    _pick = staticmethod(min)


class _TieShare(Function):
    """d extreme(z1..zn) / d a: 1/k when a is one of the k arguments equal to the extreme, else 0."""

    extreme: type
    word: str

    def _latex(self, printer, exp=None):
        a, *zs = (printer._print(arg) for arg in self.args)
        tex = (r"\frac{\mathbf{1}\left[%s = %s\left(%s\right)\right]}{\left|\operatorname{%s}\left(%s\right)\right|}"
               % (a, self.extreme.tex, ", ".join(zs), self.word, ", ".join(zs)))
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


class max_share(_TieShare):
    extreme, word = maximum, "argmax"


class min_share(_TieShare):
    extreme, word = minimum, "argmin"


maximum.share, minimum.share = max_share, min_share


class logsumexp(_Operator):
    """log(e^z1 + ... + e^zn), computed shifted by the largest z as PyTorch does; its derivative by
    z_k is softmax: e^(z_k - logsumexp(z))."""

    def _latex(self, printer, exp=None):
        tex = r"\log\left(%s\right)" % " + ".join(printer._print(sympy.exp(a, evaluate=False)) for a in self.args)
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    @classmethod
    def eval(cls, *args):
        if not args:
            raise TypeError("at least one argument is needed")

    def fdiff(self, argindex=1):
        return sympy.exp(self.args[argindex - 1] - self)


def _loss(build):
    """A named loss written out in full with other functions, so that reports show its definition."""
    def function(*args, evaluate=True):
        return build(*args)

    function.__name__ = build.__name__
    return function


@_loss
def mse(yhat, y):
    return (yhat - y) ** 2


@_loss
def mae(yhat, y):
    return sympy.Abs(yhat - y)


@_loss
def bce(p, y):
    return -(y * sympy.log(p) + (1 - y) * sympy.log(1 - p))


@_loss
def huber(yhat, y, delta):
    d = yhat - y
    return sympy.Piecewise((d**2 / 2, sympy.Abs(d) < delta), (delta * (sympy.Abs(d) - delta / 2), True))

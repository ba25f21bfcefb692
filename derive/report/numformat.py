"""How numbers are shown: decimal places or significant figures, rounding half up, exact fractions.

A computed value is rounded half up to `precision` decimal places, or to `precision` significant
figures where that keeps more digits (small values), or to `significant` figures when that is set;
it is shown with all its digits (0.3690). A given number (data, a starting value, a setting) is
shown as given."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import sympy


def to_decimal(value) -> Decimal:
    """The shortest decimal that reads back as `value` (floats), or the exact value (Rationals)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, sympy.Integer)):
        return Decimal(int(value))
    if isinstance(value, sympy.Rational):
        if _terminates(value.q):
            return (Decimal(value.p) * (Decimal(10) ** 60 / Decimal(value.q))).scaleb(-60).normalize()
        return Decimal(value.p) / Decimal(value.q)
    if isinstance(value, sympy.Basic):
        if value.is_extended_real is False or value.is_finite is False or value.has(sympy.nan, sympy.zoo):
            return Decimal("NaN") if value.is_extended_real is not True else Decimal(str(value).replace("oo", "Infinity"))
        return Decimal(str(sympy.N(value, 30)))
    return Decimal(repr(float(value)))


@dataclass(frozen=True)
class NumberFormat:
    """Decimal places (`precision`, at least as many significant figures) or, when set, exactly
    `significant` significant figures; `exact`: Rationals shown as fractions."""

    precision: int = 4
    significant: int | None = None
    exact: bool = False

    def places(self, d: Decimal) -> int:
        """The decimal places a (finite, nonzero) value is rounded to."""
        if self.significant is not None:
            return self.significant - 1 - d.adjusted()
        return max(self.precision, max(self.precision, 1) - 1 - d.adjusted())

    def round(self, value) -> Decimal:
        """`value` rounded half up to the digits shown."""
        d = to_decimal(value)
        if not d.is_finite() or d == 0:
            return d
        places = self.places(d)
        with localcontext() as context:
            context.prec = max(28, d.adjusted() + places + 2)  # 1e100 at 4 decimal places has 105 digits
            return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    def rounded(self, value):
        """The shown value as a number of the same kind: a Rational in exact arithmetic, else a float."""
        d = self.round(value)
        if not d.is_finite():
            return value
        if isinstance(value, sympy.Basic):
            return sympy.Rational(*d.as_integer_ratio())
        return float(d)

    def text(self, value) -> str:
        """Plain text of a computed value, e.g. '-0.1160', '4.4775', '6.144e-6', '81/8'."""
        return self._shown(value, str, "{}e{}".format)

    def latex(self, value) -> str:
        """LaTeX of a computed value, e.g. '-0.1160', '6.144 \\times 10^{-6}', '\\frac{81}{8}'."""
        return self._shown(value, _fraction, _latex_power)

    def given_text(self, value) -> str:
        """Plain text of a number as it was given (data, a starting value, a setting): its shortest
        decimal, or a fraction in exact reports; 10 significant figures where it has more."""
        return self._given(value, str, "{}e{}".format)

    def given_latex(self, value) -> str:
        """LaTeX of a number as it was given (see given_text)."""
        return self._given(value, _fraction, _given_latex_power)

    def _shown(self, value, fraction, power) -> str:
        if type(value) is float and self.significant is None:
            fast = _fixed(value, self.precision)
            if fast is not None:
                return fast
        if self.exact and isinstance(value, sympy.Rational):
            return fraction(value)
        mantissa, exponent = self._parts(value)
        return mantissa if exponent is None else power(mantissa, exponent)

    def _given(self, value, fraction, power) -> str:
        if self.exact and isinstance(value, sympy.Rational):
            return fraction(value)
        mantissa, exponent = _given_float(value) if type(value) is float else _given_parts(value)
        return mantissa if exponent is None else power(mantissa, exponent)

    def describe(self) -> str:
        """The rounding rule in words, e.g. '4 decimal places (4 significant figures below 0.1)'."""
        def count(n, unit):
            return f"{n} {unit}{'s' if n != 1 else ''}"
        if self.significant is not None:
            return count(self.significant, "significant figure")
        if self.precision == 0:
            return "whole numbers (1 significant figure below 1)"
        return f"{count(self.precision, 'decimal place')} ({count(self.precision, 'significant figure')} below 0.1)"

    def _parts(self, value) -> tuple[str, int | None]:
        d = self.round(value)
        if d.is_nan():
            return "\\text{NaN}", None
        if d.is_infinite():
            return ("-" if d < 0 else "") + "\\infty", None
        if d == 0:
            return "0", None
        places = self.places(d)
        exponent = d.adjusted()
        if self.significant is not None and d == d.to_integral_value() and exponent < self.significant:
            return format(d.to_integral_value(), "f"), None  # 6, not 6.000000: a whole number is exact
        if exponent < -4 or exponent >= (6 if self.significant is not None else 15):
            # Beyond 10^15 (a run diverging) the mantissa keeps 15 digits.
            digits = min(max(0, places + exponent), 14)
            mantissa = d.scaleb(-exponent).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
            return format(mantissa, "f"), exponent
        return format(d, "f"), None


@functools.lru_cache(maxsize=65536)
def _given_float(value: float) -> tuple[str, int | None]:
    """_given_parts of a float, made once for each value (data and settings recur step after step)."""
    return _given_parts(value)


def _given_parts(value) -> tuple[str, int | None]:
    if value == 0:
        return "0", None
    if type(value) is float and math.isfinite(value) and "e" not in repr(value):
        return repr(value).removesuffix(".0"), None  # a float's shortest decimal is the number as given
    d = NumberFormat(significant=10).round(value)
    if not d.is_finite():
        return NumberFormat(significant=10)._parts(value)
    if d == 0:
        return "0", None
    exponent = d.adjusted()
    if exponent < -4 or exponent >= 10:
        return _plain(d.scaleb(-exponent)), exponent
    return _plain(d), None


def _latex_power(mantissa: str, exponent: int) -> str:
    return rf"{mantissa} \times 10^{{{exponent}}}"


def _given_latex_power(mantissa: str, exponent: int) -> str:
    """A given power of ten as itself (10^{-8}), any other mantissa times its power."""
    return rf"10^{{{exponent}}}" if mantissa == "1" else _latex_power(mantissa, exponent)


def latex_form(numbers: NumberFormat):
    """numbers.latex as one function, quick for floats at decimal places (see _fixed)."""
    if numbers.significant is not None:
        return numbers.latex
    precision, latex = numbers.precision, numbers.latex

    def form(value) -> str:
        if type(value) is float:
            fast = _fixed(value, precision)
            if fast is not None:
                return fast
        return latex(value)
    return form


def given_form(numbers: NumberFormat):
    """numbers.given_latex, each value written once (given numbers recur step after step)."""
    return functools.lru_cache(maxsize=65536, typed=True)(numbers.given_latex)


def _fraction(value: sympy.Rational) -> str:
    if value.q == 1:
        return str(value.p)
    sign = "-" if value < 0 else ""
    return rf"{sign}\frac{{{abs(value.p)}}}{{{value.q}}}"


@functools.lru_cache(maxsize=65536)
def _fixed(value: float, precision: int) -> str | None:
    """A computed float as shown at `precision` decimal places (at least `precision` significant
    figures), by float formatting where that agrees with rounding its shortest decimal half up;
    None defers to Decimal: on a tie in the last place kept (0.00015 is 1.4999...e-4 in binary),
    where a float's spacing is not well below that place, and where the number is shown with an
    exponent (below 1e-4) or is not finite.

    Float formatting rounds the binary value, the report its shortest decimal, which is within
    half a unit in the last place of it; a tie between the two would be a shorter decimal that
    reads back as the same float, so they round alike unless the shortest decimal is the tie."""
    text = repr(value)
    if "e" in text or "n" in text:
        return None
    whole, _, digits = text.lstrip("-").partition(".")
    places = precision
    if whole == "0":
        zeros = len(digits) - len(digits.lstrip("0"))  # the value's exponent is -(zeros + 1)
        if zeros >= 4:
            return None
        places = max(precision, max(precision, 1) + zeros)
    if len(digits) == places + 1 and digits[-1] == "5":
        return None
    if math.ulp(value) > 0.1 ** (places + 1):  # a shortest decimal on the grid may hide a tie
        return None
    fixed = f"{value:.{places}f}"
    return "0" if float(fixed) == 0 else fixed


def _terminates(q: int) -> bool:
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def _plain(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros: '0.8294', '-0.116', '4', '0'."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number_format(settings) -> NumberFormat:
    """The format a report's [report] settings ask for (ReportSettings)."""
    return NumberFormat(settings.precision, settings.significant, settings.exact)

"""How numbers are shown: decimal places or significant figures, rounding half up, exact fractions."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
    """Decimal places (`precision`) or, when set, significant figures (`significant`)."""

    precision: int = 4
    significant: int | None = None
    exact: bool = False
    as_held: bool = False  # carry = "rounded": values are held as shown, so show them as held

    def shown(self, value) -> Decimal:
        """The decimal a value is shown as: rounded, except a held terminating decimal, shown whole
        (a given number such as w1 = -0.017 keeps its digits; computed ones were rounded when made)."""
        if self.as_held and isinstance(value, sympy.Rational) and _terminates(value.q):
            return to_decimal(value)
        return self.round(value)

    def round(self, value) -> Decimal:
        """`value` rounded half up to the digits shown."""
        d = to_decimal(value)
        if not d.is_finite() or d == 0:
            return d
        if self.significant is not None:
            exponent = d.adjusted() - self.significant + 1
            return d.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
        try:
            return d.quantize(Decimal(1).scaleb(-self.precision), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return d

    def rounded(self, value):
        """The shown value as a number of the same kind: a Rational in exact arithmetic, else a float."""
        d = self.round(value)
        if not d.is_finite():
            return value
        if isinstance(value, sympy.Basic):
            return sympy.Rational(str(d))
        return float(d)

    def text(self, value) -> str:
        """Plain text, e.g. '-0.116', '4.4775', '6.144e-06', '81/8'."""
        if self.exact and isinstance(value, sympy.Rational):
            return str(value)
        mantissa, exponent = self._parts(value)
        return mantissa if exponent is None else f"{mantissa}e{exponent}"

    def latex(self, value) -> str:
        """LaTeX, e.g. '-0.116', '6.144 \\times 10^{-6}', '\\frac{81}{8}'."""
        if type(value) is float and self.significant is None and not self.as_held:
            fast = _fixed(value, self.precision) if math.isfinite(value) else None
            if fast is not None:
                return fast
        if self.exact and isinstance(value, sympy.Rational):
            if value.q == 1:
                return str(value.p)
            sign = "-" if value < 0 else ""
            return rf"{sign}\frac{{{abs(value.p)}}}{{{value.q}}}"
        mantissa, exponent = self._parts(value)
        return mantissa if exponent is None else rf"{mantissa} \times 10^{{{exponent}}}"

    def _parts(self, value) -> tuple[str, int | None]:
        if isinstance(value, float) and self.significant is None and math.isfinite(value):
            fast = _fixed(float(value), self.precision)
            if fast is not None:
                return fast, None
        d = self.shown(value)
        if d.is_nan():
            return "\\text{NaN}", None
        if d.is_infinite():
            return ("-" if d < 0 else "") + "\\infty", None
        if d == 0:
            return "0", None
        exponent = d.adjusted()
        if self.significant is not None and (exponent < -4 or exponent >= 6):
            digits = d.scaleb(-exponent)
            return _plain(digits), exponent
        return _plain(d), None


@functools.lru_cache(maxsize=65536)
def _fixed(value: float, places: int) -> str | None:
    """Decimal places by float formatting, when that agrees with rounding the shortest decimal half up:
    not on a tie in the last place (0.00015 is 1.4999...e-4 in binary), where None defers to Decimal."""
    text = repr(value)
    if "e" in text or "n" in text:
        return None
    digits = text.partition(".")[2]
    if len(digits) == places + 1 and digits[-1] == "5":
        return None
    fixed = f"{value:.{places}f}"
    if "." in fixed:
        fixed = fixed.rstrip("0").rstrip(".")
    return "0" if fixed in ("-0", "") else fixed


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
    return NumberFormat(settings.precision, settings.significant, settings.exact,
                        as_held=settings.carry == "rounded" and not settings.exact)

"""Numbers as students write them: the exact value, the place of the last digit written, and
comparison at a place by rounding half up."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

_FRACTION = re.compile(r"^\s*([-+]?\d+)\s*/\s*(\d+)\s*$")
_DECIMAL = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class Given:
    """One number as written: `value` exactly, `place` the power of ten of its last digit
    (0.116 -> -3, 18 -> 0), None for a fraction such as "7/2", which is exact."""

    value: Fraction
    place: int | None
    text: str

    def as_json(self):
        """A JSON number where one can hold the value, else the text as written."""
        number = float(self.value)
        return number if self.place is not None and math.isfinite(number) and abs(number) < 1e300 else self.text


def read_number(value) -> Given | None:
    """A Given from a TOML value (read with Decimal floats), None for a blank (""), or raise
    ValueError with the reason."""
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    if isinstance(value, int):
        return Given(Fraction(value), 0, str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        return Given(Fraction(value), value.as_tuple().exponent, str(value))
    if isinstance(value, str):
        if not value.strip():
            return None
        match = _FRACTION.match(value)
        if match:
            if int(match.group(2)) == 0:
                raise ValueError("a fraction over 0")
            return Given(Fraction(int(match.group(1)), int(match.group(2))), None, value.strip().replace(" ", ""))
        if _DECIMAL.match(value):
            return read_number(Decimal(value.strip()))
    raise ValueError("not a number")


def exact(value) -> Fraction:
    """A computed value as a Fraction: a SymPy Rational exactly; a float to 12 significant
    figures, which drops the rounding noise of binary arithmetic (2 - 2.8 is -0.7999999999999998
    in floating point, and -0.8 by hand)."""
    if isinstance(value, Fraction):
        return value
    if hasattr(value, "p") and hasattr(value, "q"):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(Decimal(format(float(value), ".12g")))


def rounded(value: Fraction, place: int) -> Fraction:
    """`value` rounded half up (away from zero at a tie) to a multiple of 10**place."""
    unit = Fraction(10) ** place
    units = abs(value) / unit
    whole = units.numerator // units.denominator
    if units - whole >= Fraction(1, 2):
        whole += 1
    return (whole if value >= 0 else -whole) * unit


def leading_place(value: Fraction) -> int:
    """The power of ten of the first significant digit of a nonzero value (0.0473 -> -2)."""
    with localcontext() as context:
        context.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).adjusted()


def agrees(given: Given, target: Fraction, place: int | None) -> bool:
    """True when `target` rounded to the place the student wrote to is what they wrote; for an
    exact fraction, when it equals `target` rounded to `place` (or exactly, with no place)."""
    if given.value == target:
        return True
    if given.place is None:
        return place is not None and rounded(given.value, place) == rounded(target, place)
    # Digits written far beyond the first significant digit of the target compare as the target's own.
    if target != 0 and given.place < leading_place(target) - 60:
        return False
    return rounded(target, given.place) == given.value

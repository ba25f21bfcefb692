"""Formula text made once per quantity: the symbolic form, and a slot template filled with numbers per step."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy
from sympy.printing.latex import LatexPrinter

_SLOT = "\x00"
_TOKEN = re.compile("\x00(\\d+)\x00")
# A slot standing here needs no parentheses even for a negative number: at the start of the
# formula or of a group ({, \left(, \left[, a comma), unless it is a factor or the base of a power.
_GROUP_START = re.compile(r"(^|\{|\\left\(|\\left\[|,)\s*$")


def node_first(expr: sympy.Mul) -> list[sympy.Expr] | None:
    """The factors of a product with a factor written just before the sum it appears in, as taught:
    sigma (1 - sigma), F (1 - F), x p (1 - p), never (1 - F) F or p x (1 - p); None when the product
    has no such pair (or a sign or a denominator, which the printers place themselves)."""
    if expr.could_extract_minus_sign():
        return None
    factors = expr.as_ordered_factors()
    if any(f.is_Pow and f.exp.is_negative for f in factors):
        return None
    pair = next(((a, f) for a in factors if a.is_Add for f in factors
                 if f is not a and not f.is_Number and (f in a.args or -f in a.args)), None)
    if pair is None:
        return None
    sum_, factor = pair
    if factors.index(factor) == factors.index(sum_) - 1:
        return None
    factors.remove(factor)
    factors.insert(factors.index(sum_), factor)
    return factors


class DisplayPrinter(LatexPrinter):
    """LaTeX as a teacher writes it: positive terms first, relu' as an indicator."""

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if (order or self.order) == "none":
            return terms
        return sorted(terms, key=lambda term: term.could_extract_minus_sign())

    def parenthesize_super(self, s):
        """A power of a name written as a fraction (dL/dw) needs parentheses, as one with a superscript does."""
        if s.startswith(r"\frac") or "^" in s:
            return r"\left(%s\right)" % s
        return s

    def _print_Mul(self, expr):
        factors = node_first(expr) if self.order != "none" else None
        if factors is None:
            return super()._print_Mul(expr)
        last = len(factors) - 1
        return self._settings["mul_symbol_latex"].join(
            r"\left(%s\right)" % self._print(f) if self._needs_mul_brackets(f, first=i == 0, last=i == last)
            else self._print(f) for i, f in enumerate(factors))

    def _print_Heaviside(self, expr, exp=None):
        tex = r"\mathbf{1}\left[%s > 0\right]" % self._print(expr.args[0])
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


class SlotPrinter(DisplayPrinter):
    """Prints every symbol as a numbered slot and records which symbol each slot holds."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.slots: list[sympy.Symbol] = []

    def _print_Symbol(self, expr, style="plain"):
        self.slots.append(expr)
        return f"{_SLOT}{len(self.slots) - 1}{_SLOT}"


@dataclass(frozen=True)
class Slot:
    symbol: sympy.Symbol
    parens: bool  # a negative number here is written in parentheses
    power_base: bool  # the slot is raised to a power: a fraction needs parentheses too


@dataclass(frozen=True)
class Template:
    """The formula with numbers: a format string with one field per slot."""

    pattern: str
    slots: tuple[Slot, ...]


def symbolic(expr: sympy.Expr, names: Mapping[sympy.Symbol, str], as_written: bool = False,
             mul_symbol: str | None = None) -> str:
    """The formula with names, e.g. 'w_{1} x_{1} + w_{2} x_{2} + b'."""
    printer = DisplayPrinter({"symbol_names": dict(names), "order": "none" if as_written else None,
                              "mul_symbol": mul_symbol})
    return printer.doprint(expr)


def template(expr: sympy.Expr, as_written: bool = False) -> Template:
    """The slot template of a formula: every operation between numbers explicit (×)."""
    printer = SlotPrinter({"order": "none" if as_written else None, "mul_symbol": "times"})
    text = printer.doprint(expr)
    pieces, slots = [], []
    position = 0
    for match in _TOKEN.finditer(text):
        before = text[position:match.start()]
        pieces.append(before.replace("{", "{{").replace("}", "}}"))
        pieces.append("{%d}" % len(slots))
        after = text[match.end():].lstrip()
        power_base = after.startswith("^")
        factor = after.startswith(r"\times")
        bare = _GROUP_START.search(text[:match.start()]) is not None and not power_base and not factor
        slots.append(Slot(printer.slots[int(match.group(1))], not bare, power_base))
        position = match.end()
    pieces.append(text[position:].replace("{", "{{").replace("}", "}}"))
    return Template("".join(pieces), tuple(slots))

"""How each quantity's numbers are written: numbers from the spec as given, computed ones at the
report's digits (a line's result with its [report.overrides] decimals), in parentheses where the
formula needs them. Each way of writing is one function, made once per quantity and kept."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import sympy

from ..engine.derivation import delta_symbol, local_symbol
from ..engine.optimizers import ETA, T
from ..model.graph import symbol
from .numformat import given_form, latex_form, number_format

_PLAIN = re.compile(r"\d+(\.\d+)?")


class NumberForms:
    """The forms of a problem's quantities, by symbol."""

    def __init__(self, problem, derivation, hyper: Mapping, gradient_symbol: Callable[[str], sympy.Symbol]):
        graph = problem.graph
        self.number_format = number_format(problem.report)
        # Numbers shown as given: the data, the settings, and a parameter while it holds its starting value.
        self.given = {ETA, T, *hyper, *(symbol(c) for c in graph.columns)}
        self.initial = {symbol(p): problem.initial[p] for p in graph.params}
        self.initial.update({sympy.Symbol(f"{p}'"): problem.initial[p] for p in graph.params})
        # A local partial that is a bare name or number is shown as that name's value is.
        self.alias = {local_symbol(n, p): e for (n, p), e in derivation.local.items() if e.is_Symbol or e.is_Number}
        # [report.overrides]: a name's decimals apply to the result of its own line, of dL/d(name)
        # and of the parameter's update; substitutions keep the report's.
        self.overrides = {}
        for name, places in problem.report.overrides.items():
            fmt = replace(self.number_format, precision=places, significant=None)
            for s in (symbol(name), delta_symbol(name), gradient_symbol(name), sympy.Symbol(f"{name}'")):
                self.overrides[s] = fmt
        self._as_given = given_form(self.number_format)
        self._as_given_text = functools.lru_cache(maxsize=65536, typed=True)(self.number_format.given_text)
        self._forms: dict = {}

    def _resolve(self, symbol_) -> tuple[bool, object, object]:
        """(always given, the symbol it stands for, its starting value) of a quantity's symbol."""
        resolved = self.alias.get(symbol_, symbol_)
        given = resolved in self.given or getattr(resolved, "is_Number", False)
        return given, resolved, self.initial.get(resolved)

    def is_given(self, value, symbol_: sympy.Symbol | None, starts: Mapping | None = None) -> bool:
        """Whether a value is a number from the spec: data, a setting, a parameter's starting value
        (`starts` adds starting values by symbol, e.g. for the generic theta of an update)."""
        given, resolved, start = self._resolve(symbol_)
        if starts and resolved in starts:
            start = starts[resolved]
        return given or start is not None and value == start

    def form(self, symbol_, starts: Mapping | None = None, result: bool = False, parens: bool = False,
             power: bool = False, text: bool = False) -> Callable[[object], str]:
        """How a value of a quantity is written, made once: given numbers (data, settings, a
        parameter at its starting value) as given, computed ones at the report's digits (a line's
        result with its [report.overrides] decimals); `parens`: a negative number in parentheses,
        `power`: anything but a plain unsigned decimal in parentheses (the base of a power);
        `text`: plain text rather than LaTeX."""
        key = (symbol_, tuple(starts.items()) if starts else None, result, parens, power, text)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = self._make(symbol_, starts, result, parens, power, text)
        return form

    def _make(self, symbol_, starts, result, parens, power, text) -> Callable[[object], str]:
        given, resolved, start = self._resolve(symbol_)
        if starts and resolved in starts:
            start = starts[resolved]
        numbers = self.overrides.get(symbol_, self.number_format) if result else self.number_format
        as_given, computed = (self._as_given_text, numbers.text) if text else (self._as_given, latex_form(numbers))
        if given:
            shown = as_given
        elif start is None:
            shown = computed
        else:
            def shown(value):
                return as_given(value) if value == start else computed(value)
        if not (parens or power):
            return shown

        def enclosed(value):
            text = shown(value)
            if (parens and text.startswith("-")) or (power and _PLAIN.fullmatch(text) is None):
                return rf"\left({text}\right)"
            return text
        # Given numbers recur step after step (data, settings): each is written once.
        return functools.lru_cache(maxsize=4096, typed=True)(enclosed) if given else enclosed

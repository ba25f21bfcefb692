"""Errors as data: what went wrong, in which field of which file; the line is built when shown."""
from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterable


class DeriveError(Exception):
    """A failure derive reports to the user without a traceback, as one line:
    `source: field: message` (the parts that are known)."""

    exit_code = 1

    def __init__(self, message: str, field: str | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.source = source

    def __str__(self) -> str:
        return ": ".join(str(part) for part in (self.source, self.field, self.message) if part)

    def at(self, source: str | None = None, field: str | None = None) -> DeriveError:
        """The same error placed in a file and a field, where it does not name them already."""
        placed = copy.copy(self)
        placed.source = self.source or source
        placed.field = self.field or field
        return placed


class SpecError(DeriveError):
    """Invalid input: a spec, an answers file or an expression that cannot be used."""

    exit_code = 2


class ExpressionError(SpecError):
    """An expression string that is refused; the reader places it in its field and file."""


class DeriveWarning(UserWarning):
    """Something in a spec that is allowed but probably not meant (a parameter the loss never uses)."""


def closest(word: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' hint, or '' when nothing is close."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {match[0]!r}?" if match else ""


def unknown_key(key: str, known: Iterable[str], field: str, what: str = "key", fix: str = "") -> SpecError:
    """'unknown key. Did you mean ...?' (or the known keys when none is close) for `field`."""
    known = list(known)
    hint = closest(str(key), known) or (f" Known: {', '.join(known)}." if known else "")
    return SpecError(f"unknown {what}.{hint}{' ' + fix if fix else ''}", field)


def expect_number(value, field: str, *, low: float | None = None, high: float | None = None,
                  above: float | None = None, below: float | None = None, whole: bool = False):
    """`value` if it is a finite number (not a bool: TOML's true is no number) within the bounds
    given (low/high inclusive, above/below exclusive); else a SpecError naming `field`."""
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise SpecError(f"expected {kind}, got {value!r}.", field)
    if not math.isfinite(value):
        raise SpecError(f"{value!r} is not a finite number; give a real value.", field)
    bounds = [(low, value >= low if low is not None else True, f"at least {low}"),
              (above, value > above if above is not None else True, f"above {above}"),
              (high, value <= high if high is not None else True, f"at most {high}"),
              (below, value < below if below is not None else True, f"below {below}")]
    wanted = [text for bound, ok, text in bounds if bound is not None]
    if not all(ok for _, ok, _ in bounds):
        raise SpecError(f"expected {kind} {' and '.join(wanted)}, got {value!r}.", field)
    return value

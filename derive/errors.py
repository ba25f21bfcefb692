"""Errors that know their exit code and say, in one sentence, what to fix."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class DeriveError(Exception):
    """A failure derive reports to the user without a traceback."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SpecError(DeriveError):
    """Invalid input: a spec, an answers file or an expression that cannot be used."""

    exit_code = 2


class ExpressionError(SpecError):
    """An expression string that is refused; `field` is filled in by whoever knows it."""

    def __init__(self, reason: str, field: str | None = None, source: str | None = None):
        self.reason = reason
        self.field = field
        self.source = source
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.reason}"


def closest(word: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' hint, or '' when nothing is close."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {match[0]!r}?" if match else ""

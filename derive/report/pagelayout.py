"""Fitting a report to its page: long sums continued on further rows, wide tables split into
column chunks, and the step counters a step template may compare."""
from __future__ import annotations

import re

from markupsafe import Markup

from .worked import SLOT_WIDTH, visible_length

_NESTING = re.compile(r"\\left|\\right|[{}]| \+ ")


def _shown_width(tex: str) -> int:
    """The characters a part of a line shows, each number token counted as SLOT_WIDTH."""
    return visible_length(re.sub("\x00\\d+\x00", "0" * SLOT_WIDTH, tex))


def wrap_sum(part: str, width: int) -> str:
    """One side of a long line, continued on further rows at its top-level `+` where it is
    wider than a line by itself (a sum over many terms)."""
    if _shown_width(part) <= width:
        return part
    terms, depth, start = [], 0, 0
    for match in _NESTING.finditer(part):
        token = match.group()
        if token in ("{", r"\left"):
            depth += 1
        elif token in ("}", r"\right"):
            depth -= 1
        elif depth == 0:
            terms.append(part[start:match.start()])
            start = match.end()
    terms.append(part[start:])
    rows, current = [], terms[0]
    for term in terms[1:]:
        if _shown_width(current + " + " + term) > width:
            rows.append(current)
            current = r"\quad + " + term
        else:
            current += " + " + term
    return r" \\ &\phantom{=}".join([*rows, current])


def column_chunks(header: list, rows: list[list], fixed: int, room: int | None) -> list[tuple[int, int]]:
    """Column ranges of a table, each narrow enough for the page beside `fixed` characters of
    leading columns within `room` characters (None: one range, where the format scrolls instead)."""
    if room is None or not header:
        return [(0, len(header))]

    def shown(cell) -> int:
        text = str(cell)
        return SLOT_WIDTH + 1 if "\x00" in text else visible_length(text.replace("$", ""))

    widths = [max([shown(h)] + [shown(row[i]) for row in rows]) + 3 for i, h in enumerate(header)]
    ranges, start, used = [], 0, fixed
    for i, w in enumerate(widths):
        if used + w > room and i > start:
            ranges.append((start, i))
            start, used = i, fixed
        used += w
    count = len(ranges) + 1  # as many chunks as the greedy split needs, their columns shared evenly
    per = -(-len(header) // count)
    if all(fixed + sum(widths[i:i + per]) <= room for i in range(0, len(header), per)):
        return [(i, min(i + per, len(header))) for i in range(0, len(header), per)]
    return [*ranges, (start, len(header))]


class Counter(Markup):
    """A step's number, epoch or row number as the step template sees it: it prints as the token
    that the step's own number fills in, and compares (==, !=, <, <=, >, >=, with a number or its
    text) as that number, noting in `compared` that the layout depends on it."""

    def __new__(cls, token: str, value: int, compared: list[bool]):
        counter = super().__new__(cls, token)
        counter.value, counter.compared = value, compared
        return counter

    def _other(self, other) -> int | None:
        self.compared.append(True)
        if isinstance(other, Counter):
            return other.value
        try:
            return int(str(other).strip())
        except ValueError:
            return None

    def __eq__(self, other) -> bool:
        return self._other(other) == self.value

    def __ne__(self, other) -> bool:
        return not self == other

    def __lt__(self, other) -> bool:
        return self.value < self._other(other)

    def __le__(self, other) -> bool:
        return self.value <= self._other(other)

    def __gt__(self, other) -> bool:
        return self.value > self._other(other)

    def __ge__(self, other) -> bool:
        return self.value >= self._other(other)

    __hash__ = Markup.__hash__



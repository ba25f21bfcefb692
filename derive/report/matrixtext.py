"""Matrices as LaTeX text: grids of cells with the rows and columns beyond a page's left out
(⋯, ⋮), their bmatrix, and how wide a line of them shows on the page."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .worked import SLOT_WIDTH, visible_length


@dataclass(frozen=True)
class Grid:
    """A matrix of LaTeX cells as shown (with ⋯ and ⋮ where columns or rows were left out) and
    `full`, all its cells, where some were left out."""

    cells: tuple[tuple[str, ...], ...]
    full: tuple[tuple[str, ...], ...] | None = None

    @property
    def whole(self) -> bool:
        return self.full is None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0])


ROWS_SHOWN = 8  # rows of a matrix shown whole; a taller one shows its first rows, ⋮ and the last


def elide(cells: list[list[str]], limit: int) -> Grid:
    """The cells, with the columns beyond `limit` (rows beyond ROWS_SHOWN) left out for a ⋯ (⋮)
    before the last."""
    rows, columns = len(cells), len(cells[0])
    keep_c = list(range(columns)) if columns <= limit else [*range(limit - 2), None, columns - 1]
    keep_r = list(range(rows)) if rows <= ROWS_SHOWN else [*range(ROWS_SHOWN - 2), None, rows - 1]
    out = []
    for r in keep_r:
        if r is None:
            out.append(tuple(r"\ddots" if c is None else r"\vdots" for c in keep_c))
        else:
            out.append(tuple(r"\cdots" if c is None else cells[r][c] for c in keep_c))
    whole = len(keep_r) == rows and len(keep_c) == columns
    return Grid(tuple(out), None if whole else tuple(tuple(row) for row in cells))


def bmatrix(grid: Grid, full: bool = False) -> str:
    cells = grid.full if full and grid.full is not None else grid.cells
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(row) for row in cells) + r" \end{bmatrix}"


BETWEEN = re.compile(r"(?<=\\end\{bmatrix\}) (?=[+-] |\\odot )")
BETWEEN_ANY = re.compile(r"(?<=\\end\{bmatrix\}) (?=[+-] |\\odot |\\begin\{bmatrix\})")
_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", re.S)


def shown_width(tex: str, texts: list[str] | None = None) -> int:
    """The characters a part of a line shows, roughly: a matrix counts as its columns' widest
    entries (a number as 4/5 of its characters: digits are narrow) and their gaps, a fraction as
    its wider half, a script as 2/3 of its characters. Number tokens count as the `texts` they
    stand for, where given, else as SLOT_WIDTH characters."""
    if texts is not None:
        tex = re.sub("\x00(\\d+)\x00", lambda m: texts[int(m.group(1))], tex)
    tex = re.sub("\x00\\d+\x00", "0" * SLOT_WIDTH, tex)
    tex = _narrow_fractions(tex)

    def width(match) -> str:
        rows = [[_cell_width(c) for c in row.split("&")] for row in match.group(1).split(r"\\")]
        widest = sum(max(column) + 1 for column in zip(*rows)) + 2
        return "0" * round(widest)
    tex = _MATRIX.sub(width, tex)
    scripts = sum(len(m) for m in re.findall(r"[_^]\{([^{}]*)\}", tex))
    return round(visible_length(tex) - scripts / 3)


def _cell_width(cell: str) -> float:
    if cell.strip() in (r"\cdots", r"\vdots", r"\ddots"):
        return 2.5
    return 0.8 * visible_length(cell)


def _narrow_fractions(tex: str) -> str:
    """Each \\frac{a}{b} as the wider of a and b."""
    while (start := tex.find(r"\frac{")) >= 0:
        halves, at = [], start + 5
        for _ in range(2):
            depth, begin = 0, at
            while True:
                depth += {"{": 1, "}": -1}.get(tex[at], 0)
                at += 1
                if depth == 0:
                    break
            halves.append(tex[begin + 1:at - 1])
        tex = tex[:start] + max(halves, key=visible_length) + tex[at:]
    return tex

"""Data columns from a CSV file as spreadsheets write it: a byte-order mark, CRLF line ends,
quoted fields, spaces around values and blank lines at the end are all fine."""
from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Sequence
from pathlib import Path

from ..errors import SpecError

FIELD = "data.csv"


def read_columns(path: Path, shown: str, columns: Sequence[str]) -> dict[str, array]:
    """The named columns of the CSV at `path` (called `shown` in messages) as arrays of floats."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _read(csv.reader(handle), shown, columns)
    except FileNotFoundError:
        raise SpecError(f"{shown} does not exist; the path is relative to the spec file.", FIELD) from None
    except IsADirectoryError:
        raise SpecError(f"{shown} is a folder; give the CSV file's name.", FIELD) from None
    except UnicodeDecodeError:
        raise SpecError(f"{shown} is not UTF-8 text; save it as CSV UTF-8.", FIELD) from None
    except csv.Error as exc:
        raise SpecError(f"{shown} is not a readable CSV ({exc}).", FIELD) from None
    except OSError as exc:
        raise SpecError(f"{shown} cannot be read ({exc.strerror or exc.__class__.__name__}).", FIELD) from None


def _read(reader, shown: str, columns: Sequence[str]) -> dict[str, array]:
    header = [cell.strip() for cell in next(reader, [])]
    for name in header:
        if name and header.count(name) > 1:
            raise SpecError(f"{shown} has the column {name!r} twice in its header; give each column its own name.",
                            FIELD)
    index = {}
    for name in columns:
        if name not in header:
            raise SpecError(f"{shown} has no column {name!r} (it has {', '.join(h for h in header if h) or 'no header'});"
                            f" add it to the header row.", FIELD)
        index[name] = header.index(name)
    raw = {name: array("d") for name in columns}  # 8 bytes a number, not a Python float
    blank_from = None
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            blank_from = blank_from or line
            continue
        if blank_from is not None:
            raise SpecError(f"{shown} line {blank_from} is blank, with data after it; remove the blank line.", FIELD)
        for name, i in index.items():
            cell = row[i].strip() if i < len(row) else ""
            if not cell:
                raise SpecError(f"{shown} line {line}, column {name!r}: the value is missing; give a number.", FIELD)
            try:
                value = float(cell)
            except ValueError:
                raise SpecError(f"{shown} line {line}, column {name!r}: {cell!r} is not a number.", FIELD) from None
            if not math.isfinite(value):
                raise SpecError(f"{shown} line {line}, column {name!r}: {cell!r} is not a finite number.", FIELD)
            raw[name].append(value)
    return raw

"""Writing results: atomically to a file, or to standard output."""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import DeriveError


def write_atomic(path: str | Path, chunks: Iterable[str]) -> None:
    """Write text chunks to `path` through a temporary file renamed into place.

    If producing a chunk fails, the temporary file is removed and an existing `path`
    is left exactly as it was.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise DeriveError(f"{path}: the folder {directory} does not exist; create it or choose another -o path.")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def write_stdout(chunks: Iterable[str]) -> None:
    """Print text chunks as they are made."""
    for chunk in chunks:
        sys.stdout.write(chunk)
    sys.stdout.flush()

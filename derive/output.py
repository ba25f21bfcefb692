"""Writing results: to a file replaced whole, or to standard output.

An output file is checked and its temporary file created before any work, so a path that cannot
be written is refused at once. Only a regular file or a new path is written; a symbolic link is
followed to its target. A new file gets the mode the umask gives; an existing one keeps its mode
(and, when run as root, its owner). The temporary file is removed on any failure.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from .errors import DeriveError

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))


class OutputError(DeriveError):
    """An output path that cannot be written: refused before any work (exit code 2)."""

    exit_code = 2


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


class OutputFile:
    """A file replaced whole: `commit` renames the finished temporary file over it; `discard` removes it.

    Use it as a context manager: leaving the block by an exception discards the temporary file.
    """

    def __init__(self, path: str | Path, option: str):
        self.path = Path(path)
        self.option = option
        self.target = Path(os.path.realpath(self.path))  # a symbolic link is followed to its target
        self.temporary: Path | None = None
        existing = self._existing()
        directory = self.target.parent
        if not directory.is_dir():
            raise self._refuse(f"the folder {directory} does not exist; create it or choose another path")
        self.temporary, descriptor = self._create_temporary(directory)
        os.close(descriptor)
        if existing is not None:
            self._copy_mode(existing)

    def _refuse(self, reason: str) -> OutputError:
        shown = str(self.path) if self.target == Path(os.path.abspath(self.path)) else f"{self.path} (-> {self.target})"
        return OutputError(f"{self.option} {shown}: {reason}.")

    def _existing(self) -> os.stat_result | None:
        try:
            status = os.stat(self.target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._refuse(f"cannot be used ({exc.strerror})") from None
        if stat.S_ISDIR(status.st_mode):
            raise self._refuse("is a folder; give a file name, e.g. a path inside it")
        if not stat.S_ISREG(status.st_mode):
            raise self._refuse(f"is {_kind(status.st_mode)}, not a regular file; derive writes only regular files "
                               f"(leave out {self.option} to print to standard output)")
        if not os.access(self.target, os.W_OK):
            raise self._refuse("is not writable; change its permissions or choose another path")
        return status

    def _create_temporary(self, directory: Path) -> tuple[Path, int]:
        while True:
            candidate = directory / f".{self.target.name}.{secrets.token_hex(4)}.tmp"
            try:
                # Mode 0666 through the umask: what a new file gets from any other program.
                return candidate, os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            except OSError as exc:
                raise self._refuse(f"cannot write in the folder {directory} ({exc.strerror})") from None

    def _copy_mode(self, existing: os.stat_result) -> None:
        try:
            if os.geteuid() == 0:
                os.chown(self.temporary, existing.st_uid, existing.st_gid)
            os.chmod(self.temporary, stat.S_IMODE(existing.st_mode))
        except OSError as exc:
            self.discard()
            raise self._refuse(f"cannot keep its permissions ({exc.strerror})") from None

    def write_text(self, chunks: Iterable[str]) -> None:
        """Write text chunks to the temporary file (UTF-8)."""
        with self.writer() as handle:
            for chunk in chunks:
                handle.write(chunk)

    def writer(self):
        """The temporary file open for writing text (UTF-8), for output made piece by piece."""
        return open(self.temporary, "w", encoding="utf-8")

    def write_bytes(self, data: bytes) -> None:
        """Write bytes (an archive) to the temporary file."""
        with open(self.temporary, "wb") as handle:
            handle.write(data)

    def copy_from(self, source: str | Path) -> None:
        """Copy a finished file's bytes into the temporary file."""
        with open(source, "rb") as reader, open(self.temporary, "wb") as writer:
            shutil.copyfileobj(reader, writer)

    def commit(self) -> None:
        """Put the finished file in place in one rename."""
        try:
            os.replace(self.temporary, self.target)
        except OSError as exc:
            self.discard()
            raise DeriveError(f"{self.option} {self.path}: could not be replaced ({exc.strerror}).") from None
        self.temporary = None

    def discard(self) -> None:
        if self.temporary is not None:
            try:
                os.unlink(self.temporary)
            except FileNotFoundError:
                pass
            self.temporary = None

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()


def open_outputs(stack: contextlib.ExitStack, *options: tuple[str, str | None]) -> list[OutputFile | None]:
    """Check and open each (option, path) given, before any work; None where the option is not given."""
    opened: list[OutputFile | None] = []
    for option, path in options:
        output = None if path is None else stack.enter_context(OutputFile(path, option))
        for other in opened:
            if output and other and other.target == output.target:
                raise OutputError(f"{other.option} and {option} both name {path}; give each its own file.")
        opened.append(output)
    return opened


def write_stdout(chunks: Iterable[str]) -> None:
    """Print text chunks as they are made."""
    for chunk in chunks:
        sys.stdout.write(chunk)
    sys.stdout.flush()

"""Helpers the tests share: where the repository is, and the switch that turns missing tools into failures in CI."""
from __future__ import annotations

import difflib
import contextlib
import os
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def require(tool: str, available: bool, reason: str) -> None:
    """Skip with a visible reason when `tool` is missing, or fail when DERIVE_REQUIRE_ALL=1 (CI)."""
    if available:
        return
    if os.environ.get("DERIVE_REQUIRE_ALL") == "1":
        pytest.fail(f"{tool} is required in CI but missing: {reason}")
    pytest.skip(f"{tool} is not installed: {reason}")


@contextlib.contextmanager
def hang_guard(seconds: int = 60):
    """Fail a block that never finishes (a hang), instead of blocking the run: not a speed check."""
    def hung(signum, frame):
        pytest.fail(f"did not finish within {seconds} s: it hangs", pytrace=True)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_matches_golden(document: str, golden: Path, update: bool) -> None:
    """The document must equal the shipped file; on a mismatch show a unified diff (or rewrite it with update)."""
    if update:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(document)
    assert golden.exists(), f"no {golden.relative_to(ROOT)}: run pytest --update-golden and review the diff"
    expected = golden.read_text()
    if document != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True), document.splitlines(keepends=True),
                                    f"{golden.relative_to(ROOT)} (shipped)", "rendered now", n=2)
        lines = list(diff)
        shown = "".join(lines[:80]) + (f"... {len(lines) - 80} more diff lines\n" if len(lines) > 80 else "")
        pytest.fail(f"{golden.name} differs from what derive renders now "
                    f"(pytest --update-golden rewrites it; review the diff):\n{shown}", pytrace=False)


def write_course(folder: Path, spec: str, roster: str) -> tuple[Path, Path]:
    """A class's spec and roster CSV written into `folder`; returns their paths."""
    spec_path, roster_path = folder / "spec.toml", folder / "roster.csv"
    spec_path.write_text(spec)
    roster_path.write_text(roster)
    return spec_path, roster_path

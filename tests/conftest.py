"""Shared fixtures and the switch that turns oracle skips into failures in CI."""
from __future__ import annotations

import os
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


@pytest.fixture
def example():
    import derive

    def load(name: str):
        return derive.load(EXAMPLES / name)

    return load


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def run_json(tmp_path, capsys):
    """Run `derive run --format json` on an example with text replaced, and return the parsed trace."""
    import json

    from derive.cli import main

    def run(example: str, old: str = "", new: str = ""):
        path = tmp_path / example
        path.write_text((EXAMPLES / example).read_text().replace(old, new))
        assert main(["run", str(path), "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    return run

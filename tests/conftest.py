"""Fixtures shared by the tests, and the --update-golden option. Plain helpers live in support.py."""
from __future__ import annotations

import pytest

from support import EXAMPLES


@pytest.fixture
def example():
    import derive

    def load(name: str):
        return derive.load(EXAMPLES / name)

    return load


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite examples/reports/ from the current output")


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

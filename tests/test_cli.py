"""The derive command: formats, output files, exit codes and messages."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import EXAMPLES

from derive.cli import main

SEED_A = str(EXAMPLES / "seed_a_linear_regression.toml")


def test_json_first_step_is_the_articles(capsys):
    assert main(["run", SEED_A, "--format", "json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    first = trace["steps"][0]
    assert first["rows"] == [0] and first["step"] == 1 and first["epoch"] == 1
    assert first["params"] == {"w1": -0.017, "w2": -0.048, "b": 0.0}
    assert first["values"]["yhat"] == pytest.approx(-0.116, abs=1e-12)
    assert first["loss"] == pytest.approx(4.477456, abs=1e-12)
    assert first["gradients"] == pytest.approx({"w1": -16.928, "w2": -4.232, "b": -4.232}, abs=1e-12)
    assert first["updated"] == pytest.approx({"w1": 0.8294, "w2": 0.1636, "b": 0.2116}, abs=1e-12)
    assert len(trace["steps"]) == 6 and trace["final"] == trace["steps"][-1]["updated"]


def test_values_are_lists_for_batches(run_json):
    first = run_json("seed_a_linear_regression.toml", "batch_size = 1", "batch_size = 4")["steps"][0]
    assert first["rows"] == [0, 1, 2, 3]
    # Row 2 by hand: yhat = -0.017*2 - 0.048*8 = -0.418.
    assert first["values"]["yhat"][1] == pytest.approx(-0.418, abs=1e-12)


def test_output_file_is_written(tmp_path):
    out = tmp_path / "trace.json"
    assert main(["run", SEED_A, "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["steps"][0]["updated"]["b"] == pytest.approx(0.2116, abs=1e-12)


def test_bad_spec_exits_2_with_one_line_naming_file_and_field(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text((EXAMPLES / "seed_a_linear_regression.toml").read_text().replace("w1*x1", "w1*x9"))
    out = tmp_path / "keep.md"
    out.write_text("previous")
    assert main(["run", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(path) in err and "model.nodes.yhat" in err and "'x9'" in err
    assert out.read_text() == "previous"


def test_help_explains_every_option():
    for args in (["--help"], ["run", "--help"]):
        result = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True)
        assert result.returncode == 0
    run_help = result.stdout
    for option in ("--format", "-o", "SPEC"):
        assert option in run_help


def test_ci_runs_the_readme_test_command_word_for_word():
    from support import ROOT

    readme = (ROOT / "README.md").read_text()
    command = 'pip install ".[test]" && python -m pytest'
    assert f"```sh\n{command}\n```" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == command
    # A brand-new environment each run, the oracle pinned, nothing allowed to skip, the first command too.
    assert 'rm -rf "$venv"' in ci and 'python3 -m venv "$venv"' in ci and "pip install -q torch==2.13.0" in ci
    assert "export DERIVE_REQUIRE_ALL=1" in ci
    assert "\npip install . && derive run examples/seed_a_linear_regression.toml || exit 1\n" in ci
    assert "```sh\npip install . && derive run examples/seed_a_linear_regression.toml\n```" in readme

"""Hostile input: nothing runs, nothing is half-written, text prints literally, numeric trouble is reported."""
from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest

from support import EXAMPLES, require

import derive
from derive import api
from derive.cli import main
from derive.report.escape import escape_latex, escape_markdown

BASE = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
HOSTILE_TITLE = r"Week 3 \input{/etc/passwd} \write18{rm -rf /} $x$ & 100% #1 ~ ^_^ {}"


def test_hostile_spec_creates_no_file_and_prints_one_line(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    spec = tmp_path / "hostile.toml"
    spec.write_text(BASE.replace('L = "(yhat - y)**2"', f'L = "__import__(\'os\').system(\'touch {marker}\')"'))
    out = tmp_path / "report.md"
    assert main(["run", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not marker.exists() and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.toml"]


def test_failed_run_leaves_the_existing_output_byte_identical(tmp_path, capsys, monkeypatch):
    out = tmp_path / "report.md"
    out.write_bytes(b"the handout from last week\n")

    def broken(trace, fmt="markdown", **options):
        yield "# half a report\n"
        raise derive.DeriveError("the renderer failed halfway")

    monkeypatch.setattr(api, "render_chunks", broken)
    assert main(["run", str(EXAMPLES / "seed_a_linear_regression.toml"), "-o", str(out)]) == 1
    assert out.read_bytes() == b"the handout from last week\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    assert "the renderer failed halfway" in capsys.readouterr().err


def test_escape_functions_by_hand():
    assert escape_latex(r"\input{x} 50% $1 a_b") == r"\textbackslash{}input\{x\} 50\% \$1 a\_b"
    assert escape_markdown("a*b_c $x$ <b>") == r"a\*b\_c \$x\$ &lt;b&gt;"


def test_hostile_title_prints_literally_in_the_pdf(tmp_path):
    require("pdflatex", shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None,
            "apt-get install texlive-latex-base poppler-utils")
    spec = tmp_path / "spec.toml"
    spec.write_text(BASE.replace('title = "Linear regression with two features: one epoch of SGD, batch size 1"',
                                 "title = '''" + HOSTILE_TITLE + "'''"))
    pdf = tmp_path / "out.pdf"
    assert main(["run", str(spec), "--pdf", str(pdf), "-o", str(tmp_path / "out.md")]) == 0
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert r"\input{/etc/passwd}" in text and r"\write18{rm -rf /}" in text and "100% #1" in text


def test_hostile_title_is_inert_in_markdown(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(BASE.replace('title = "Linear regression with two features: one epoch of SGD, batch size 1"',
                                 "title = '<script>alert(1)</script> $\\int$'"))
    assert main(["run", str(spec)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == r"# &lt;script&gt;alert(1)&lt;/script&gt; \$\\int\$"


def test_too_large_learning_rate_stops_at_the_step_it_overflows(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(BASE.replace("learning_rate = 0.05", "learning_rate = 10").replace("epochs = 1", "epochs = 200"))
    assert main(["run", str(spec), "--format", "json"]) == 0
    captured = capsys.readouterr()
    trace = json.loads(captured.out)
    diverged = trace["diverged"]
    # Replaying the plain SGD arithmetic by hand finds the first step whose numbers overflow.
    w1, w2, b, k = -0.017, -0.048, 0.0, 0
    rows = [(4, 1, 2), (2, 8, -14), (1, 0, 1), (3, 2, -1), (1, 4, -7), (6, 7, -8)]
    first_bad = None
    while first_bad is None:
        x1, x2, y = rows[k % 6]
        k += 1
        yhat = w1 * x1 + w2 * x2 + b
        try:
            loss = (yhat - y) ** 2
        except OverflowError:
            loss = math.inf
        g = 2 * (yhat - y)
        new = (w1 - 10 * g * x1, w2 - 10 * g * x2, b - 10 * g)
        if not all(math.isfinite(v) for v in (yhat, loss, g, *new)):
            first_bad = k
        w1, w2, b = new
    assert diverged["step"] == first_bad and len(trace["steps"]) == first_bad - 1
    assert diverged["value"] in ("inf", "-inf", "nan")
    assert f"training stopped at step {first_bad}" in captured.err and "smaller learning rate" in captured.err


def test_log_of_zero_in_cross_entropy_stops_training():
    # p = sigmoid(w*x) with w*x = 800 is exactly 1.0 in floating point, so log(1 - p) = log(0).
    problem = derive.Problem.build(inputs=["x"], targets=["y"],
                                   nodes={"p": "sigmoid(w*x)", "L": "-(y*log(p) + (1 - y)*log(1 - p))"}, loss="L",
                                   params={"w": 1.0}, data={"x": [1.0, 800.0], "y": [1.0, 0.0]}, learning_rate=0.1)
    trace = problem.train()
    assert len(trace.steps) == 1
    assert trace.diverged == {"step": 2, "quantity": "values.L", "value": "inf"}


@pytest.mark.parametrize("node,expected", [("relu(w*x)", 0.0), ("abs(w*x)", 0.0), ("relu(w*x - 1) + abs(w - 0)", 0.0)])
def test_kinks_at_exactly_zero_follow_pytorch(node, expected):
    # PyTorch: relu'(0) = 0 and |x|'(0) = sign(0) = 0, so the gradient at w = 0 is 0 (x = 3).
    problem = derive.Problem.build(inputs=["x"], targets=[], nodes={"L": node}, loss="L", params={"w": 0.0},
                                   data={"x": [3.0]}, learning_rate=1)
    assert problem.train().steps[0].gradients["w"] == expected

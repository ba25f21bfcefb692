"""The matrix view of [model] layers: validated at load, every matrix line true entry by entry,
the printed matrices those of PyTorch's autograd, and the scalar form still available."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from arithmetic import check_row, equation_rows, matrix_cells
from support import EXAMPLES, require

import derive
from derive.cli import main
from derive.model.spec import loads

try:
    import torch
except ImportError:  # the oracle is a test-only dependency
    torch = None

LAYERS = (EXAMPLES / "layers_three_four_one.toml").read_text()


def matrix_rows(document: str, fmt: str) -> list[list[str]]:
    """The aligned rows whose substitution and result are matrices."""
    return [parts for parts in equation_rows(document, fmt)
            if len(parts) >= 3 and r"\begin{bmatrix}" in parts[-2] and matrix_cells(parts[-1]) is not None]


@pytest.fixture(scope="module")
def documents():
    trace = derive.load(EXAMPLES / "layers_three_four_one.toml").train()
    return {fmt: derive.render(trace, fmt) for fmt in ("markdown", "latex")}


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_every_matrix_line_checks_entry_by_entry(documents, fmt):
    rows = matrix_rows(documents[fmt], fmt)
    # Per step: 4 forward, 3 backward products, 4 row gradients, 4 means and 4 updates.
    assert len(rows) >= 19
    failures = [problem for parts in rows if (problem := check_row(parts, "rounded"))]
    assert not failures, failures[:3]


def test_a_wrong_entry_or_shape_is_caught(documents):
    rows = matrix_rows(documents["markdown"], "markdown")
    forward = next(parts for parts in rows if parts[0].startswith("Z^{(1)}"))
    cells = matrix_cells(forward[-1])
    # By hand: row 1 of W times column 1 of X, 0.812173*1 - 0.305878*2 - 0.264086*3 + 0 = -0.591841.
    assert cells[0][0] == "-0.5918"
    wrong = forward[-1].replace("-0.5918", "-0.5919", 1)
    assert "entry (1, 1)" in check_row([*forward[:-1], wrong], "rounded")
    short = re.sub(r" \\\\ [^\\]*\\end\{bmatrix\}$", r" \\end{bmatrix}", forward[-1])
    assert "shape" in check_row([*forward[:-1], short], "rounded")


def test_the_printed_gradient_matrices_are_torchs(documents):
    """Step 1's mean gradient of W(1) as printed, against autograd over the same two rows."""
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    problem = derive.load(EXAMPLES / "layers_three_four_one.toml")
    rows = matrix_rows(documents["markdown"], "markdown")
    printed = next(p for p in rows if p[0].startswith(r"\frac{\partial \bar{L}}{\partial W^{(1)}}"))
    shown = np.array([[float(c) for c in row] for row in matrix_cells(printed[-1])])
    p = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in problem.initial.items()}
    w1 = torch.stack([torch.stack([p[f"w1_{i}_{j}"] for i in (1, 2, 3)]) for j in (1, 2, 3, 4)])
    x = torch.tensor(np.stack([problem.data[c][:2] for c in ("x1", "x2", "x3")], axis=1), dtype=torch.float64)
    hidden = torch.relu(x @ w1.T + torch.stack([p[f"b1_{j}"] for j in (1, 2, 3, 4)]))
    out = torch.sigmoid(hidden @ torch.stack([p[f"w2_{i}_1"] for i in (1, 2, 3, 4)]) + p["b2_1"])
    loss = torch.nn.functional.binary_cross_entropy(out, torch.tensor(problem.data["y"][:2], dtype=torch.float64))
    loss.backward()
    expected = np.array([[p[f"w1_{i}_{j}"].grad.item() for i in (1, 2, 3)] for j in (1, 2, 3, 4)])
    # Row j of W(1) holds the weights into unit j; the report carries 4 significant digits.
    assert shown.shape == (4, 3)
    assert np.allclose(shown, expected, rtol=2e-3, atol=3e-4), (shown, expected)


def test_scalar_form_works_node_by_node():
    spec = loads(LAYERS.replace("steps = 1", 'steps = 1\nform = "scalar"'), "layers.toml")
    document = derive.render(spec.train(), "markdown")
    assert "bmatrix" not in document and "Local partial derivatives" in document
    assert spec.form == "scalar" and loads(LAYERS, "layers.toml").form == "matrix"


@pytest.mark.parametrize("change,message", [
    (lambda s: s.replace("steps = 1", 'steps = 1\nform = "matrices"'),
     "report.form: 'matrices' is not \"scalar\" or \"matrix\"."),
    (lambda s: s.replace('loss = "L"', 'loss = "L"\npenalty = { kind = "l2", weight = 0.01 }')
     .replace("steps = 1", 'steps = 1\nform = "matrix"'),
     "report.form: the matrix form shows [model] layers whose parameters feed only the layers"),
])
def test_form_is_checked_at_load(tmp_path, capsys, change, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(change(LAYERS), encoding="utf-8")
    assert main(["run", str(spec), "-o", str(tmp_path / "out.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"derive: {spec}: ") and message in err and err.count("\n") == 1, err


def test_form_matrix_needs_layers(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    text = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    spec.write_text(text + '\n[report]\nform = "matrix"\n' if "[report]" not in text
                    else text.replace("[report]", '[report]\nform = "matrix"'), encoding="utf-8")
    assert main(["run", str(spec), "-o", str(tmp_path / "out.md")]) == 2
    assert "report.form" in capsys.readouterr().err


def test_one_step_of_the_three_four_one_network_fits_on_two_pages(tmp_path):
    """Step 1 in the PDF, from its heading to its last update line, read page by page."""
    require("pdflatex", shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None,
            "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures poppler-utils")
    trace = derive.load(EXAMPLES / "layers_three_four_one.toml").train()
    (tmp_path / "doc.tex").write_text(derive.render(trace, "latex"))
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\vbox" not in log
    assert not [w for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log) if float(w) > 1]
    pages = []
    for number in range(1, 40):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "doc.pdf", "-"], cwd=tmp_path,
                              capture_output=True, text=True).stdout
        if not text.strip():
            break
        pages.append(text)
    first = next(i for i, text in enumerate(pages) if "Step 1 (epoch 1, rows 1, 2)" in text)
    after = next(i for i, text in enumerate(pages) if "The remaining 3 steps" in text)
    last = after - 1 if not pages[after].split("The remaining")[0].strip() else after
    assert last - first + 1 <= 2, f"step 1 runs from page {first + 1} to page {last + 1}"


WIDE = """
[model]
inputs = ["x1", "x2", "x3", "x4", "x5"]
targets = ["y"]
layers = [{ size = 6, activation = "tanh" }, { size = 2, activation = "linear" }]
init = { kind = "normal", std = 0.5, seed = 3 }
loss = "L"
[model.nodes]
L = "(h2_1 - y)**2 + (h2_2 - y)**2"
[data]
x1 = [1, 2, 3]
x2 = [2, 1, 0]
x3 = [0, 1, 1]
x4 = [1, 1, 2]
x5 = [3, 0, 1]
y = [1, 0, 1]
[train]
learning_rate = 0.05
batch_size = 3
[report]
steps = 1
"""


def test_a_wider_network_with_tanh_and_a_linear_output_elides_and_compiles(tmp_path):
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    trace = loads(WIDE, "wide.toml").train()
    markdown, latex = derive.render(trace, "markdown"), derive.render(trace, "latex")
    assert r"\cdots" in latex and r"\tanh'" in latex
    whole = matrix_rows(markdown, "markdown")
    assert whole and not [problem for parts in whole if (problem := check_row(parts, "rounded"))]
    (tmp_path / "doc.tex").write_text(latex)
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert not [w for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log) if float(w) > 1]

"""The matrix view of [model] layers: validated at load, every matrix line true entry by entry,
the printed matrices those of PyTorch's autograd, and the scalar form still available."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from arithmetic import check_row, check_shortened, check_shortened_rows, equation_rows, matrix_cells, shortened
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


def compiles_without_overfull_boxes(folder, latex: str) -> None:
    """pdflatex builds the document in `folder` with no box over 1pt too wide and none too tall."""
    (folder / "doc.tex").write_text(latex)
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"], cwd=folder,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    log = (folder / "doc.log").read_text(errors="replace")
    assert "Overfull \\vbox" not in log
    assert not [w for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log) if float(w) > 1]


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
    compiles_without_overfull_boxes(tmp_path, derive.render(trace, "latex"))
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
    compiles_without_overfull_boxes(tmp_path, latex)


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_every_line_with_an_ellipsis_is_given_in_full_and_checks(fmt):
    """W(1) is 6x5, wider than a line shows: each line leaving entries out is given again with every
    entry, the whole line checks, and each entry shown is the whole line's entry in that place."""
    document = derive.render(loads(WIDE, "wide.toml").train(), fmt)
    rows = equation_rows(document, fmt)
    checked, failures = check_shortened_rows(rows, "rounded")
    assert not failures, failures[:3]
    # Forward, the three rows' dL/dW(1) and dL/dW(2)... at least Z(1), H(2) and the three row gradients.
    assert checked >= 5
    forward = next(r for r in rows if r[0] == "Z^{(1)}" and not shortened(r))
    # By hand, Z(1) row 1, column 1: the whole first row of W(1) times x = (1, 2, 0, 1, 3), two of
    # whose weights the shortened line leaves out: 0.894314 + 2(0.218255) + 0(0.048249) - 0.931746
    # + 3(-0.138694) + 0 = -0.017004.
    w = matrix_cells(re.findall(r"\\begin\{bmatrix\}.*?\\end\{bmatrix\}", forward[-2])[0])
    assert w[0] == ["0.894314", "0.218255", "0.048249", "-0.931746", "-0.138694"]
    assert matrix_cells(forward[-1])[0][0] == "-0.01700"
    short = next(r for r in rows if r[0] == "Z^{(1)}" and shortened(r))
    # A shown entry that differs from the whole matrix's, or a whole line that does not check, is caught.
    assert "shows" in check_shortened([*short[:-1], short[-1].replace("-0.01700", "-0.01800", 1)], forward, "rounded")
    wrong = [*forward[:-1], forward[-1].replace("-0.01700", "-0.01800", 1)]
    assert "in full" in check_shortened([*short[:-1], short[-1].replace("-0.01700", "-0.01800", 1)], wrong, "rounded")


BIG_BATCH = LAYERS.replace("batch_size = 2", 'batch_size = "all"').replace("steps = 1", "steps = 1\nrows_shown = 2")


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_a_batch_larger_than_rows_shown_shows_that_many_columns_and_a_count(fmt):
    """All 4 rows in one step, 2 shown: the matrices have 2 columns, the text counts the other 2, the
    mean names its count; every line checks."""
    spec = loads(BIG_BATCH, "layers.toml")
    document = derive.render(spec.train(), fmt)
    assert "first 2 rows, in order" in document and "2 more rows, worked alike" in document
    rows = equation_rows(document, fmt)
    forward = next(r for r in rows if r[0] == "Z^{(1)}")
    cells = matrix_cells(forward[-1])
    # By hand, rows 1 and 2 of the data: 0.812173*1 - 0.305878*2 - 0.264086*3 = -0.591841 and
    # 0.812173*3 - 0.305878*1 - 0.264086*(-1) = 2.394727.
    assert [len(r) for r in cells] == [2] * 4 and cells[0] == ["-0.5918", "2.3947"]
    assert r"\text{ (2 more rows)}" in document and "Gradients** of the first 2 rows" in document.replace(
        r"\textbf{Gradients} of", "Gradients** of")
    failures = [problem for parts in rows if (problem := check_row(parts, "rounded"))]
    assert not failures, failures[:3]


def test_loss_lines_put_a_target_of_0_or_1_in_first_and_indicators_print_0_or_1(documents):
    """Row 1 has y = 1 and h = 0.5768: L = -log(0.5768) = 0.5503 (ln 0.5768 = -0.55026) and
    dL/dh = -1/0.5768 = -1.7337; row 2 has y = 0 and h = 0.5875: L = -log(1 - 0.5875) = 0.8855."""
    rows = equation_rows(documents["markdown"], "markdown")
    loss = {r[0]: r[1:] for r in rows if r[0].startswith("L_{(") or r[0].startswith(r"\frac{\partial L_{(")}
    assert loss["L_{(1)}"] == [r"- \log{\left(0.5768 \right)}", "0.5503"]
    assert loss[r"\frac{\partial L_{(1)}}{\partial h^{(2)}_{1}}"] == [r"- \frac{1}{0.5768}", "-1.7337"]
    assert loss["L_{(2)}"] == [r"- \log{\left(1 - 0.5875 \right)}", "0.8855"]
    relu = next(r for r in rows if r[0].startswith(r"\operatorname{relu}'"))
    # z(1) of rows 1 and 2 (forward pass above): -0.5918, 2.3947; 0.07028, -1.0905; 0.5898, 2.0771; 0.02064, 0.7959.
    assert matrix_cells(relu[-1]) == [["0", "1"], ["1", "0"], ["1", "1"], ["1", "1"]]


def test_a_nine_unit_hidden_layer_fits_the_page(tmp_path):
    """z(2) sums nine weighted units: the problem statement continues it on a second row, and the
    whole PDF, with its 9-row matrices (shown with ⋮, then in full), has no overfull box."""
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    spec = loads(LAYERS.replace('size = 4, activation = "relu"', 'size = 9, activation = "relu"'), "nine.toml")
    latex = derive.render(spec.train(), "latex")
    statement = latex[:latex.index("The data")]
    assert r"w^{(2)}_{51} h^{(1)}_{5} \\ &\phantom{=}\quad + w^{(2)}_{61}" in statement
    assert r"\vdots" in latex and "In full" in latex
    compiles_without_overfull_boxes(tmp_path, latex)

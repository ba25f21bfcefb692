"""derive in Jupyter: displays of Problem, Trace and Step, and the %%derive / %derive_check magics,
run in a real kernel by nbclient. Step 1's numbers are the article's: ŷ = -0.116, w1' = 0.8294."""
from __future__ import annotations

import pytest

from support import EXAMPLES, ROOT, require

import derive
from derive.jupyter import cell_arguments, run_cell
from derive.errors import DeriveError

SEED_A = EXAMPLES / "seed_a_linear_regression.toml"


def test_objects_display_in_every_mime_type():
    problem = derive.load(SEED_A)
    trace = problem.train()
    for thing in (problem, trace, trace.steps[0]):
        bundle = thing._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/markdown", "text/latex", "text/html"}
    step = trace.steps[0]._repr_mimebundle_()
    assert step["text/latex"].startswith("$$\n\\begin{aligned}") and step["text/latex"].endswith("\\end{aligned}\n$$")
    assert "= -0.1160" in step["text/latex"] and "= 0.8294" in step["text/latex"]
    assert "<mn>0.1160</mn>" in step["text/html"] and "<mn>0.8294</mn>" in step["text/html"]
    assert "\\hat{y} &= w_{1} x_{1} + w_{2} x_{2} + b" in problem._repr_mimebundle_()["text/latex"]


def test_cell_options_are_checked():
    assert cell_arguments("--format html --steps all").steps == "all"
    assert cell_arguments("--steps 2").steps == 2
    for bad in ("--format pdf", "--steps 0", "--steps many", "--colour red"):
        with pytest.raises(DeriveError, match="%%derive"):
            cell_arguments(bad)


def test_cell_runs_a_spec_written_in_it():
    fmt, document = run_cell("--steps 1", SEED_A.read_text())
    assert fmt == "markdown" and "## Step 1 (epoch 1, row 1)" in document and "## Step 2 " not in document
    assert "= 0.8294" in document


def test_notebook_runs_the_magics_and_shows_the_trace(tmp_path):
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        nbformat = None
    require("nbclient", nbformat is not None, 'pip install ".[test]" installs nbclient and ipykernel')
    try:
        import ipykernel  # noqa: F401
    except ImportError:
        require("ipykernel", False, 'pip install ".[test]" installs it')
    answers = EXAMPLES / "answers" / "seed_b_student.toml"
    cells = [
        "%load_ext derive",
        "%%derive\n" + SEED_A.read_text(),
        f"import derive\nderive.load({str(SEED_A)!r}).train()",
        f"%derive_check {EXAMPLES / 'seed_b_straight_line.toml'} {answers}",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    magic, value, check = (cell.outputs for cell in notebook.cells[1:])
    assert [o.output_type for o in magic] == ["display_data"]
    assert "= 0.8294" in magic[0].data["text/markdown"] and "-0.1160" in magic[0].data["text/markdown"]
    assert [o.output_type for o in value] == ["execute_result"]
    data = value[0].data
    assert "-0.1160" in data["text/markdown"] and "= 0.8294" in data["text/markdown"]
    assert "<mn>0.1160</mn>" in data["text/html"] and "<mn>0.8294</mn>" in data["text/html"]
    assert ">-0.1160</tspan>" in data["text/html"]  # the graph's label for ŷ at step 1
    marked = [line.split() for line in "".join(o.get("text", "") for o in check).splitlines()]
    assert ["step", "1", "updated.m", "✗", "wrong", "given", "3,", "expected", "7/2"] in marked

"""Graphs with names as they are printed and, with [report] graph = "every step", each step's numbers.
Seed A's step 1 from the article: ŷ = -0.116, ∂L/∂ŷ = 2(ŷ - y) = -4.232, ∂ŷ/∂w1 = x1 = 4."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from support import EXAMPLES, require

from derive.cli import main
from derive.report.names import mermaid_name


def report(tmp_path, capsys, name: str, fmt: str = "markdown", extra: str = "") -> str:
    spec = tmp_path / f"{name}.toml"
    text = (EXAMPLES / f"{name}.toml").read_text()
    spec.write_text(text.replace("[report]", "[report]\n" + extra, 1) if "[report]" in text
                    else text + "\n[report]\n" + extra)
    capsys.readouterr()
    assert main(["run", str(spec), "--format", fmt]) == 0
    return capsys.readouterr().out


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\nflowchart LR\n(.*?)```", markdown, re.S)


def test_mermaid_nodes_show_names_as_printed(tmp_path, capsys):
    seed_a = mermaid_blocks(report(tmp_path, capsys, "seed_a_linear_regression"))
    assert '(["ŷ"]):::node' in seed_a[0] and '(["x<sub>1</sub>"]):::input' in seed_a[0]
    seed_c = mermaid_blocks(report(tmp_path, capsys, "seed_c_relu_sigmoid_network"))
    assert '(["w<sub>AD</sub>"]):::param' in seed_c[0] and '(["z<sub>D</sub>"]):::node' in seed_c[0]
    assert "AD" not in seed_c[0].replace("<sub>AD</sub>", "")


def test_mermaid_labels_keep_quotes_and_brackets_as_text():
    # [report.names] refuses such characters at load; the label writer stays safe regardless.
    assert mermaid_name('y"]) --> x["<b>#_{1}') == 'y#quot;])--#gt;x[#quot;#lt;b#gt;#35;<sub>1</sub>'


def test_every_step_graph_in_markdown_carries_the_steps_numbers(tmp_path, capsys):
    text = report(tmp_path, capsys, "seed_a_linear_regression", extra='graph = "every step"\n')
    blocks = mermaid_blocks(text)
    assert len(blocks) == 1 + 6  # the graph, then one per step worked in full
    step1 = blocks[1]
    labels = {label.split("<br/>")[0]: [float(v) for v in re.findall(r"= (-?[\d.]+)", label)]
              for label in re.findall(r'n\d+\(\["([^"]*)"\]\)', step1)}
    assert labels["ŷ"] == [-0.116, -4.232]
    assert labels["w<sub>1</sub>"] == [-0.017, -16.928]
    assert labels["x<sub>1</sub>"] == [4] and labels["y"] == [2]
    assert '(["x<sub>1</sub><br/>= 4"]):::input' in step1  # data as given
    names = {key: label.split("<br/>")[0] for key, label in re.findall(r'(n\d+)\(\["([^"]*)"\]\)', step1)}
    edges = {(names[a], names[b]): float(v) for a, v, b in re.findall(r'(n\d+) -->\|"([^"]*)"\| (n\d+)', step1)}
    assert edges == {("w<sub>1</sub>", "ŷ"): 4, ("w<sub>2</sub>", "ŷ"): 1, ("b", "ŷ"): 1, ("ŷ", "L"): -4.232}
    # The graph once (the default) draws no step's numbers.
    assert len(mermaid_blocks(report(tmp_path, capsys, "seed_a_linear_regression"))) == 1


def test_every_step_graph_in_latex_compiles(tmp_path, capsys):
    text = report(tmp_path, capsys, "seed_c_relu_sigmoid_network", "latex", 'graph = "every step"\n')
    once = report(tmp_path, capsys, "seed_c_relu_sigmoid_network", "latex")
    assert text.count(r"\begin{tikzpicture}") == once.count(r"\begin{tikzpicture}") + 4
    assert re.search(r"\{\$w_\{AD\}\$\\\\ \$=\$ \$1(\.0*)?\$\\\\ \$\\partial L/\\partial w_\{AD\}\$ \$=\$", text)
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    (tmp_path / "doc.tex").write_text(text)
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("value", ['"sometimes"', "true"])
def test_graph_setting_is_checked(tmp_path, capsys, value):
    spec = tmp_path / "bad.toml"
    spec.write_text((EXAMPLES / "seed_a_linear_regression.toml").read_text().replace(
        "[report]", f"[report]\ngraph = {value}", 1))
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "report.graph" in err and '"every step"' in err and "Traceback" not in err

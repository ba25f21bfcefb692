"""derive exercise: the worksheet with numbered blanks, its answers template and the answer key."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from support import EXAMPLES, require

from derive.cli import main

SEED_A = (EXAMPLES / "seed_a_linear_regression.toml").read_text()

# Seed A by the article, steps 1 and 2 (x = (4, 1), y = 2, then x = (2, 8), y = -14, eta = 0.05):
#   step 1: yhat = -0.017*4 - 0.048*1 + 0 = -0.116; L = (-2.116)^2 = 4.477456;
#           dL/dyhat = -4.232; dL/dw = (-16.928, -4.232, -4.232); w' = (0.8294, 0.1636, 0.2116)
#   step 2: yhat = 0.8294*2 + 0.1636*8 + 0.2116 = 3.1792; L = 17.1792^2 = 295.12491264;
#           dL/dyhat = 34.3584; dL/dw = (68.7168, 274.8672, 34.3584);
#           w' = (0.8294 - 3.43584, 0.1636 - 13.74336, 0.2116 - 1.71792) = (-2.60644, -13.57976, -1.50632)
KEY = {1: {"yhat": "-0.116", "loss": "4.477", "gradients": ("-16.928", "-4.232", "-4.232"),
           "updated": ("0.8294", "0.1636", "0.2116")},
       2: {"yhat": "3.1792", "loss": "295.12", "gradients": ("68.7168", "274.8672", "34.3584"),
           "updated": ("-2.6064", "-13.5798", "-1.5063")}}


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "seed_a.toml"
    path.write_text(SEED_A + "\n[exercise]\nsteps = 2\n")
    return path


def fill(template: str, slips: dict | None = None) -> str:
    """The answers template with the key's numbers written in the blanks (slips: blank -> text)."""
    numbers = {}
    for step, key in KEY.items():
        base = 8 * (step - 1)
        numbers[base + 1], numbers[base + 2] = key["yhat"], key["loss"]
        for i, value in enumerate(key["gradients"]):
            numbers[base + 3 + i] = value
        for i, value in enumerate(key["updated"]):
            numbers[base + 6 + i] = value
    numbers.update(slips or {})
    return re.sub(r'= ""   # \((\d+)\)', lambda m: f"= {numbers[int(m.group(1))]}   # ({m.group(1)})", template)


def test_the_worksheet_has_the_problem_and_numbered_blanks_but_no_answers(spec, capsys):
    assert main(["exercise", str(spec)]) == 0
    sheet = capsys.readouterr().out
    assert "## The problem" in sheet and "## The computation graph" in sheet and "| 4 | 1 | 2 |" in sheet
    for number in range(1, 17):
        assert rf"\textbf{{({number})}}" in sheet
    assert r"\textbf{(17)}" not in sheet
    for answer in ("-0.116", "4.4775", "16.928", "0.8294", "3.1792", "68.7168"):
        assert answer not in sheet
    assert r"w_{1}' &= w_{1} - \eta \frac{\partial L}{\partial w_{1}} = \boxed" in sheet


def test_the_answers_template_reads_back_unchanged_and_filled_with_the_key_is_all_correct(spec, tmp_path, capsys):
    template = tmp_path / "answers.toml"
    assert main(["exercise", str(spec), "--answers-template", str(template)]) == 0
    text = template.read_text()
    assert text.count('= ""') == 16
    assert main(["check", str(spec), str(template), "--format", "json"]) == 0
    assert '"verdicts": []' in capsys.readouterr().out
    template.write_text(fill(text))
    assert main(["check", str(spec), str(template)]) == 0
    assert "16 correct, 0 wrong" in capsys.readouterr().out
    # One slip: w1' = 0.8924 (digits swapped); step 2's yhat from the student's own w1 is
    # 0.8924*2 + 0.1636*8 + 0.2116 = 3.3052, which follows.
    template.write_text(fill(text, {6: "0.8924", 9: "3.3052"}))
    assert main(["check", str(spec), str(template), "--format", "json"]) == 1
    verdicts = {(v["step"], v["quantity"]): v["status"] for v in json.loads(capsys.readouterr().out)["verdicts"]}
    assert verdicts[(1, "updated.w1")] == "wrong" and verdicts[(2, "values.yhat")] == "follows"
    assert list(verdicts.values()).count("wrong") == 1


def test_the_key_holds_the_working_with_the_articles_numbers(spec, tmp_path):
    key = tmp_path / "key.md"
    assert main(["exercise", str(spec), "--key", str(key)]) == 0
    text = key.read_text()
    assert r"\text{(1)}\quad \hat{y} &= w_{1} x_{1} + w_{2} x_{2} + b = \left(-0.017\right) \times 4" in text
    assert r"= -0.1160 \\" in text and r"\left(-4.2320\right) \times 4 = -16.9280" in text
    assert r"= -0.017 - 0.05 \times \left(-16.9280\right) = 0.8294" in text
    assert r"\text{(16)}\quad b' &= b - \eta \frac{\partial L}{\partial b} = 0.2116 - 0.05 \times 34.3584 = -1.5063" in text


def test_other_quantities_can_be_asked(tmp_path):
    spec = tmp_path / "momentum.toml"
    spec.write_text((EXAMPLES / "seed_a_with_momentum.toml").read_text()
                    + '\n[exercise]\nask = ["local", "deltas", "state", "updated.w1"]\n')
    template = tmp_path / "answers.toml"
    assert main(["exercise", str(spec), "--answers-template", str(template)]) == 0
    text = template.read_text()
    assert '"L/yhat" = ""' in text and "[steps.deltas]" in text and "[steps.state.w1]" in text
    assert "[steps.updated]\nw1 = \"\"" in text and "w2 = \"\"   # " not in text.split("[steps.updated]")[1]
    # Seed A with momentum, step 1: dL/dyhat = -4.232, the buffer starts at the gradient -16.928,
    # w1' = -0.017 - 0.001 * (-16.928) = -0.000072.
    filled = (text.replace('"L/yhat" = ""', '"L/yhat" = -4.232').replace('[steps.state.w1]\nb = ""', '[steps.state.w1]\nb = -16.928')
              .replace('[steps.updated]\nw1 = ""', '[steps.updated]\nw1 = -0.000072'))
    template.write_text(filled)
    assert main(["check", str(spec), str(template)]) == 0


@pytest.mark.parametrize("table,message", [
    ('ask = ["gradient"]', "exercise.ask: 'gradient' is neither a group"),
    ("steps = 9", "exercise.steps: 9 is not a number of steps from 1 to 6"),
    ("step = 2", "exercise.step: unknown key"),
])
def test_a_bad_exercise_table_exits_2(tmp_path, capsys, table, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(SEED_A + f"\n[exercise]\n{table}\n")
    assert main(["exercise", str(spec)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_the_worksheet_and_key_compile_to_pdf(spec, tmp_path):
    require("pdflatex", shutil.which("pdflatex") is not None, "the PDF worksheet needs it")
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.pdf"
    assert main(["exercise", str(spec), "--pdf", str(sheet), "--key-pdf", str(key)]) == 0
    text = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
    assert "Your working" in text and "(16)" in text and "0.8294" not in text
    text = subprocess.run(["pdftotext", str(key), "-"], capture_output=True, text=True, check=True).stdout
    assert "0.8294" in text and "−2.6064" in text

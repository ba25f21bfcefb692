"""derive check with [formulas]: derivatives written by a student, marked like a teacher marks them.

The right answers below are derived by hand in the comments; the slips are the ones students make."""
from __future__ import annotations

import csv
import json

import pytest

from support import EXAMPLES

from derive.cli import main

SEED_A = str(EXAMPLES / "seed_a_linear_regression.toml")
SEED_C = str(EXAMPLES / "seed_c_relu_sigmoid_network.toml")
LOGISTIC = str(EXAMPLES / "logistic_regression.toml")
SEED_A_TEXT = (EXAMPLES / "seed_a_linear_regression.toml").read_text()


def check(tmp_path, capsys, spec, formulas: dict, fmt="json"):
    path = tmp_path / "answers.toml"
    path.write_text("[formulas]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in formulas.items()))
    code = main(["check", spec, str(path), "--format", fmt])
    captured = capsys.readouterr()
    if fmt != "json" or not captured.out:
        return code, captured
    return code, {v["quantity"]: v for v in json.loads(captured.out)["verdicts"]}


# Right answers, by hand. Seed A: L = (ŷ − y)², so dL/dŷ = 2(ŷ − y) and dL/dw1 = 2(ŷ − y) x1.
# Seed C: L = −(y log F + (1 − y) log(1 − F)), so dL/dF = −y/F + (1 − y)/(1 − F); F = σ(zF), dF/dzF = F(1 − F).
# Logistic regression: p = σ(z), z = w x + b, BCE loss: dL/dz = p − y, dL/dw = (p − y) x.
@pytest.mark.parametrize("spec,key,right", [
    (SEED_A, "dL/dyhat", "2*(yhat - y)"),
    (SEED_A, "dL/dw1", "2*(yhat - y)*x1"),
    (SEED_A, "dyhat/dw2", "x2"),
    (SEED_C, "dL/dF", "-y/F + (1 - y)/(1 - F)"),
    (SEED_C, "dF/dzF", "F*(1 - F)"),
    (SEED_C, "dL/dzF", "F - y"),
    (LOGISTIC, "dL/dw", "(p - y)*x"),
    (LOGISTIC, "dL/db", "p - y"),
])
def test_right_formulas_are_correct(tmp_path, capsys, spec, key, right):
    code, verdicts = check(tmp_path, capsys, spec, {key: right})
    assert code == 0 and verdicts[f"formulas.{key}"]["status"] == "correct"


def test_an_equivalent_rearrangement_is_correct(tmp_path, capsys):
    code, verdicts = check(tmp_path, capsys, SEED_A, {"dL/dyhat": "2*yhat - 2*y", "dL/dw1": "2*x1*yhat - 2*y*x1"})
    assert code == 0 and {v["status"] for v in verdicts.values()} == {"correct"}


@pytest.mark.parametrize("slip,spec,key,given", [
    ("missing factor 2", SEED_A, "dL/dyhat", "yhat - y"),
    ("lost minus sign", SEED_C, "dL/dF", "y/F - (1 - y)/(1 - F)"),
    ("inner derivative of the chain rule forgotten", LOGISTIC, "dL/dw", "p - y"),
    ("sigma' written as sigma", LOGISTIC, "dp/dz", "p"),
], ids=lambda x: x if isinstance(x, str) and " " in x else None)
def test_typical_slips_are_wrong_and_show_the_derivation(tmp_path, capsys, slip, spec, key, given):
    code, verdicts = check(tmp_path, capsys, spec, {key: given})
    verdict = verdicts[f"formulas.{key}"]
    assert code == 1 and verdict["status"] == "wrong", slip
    assert verdict["working"].startswith(r"\frac{\partial")


def test_the_derivation_is_shown_rule_by_rule(tmp_path, capsys):
    code, captured = check(tmp_path, capsys, SEED_A, {"dL/dyhat": "yhat - y"}, fmt="text")
    out = captured.out
    assert code == 1
    assert "expected 2*(yhat - y)" in out
    assert "1 chain rule with u = yhat - y: ∂/∂ŷ (ŷ - y)² = 2 (ŷ - y)" in out
    assert "1.1 power rule: d/du u² = 2 u" in out


def test_right_from_the_students_own_wrong_formula_follows(tmp_path, capsys):
    # dL/dŷ = ŷ − y is wrong (the 2 is missing); dL/dw1 = (ŷ − y) x1 is then right from it.
    code, verdicts = check(tmp_path, capsys, SEED_A, {"dL/dyhat": "yhat - y", "dL/dw1": "(yhat - y)*x1",
                                                      "dL/dw2": "(yhat - y)*x1"})
    assert verdicts["formulas.dL/dyhat"]["status"] == "wrong"
    assert verdicts["formulas.dL/dw1"]["status"] == "follows"
    assert verdicts["formulas.dL/dw2"]["status"] == "wrong"
    _, captured = check(tmp_path, capsys, SEED_A, {"dL/dyhat": "yhat - y", "dL/dw1": "(yhat - y)*x1"}, fmt="text")
    assert "(right from your own earlier formulas: x1*(yhat - y))" in captured.out


def test_hostile_formula_is_refused_without_running(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    code, captured = check(tmp_path, capsys, SEED_A, {"dL/dyhat": f"__import__('os').system('touch {marker}')"},
                           fmt="text")
    assert code == 2 and not marker.exists()
    assert captured.err.count("\n") == 1 and "formulas.dL/dyhat" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("key,fix", [("L/yhat", "dA/dB"), ("dL/dq", "not a node or parameter"),
                                     ("dq/dyhat", "not a node")])
def test_bad_keys_name_the_fix(tmp_path, capsys, key, fix):
    code, captured = check(tmp_path, capsys, SEED_A, {key: "1"}, fmt="text")
    assert code == 2 and fix in captured.err and captured.err.count("\n") == 1


def test_relu_derivative_written_with_the_step_function(tmp_path, capsys):
    # Seed C: D = relu(zD), so dD/dzD is 1 for zD > 0 and 0 otherwise: heaviside(zD); relu(zD) is a slip.
    code, verdicts = check(tmp_path, capsys, SEED_C, {"dD/dzD": "heaviside(zD)", "dE/dzE": "relu(zE)"})
    assert verdicts["formulas.dD/dzD"]["status"] == "correct"
    assert verdicts["formulas.dE/dzE"]["status"] == "wrong"


def test_formulas_are_marked_under_the_class_roster(tmp_path, capsys):
    # Each student's variant draws its own starting values; the formulas are the same for all:
    # dL/dyhat = 2(yhat - y), dL/dw1 = 2(yhat - y) x1.
    spec = tmp_path / "spec.toml"
    spec.write_text(SEED_A_TEXT + '\n[variants]\nsalt = "formulas"\nw1 = { uniform = [-1, 1], decimals = 2 }\n')
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ana\ns2,Ben\ns3,Cy\n")
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "s1.toml").write_text('[formulas]\n"dL/dyhat" = "2*(yhat - y)"\n"dL/dw1" = "2*x1*yhat - 2*x1*y"\n')
    (answers / "s2.toml").write_text('[formulas]\n"dL/dyhat" = "yhat - y"\n"dL/dw1" = "(yhat - y)*x1"\n')
    grades = tmp_path / "grades.csv"
    code = main(["check", str(spec), "--roster", str(roster), str(answers), "--csv", str(grades), "--format", "json"])
    assert code == 1
    files = {f["student"]: f for f in json.loads(capsys.readouterr().out)["files"]}
    status = {s: {v["quantity"]: v["status"] for v in files[s]["verdicts"]} for s in ("s1", "s2")}
    assert status["s1"] == {"formulas.dL/dyhat": "correct", "formulas.dL/dw1": "correct"}
    # s2 forgot the 2; dL/dw1 is right from that wrong dL/dyhat.
    assert status["s2"] == {"formulas.dL/dyhat": "wrong", "formulas.dL/dw1": "follows"}
    book = {row["student"]: row for row in csv.DictReader(grades.open())}
    assert (book["s1"]["correct"], book["s2"]["wrong"], book["s3"]["correct"]) == ("2", "1", "0")


def test_the_readme_shows_what_check_prints_for_formulas(tmp_path, capsys):
    readme = (EXAMPLES.parent / "README.md").read_text()
    answers = readme.split("```toml\n[formulas]\n", 1)[1].split("```", 1)[0]
    shown = readme.split("`formulas.dL/dyhat`.", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "answers.toml"
    path.write_text("[formulas]\n" + answers)
    main(["check", SEED_A, str(path)])
    printed = capsys.readouterr().out.splitlines()
    assert shown.splitlines() == printed[1:-1]

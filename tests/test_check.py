"""derive check: the slips students make, each marked as a marker would."""
from __future__ import annotations

import json

import pytest

from support import EXAMPLES

from derive.cli import main

SEED_A = str(EXAMPLES / "seed_a_linear_regression.toml")
SEED_B = str(EXAMPLES / "seed_b_straight_line.toml")

# The article's step 1 of seed A, to 3 decimals: yhat -0.116, L 4.477, dL/dw (-16.928, -4.232, -4.232),
# updated w1 0.829, w2 0.164, b 0.212.
STEP_1 = """[[steps]]
step = 1
loss = {loss}
values = {{ yhat = {yhat} }}
gradients = {{ w1 = {g1}, w2 = -4.232, b = -4.232 }}
updated = {{ w1 = {w1}, w2 = {w2}, b = 0.212 }}
"""
RIGHT = dict(loss=4.477, yhat=-0.116, g1=-16.928, w1=0.829, w2=0.164)


def check(tmp_path, capsys, spec, text, *extra):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    code = main(["check", spec, str(path), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, {v["quantity"] + f"@{v['step']}": v for v in json.loads(out)["verdicts"]} if out else {}


def test_the_articles_numbers_are_all_correct(tmp_path, capsys):
    code, verdicts = check(tmp_path, capsys, SEED_A, STEP_1.format(**RIGHT))
    assert code == 0 and {v["status"] for v in verdicts.values()} == {"correct"} and len(verdicts) == 8


@pytest.mark.parametrize("slip,change,quantity", [
    ("transposed digit", {"w1": 0.892}, "updated.w1"),
    ("dropped minus sign", {"g1": 16.928}, "gradients.w1"),
    # The learning rate applied twice: w1 - 2*eta*g = -0.017 + 2*0.05*16.928 = 1.6758.
    ("learning rate twice", {"w1": 1.6758}, "updated.w1"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_slips_are_wrong_and_show_the_working(tmp_path, capsys, slip, change, quantity):
    code, verdicts = check(tmp_path, capsys, SEED_A, STEP_1.format(**{**RIGHT, **change}))
    assert code == 1
    wrong = [k for k, v in verdicts.items() if v["status"] == "wrong"]
    assert wrong[0] == f"{quantity}@1"
    assert verdicts[f"{quantity}@1"]["working"].endswith("= -16.9280" if "gradients" in quantity else "= 0.8294")


def test_a_dropped_sign_in_the_gradient_carries_into_the_update_as_follows(tmp_path, capsys):
    # With dL/dw1 = +16.928 the student's own update is -0.017 - 0.05*16.928 = -0.8634.
    code, verdicts = check(tmp_path, capsys, SEED_A, STEP_1.format(**{**RIGHT, "g1": 16.928, "w1": -0.863}))
    assert verdicts["gradients.w1@1"]["status"] == "wrong"
    assert verdicts["updated.w1@1"]["status"] == "follows"
    assert verdicts["updated.w1@1"]["own"] == pytest.approx(-0.8634)


@pytest.mark.parametrize("answers", [
    dict(loss=4.48, yhat=-0.12, g1=-16.93, w1=0.83, w2=0.16),  # 2 decimals
    dict(loss=4.477, yhat=-0.116, g1=-16.928, w1=0.829, w2=0.164),  # 3 decimals
], ids=["2-decimals", "3-decimals"])
def test_rounded_answers_are_correct(tmp_path, capsys, answers):
    code, verdicts = check(tmp_path, capsys, SEED_A,
                           STEP_1.format(**answers).replace("-4.232", "-4.23" if answers["loss"] == 4.48 else "-4.232"))
    assert code == 0, verdicts


def test_drift_from_carrying_two_decimals_is_allowed(tmp_path, capsys):
    # Carrying 2 decimals: w = (0.83, 0.16, 0.21) after step 1, so step 2 (x = (2, 8), y = -14) gives
    # yhat = 0.83*2 + 0.16*8 + 0.21 = 3.15 and L = (3.15 + 14)^2 = 294.1225 -> 294.12, where full precision
    # gives 3.1792 and 295.1249. Both of the student's numbers are right for the working they carried.
    text = "[[steps]]\nstep = 2\nloss = 294.12\nvalues = { yhat = 3.15 }\n"
    code, verdicts = check(tmp_path, capsys, SEED_A, text)
    assert code == 0 and verdicts["values.yhat@2"]["expected"] == pytest.approx(3.1792)
    code, verdicts = check(tmp_path, capsys, SEED_A, "[[steps]]\nstep = 2\nvalues = { yhat = 3.16 }\n")
    assert code == 1


def test_seed_b_error_carried_forward_follows(tmp_path, capsys):
    # Step 1 by the article: m' = 3.5, c' = 2.5. The student writes m' = 3 (wrong), c' = 2.5.
    # Step 2 from the student's own m = 3, c = 2.5 at x = 2, y = 5: yhat = 8.5, L = (8.5 - 5)^2/2 = 6.125,
    # dL/dm = 3.5*2 = 7, dL/dc = 3.5, m' = 3 - 7/4 = 1.25, c' = 2.5 - 3.5/4 = 1.625.
    text = """[[steps]]
step = 1
updated = { m = 3, c = 2.5 }

[[steps]]
step = 2
loss = 6.125
values = { yhat = 8.5 }
gradients = { m = 7, c = 3.5 }
updated = { m = 1.25, c = 1.625 }
"""
    code, verdicts = check(tmp_path, capsys, SEED_B, text)
    assert code == 1
    assert verdicts["updated.m@1"]["status"] == "wrong" and verdicts["updated.c@1"]["status"] == "correct"
    for q in ("values.yhat", "loss", "gradients.m", "gradients.c", "updated.c"):
        assert verdicts[f"{q}@2"]["status"] == "follows", q
    # m' = 1.25 happens to equal the true value too (3.5 - 9/4 = 1.25), so it is simply correct.
    assert verdicts["updated.m@2"]["status"] == "correct"
    assert verdicts["values.yhat@2"]["expected"] == 9.5 and verdicts["loss@2"]["expected"] == 10.125


def test_tolerance_overrides_the_decimals_rule(tmp_path, capsys):
    text = "[[steps]]\nstep = 1\nupdated = { w1 = 0.83 }\n"
    assert check(tmp_path, capsys, SEED_A, text, "--tolerance", "0.0001")[0] == 1
    assert check(tmp_path, capsys, SEED_A, text, "--tolerance", "0.001")[0] == 0


@pytest.mark.parametrize("text,message", [
    ("[[steps]]\nstep = 9\nloss = 1.0\n", "steps[1].step: there is no step 9; the run has steps 1 to 6."),
    ("[[steps]]\nstep = 1\nvalues = { yhta = 1.0 }\n", "step 1: values.yhta: not a node. Did you mean 'yhat'?"),
    ("[[steps]]\nstep = 1\nloss = \"four\"\n", "step 1: loss: 'four' is not a number"),
    ("[[steps]]\nstep = 1\ngradient = { w1 = 1.0 }\n", "steps[1].gradient: unknown key. Did you mean 'gradients'?"),
    ("[[steps]\n", "not valid TOML"),
], ids=["no-such-step", "unknown-quantity", "not-a-number", "unknown-key", "not-toml"])
def test_unusable_answers_exit_2_naming_file_step_and_key(tmp_path, capsys, text, message):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    assert main(["check", SEED_A, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: " in err and message in err, err


def test_a_class_gives_a_gradebook(tmp_path, capsys):
    files = []
    for name, change in (("ana", {}), ("ben", {"w1": 0.892}), ("cho", {"g1": 16.928, "w1": -0.863})):
        path = tmp_path / f"{name}.toml"
        path.write_text(STEP_1.format(**{**RIGHT, **change}))
        files.append(str(path))
    grades = tmp_path / "grades.csv"
    assert main(["check", SEED_A, *files, "--csv", str(grades)]) == 1
    rows = grades.read_text().splitlines()
    assert rows[0] == "student,file,score,max_score,correct,wrong,follows,imprecise,first_wrong_step"
    # One point an answer; a follows earns its point by default.
    assert rows[1:] == [f"ana,{files[0]},8,8,8,0,0,0,", f"ben,{files[1]},7,8,7,1,0,0,1",
                        f"cho,{files[2]},7,8,6,1,1,0,1"]
    text = capsys.readouterr().out
    assert "∂L/∂w₁ = ∂L/∂ŷ · ∂ŷ/∂w₁ = (-4.2320) × 4 = -16.9280" in text


def test_the_readme_students_answers(capsys):
    answers = str(EXAMPLES / "answers" / "seed_b_student.toml")
    assert main(["check", SEED_B, answers]) == 1
    out = capsys.readouterr().out
    # Step 1 by the article: m' = 5 - 6/4 = 7/2; everything in step 2 follows from the student's m = 3
    # except m' = 1.25, which the article's working also reaches (3.5 - 9/4).
    assert "working: m' = m - η ∂L/∂m = 5 - 1/4 × 6 = 7/2" in out
    assert out.rstrip().endswith("6 correct, 1 wrong, 5 follow from an earlier error; score 11 of 12")

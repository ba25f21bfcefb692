"""Marking precision: digits required, imprecise answers, fractions, and every kind of quantity."""
from __future__ import annotations

import json

import pytest

from support import EXAMPLES

from derive.cli import main

# A one-row problem worked by hand: yhat = a*x + b*z + c with x = z = 2, y = 0, a = 1, b = -1.4,
# c = 0, L = (yhat - y)^2 / 2, eta = 0.125.
#   yhat = 2 - 2.8 + 0 = -0.8;  L = 0.32;  dL/dyhat = yhat - y = -0.8
#   dL/da = -0.8 * 2 = -1.6;  dL/db = -1.6;  dL/dc = -0.8
#   a' = 1 + 0.125 * 1.6 = 1.2;  b' = -1.4 + 0.2 = -1.2;  c' = 0 + 0.125 * 0.8 = 0.1
ABC = """
[model]
inputs = ["x", "z"]
targets = ["y"]
loss = "L"
[model.nodes]
yhat = "a*x + b*z + c"
L = "(yhat - y)**2 / 2"
[params]
a = 1
b = -1.4
c = 0
[data]
x = [2]
z = [2]
y = [0]
[train]
learning_rate = 0.125
"""


def mark(tmp_path, capsys, spec_text, answers, *flags, spec_name="spec.toml"):
    spec = tmp_path / spec_name
    spec.write_text(spec_text)
    path = tmp_path / "answers.toml"
    path.write_text(answers)
    code = main(["check", str(spec), str(path), "--format", "json", *flags])
    out = capsys.readouterr()
    assert out.err == "" or code == 2, out.err
    data = json.loads(out.out)
    return code, {v["quantity"] + f"@{v['step']}": v for v in data["verdicts"]}, data["summary"]


def test_the_three_lenient_answers_are_imprecise_not_correct(tmp_path, capsys):
    answers = "[[steps]]\nstep = 1\ngradients = { a = -2 }\nupdated = { b = -1, c = 0 }\n"
    code, verdicts, summary = mark(tmp_path, capsys, ABC, answers)
    assert code == 1
    for key, expected in (("gradients.a@1", -1.6), ("updated.b@1", -1.2), ("updated.c@1", 0.1)):
        assert verdicts[key]["status"] == "imprecise", key
        assert verdicts[key]["expected"] == pytest.approx(expected)
        assert verdicts[key]["required"] == "2 significant figures"
    assert summary["imprecise"] == 3 and summary["score"] == 0 and summary["max_score"] == 3


def test_the_lenient_answers_in_the_terminal_name_the_digits_required(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(ABC)
    path = tmp_path / "answers.toml"
    path.write_text("[[steps]]\nstep = 1\nupdated = { c = 0 }\n")
    assert main(["check", str(spec), str(path)]) == 1
    out = capsys.readouterr().out
    assert "updated.c        ≈ imprecise given 0, expected 0.1 (right as far as it goes; write at least 2 significant figures)" in out


def test_answers_at_the_required_digits_are_correct_and_wrong_ones_wrong(tmp_path, capsys):
    answers = ("[[steps]]\nstep = 1\nloss = 0.32\nvalues = { yhat = -0.80 }\ngradients = { a = -1.6, b = -1.60, c = -0.8 }\n"
               "updated = { a = 1.2, b = -1.2, c = 0.10 }\n")
    code, verdicts, summary = mark(tmp_path, capsys, ABC, answers)
    assert code == 0 and summary["correct"] == 8
    # -1.7 is written to the digits required but is not -1.6 rounded there.
    code, verdicts, _ = mark(tmp_path, capsys, ABC, "[[steps]]\nstep = 1\ngradients = { a = -1.7 }\n")
    assert code == 1 and verdicts["gradients.a@1"]["status"] == "wrong"


def test_decimals_and_tolerance_from_the_spec_or_the_flags(tmp_path, capsys):
    # Seed A's step 1 loss is (-0.116 - 2)^2 = 4.477456: 4.5 shows 1 decimal.
    seed_a = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    answers = "[[steps]]\nstep = 1\nloss = 4.5\n"
    code, verdicts, _ = mark(tmp_path, capsys, seed_a + "\n[check]\ndecimals = 2\n", answers)
    assert verdicts["loss@1"]["status"] == "imprecise" and verdicts["loss@1"]["required"] == "2 decimals"
    code, verdicts, _ = mark(tmp_path, capsys, seed_a, answers, "--decimals", "1")
    assert code == 0
    # A value equal to the true one is enough whatever digits it shows: dL/da is -1.6 exactly.
    code, verdicts, _ = mark(tmp_path, capsys, ABC, "[[steps]]\nstep = 1\ngradients = { a = -1.6 }\n", "--decimals", "3")
    assert code == 0
    # Within an absolute tolerance of 0.5, -2 is accepted for -1.6; within 0.1 it is not.
    code, verdicts, _ = mark(tmp_path, capsys, ABC, "[[steps]]\nstep = 1\ngradients = { a = -2 }\n", "--tolerance", "0.5")
    assert code == 0
    code, verdicts, _ = mark(tmp_path, capsys, ABC, "[[steps]]\nstep = 1\ngradients = { a = -2 }\n", "--tolerance", "0.1")
    assert verdicts["gradients.a@1"]["status"] == "wrong"
    # 30% of 1.6 is 0.48: -2 is inside.
    code, verdicts, _ = mark(tmp_path, capsys, ABC + "[check]\nrelative = 0.3\n", "[[steps]]\nstep = 1\ngradients = { a = -2 }\n")
    assert code == 0


def test_a_student_carrying_two_decimals_throughout_is_correct_under_decimals_2(tmp_path, capsys):
    # Seed A carrying 2 decimals: step 1 gives w = (0.83, 0.16, 0.21); step 2 (x = (2, 8), y = -14):
    # yhat = 0.83*2 + 0.16*8 + 0.21 = 3.15, L = (3.15 + 14)^2 = 294.1225 -> 294.12;
    # dL/dyhat = 2 * 17.15 = 34.30, dL/dw1 = 34.30 * 2 = 68.60, w1' = 0.83 - 0.05 * 68.60 = -2.60.
    # Full precision gives yhat 3.1792, L 295.1249..., dL/dw1 68.7168, w1' -2.6064.
    spec = (EXAMPLES / "seed_a_linear_regression.toml").read_text() + "\n[check]\ndecimals = 2\n"
    answers = ("[[steps]]\nstep = 2\nvalues = { yhat = 3.15 }\nloss = 294.12\ngradients = { w1 = 68.60 }\n"
               "updated = { w1 = -2.60 }\n")
    code, verdicts, _ = mark(tmp_path, capsys, spec, answers)
    assert code == 0, verdicts
    assert verdicts["values.yhat@2"]["expected"] == pytest.approx(3.1792)
    code, verdicts, _ = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 2\nvalues = { yhat = 3.16 }\n")
    assert verdicts["values.yhat@2"]["status"] == "wrong"
    code, verdicts, _ = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 2\nvalues = { yhat = 3.2 }\n")
    assert verdicts["values.yhat@2"]["status"] == "imprecise"


@pytest.mark.parametrize("given,status", [('"7/2"', "correct"), ("3.5", "correct"), ('"14/4"', "correct"),
                                          ('"7/3"', "wrong"), ("3.50", "correct")])
def test_fractions_are_accepted_for_exact_specs(tmp_path, capsys, given, status):
    # Seed B, step 1 by the article: m' = 5 - (1/4) * 6 = 7/2.
    spec = (EXAMPLES / "seed_b_straight_line.toml").read_text()
    code, verdicts, _ = mark(tmp_path, capsys, spec, f"[[steps]]\nstep = 1\nupdated = {{ m = {given} }}\n")
    assert verdicts["updated.m@1"]["status"] == status


def test_local_partials_and_deltas_are_marked(tmp_path, capsys):
    # Seed A step 1: yhat = -0.116, y = 2: dL/dyhat = 2(yhat - y) = -4.232 (the local partial on
    # the edge L <- yhat and the delta of yhat); dyhat/dw1 = x1 = 4; the loss's own delta is 1.
    spec = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    answers = ('[[steps]]\nstep = 1\nlocal = { "L/yhat" = -4.232, "yhat/w1" = 4 }\n'
               "deltas = { yhat = -4.232, L = 1 }\n")
    code, verdicts, _ = mark(tmp_path, capsys, spec, answers)
    assert code == 0 and len(verdicts) == 4
    code, verdicts, _ = mark(tmp_path, capsys, spec, '[[steps]]\nstep = 1\nlocal = { "L/yhat" = 4.232 }\n')
    assert verdicts["local.L/yhat@1"]["status"] == "wrong"
    assert verdicts["local.L/yhat@1"]["working"].endswith("= -4.2320")


def test_a_wrong_local_partial_carries_into_the_delta_and_gradient_as_follows(tmp_path, capsys):
    # A student who forgets the 2 of the square: dL/dyhat = -0.116 - 2 = -2.116, so their delta of
    # yhat is -2.116 and dL/dw1 = -2.116 * 4 = -8.464.
    spec = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    answers = ('[[steps]]\nstep = 1\nlocal = { "L/yhat" = -2.116 }\ndeltas = { yhat = -2.116 }\n'
               "gradients = { w1 = -8.464 }\n")
    code, verdicts, _ = mark(tmp_path, capsys, spec, answers)
    assert verdicts["local.L/yhat@1"]["status"] == "wrong"
    assert verdicts["deltas.yhat@1"]["status"] == "follows"
    assert verdicts["gradients.w1@1"]["status"] == "follows"


def test_optimiser_state_is_marked(tmp_path, capsys):
    # Seed A with momentum 0.9, eta = 0.001. Step 1: the buffer starts at the gradient, -16.928.
    # w after step 1: (-0.017 + 0.016928, -0.048 + 0.004232, 0.004232) = (-0.000072, -0.043768, 0.004232).
    # Step 2 (x = (2, 8), y = -14): yhat = -0.000144 - 0.350144 + 0.004232 = -0.346056,
    # dL/dyhat = 2 * 13.653944 = 27.307888, dL/dw1 = 54.615776, buffer = 0.9 * -16.928 + 54.615776 = 39.380576.
    spec = (EXAMPLES / "seed_a_with_momentum.toml").read_text()
    answers = ("[[steps]]\nstep = 1\nstate = { w1 = { b = -16.928 } }\n\n"
               "[[steps]]\nstep = 2\ngradients = { w1 = 54.616 }\nstate = { w1 = { b = 39.381 } }\n")
    code, verdicts, _ = mark(tmp_path, capsys, spec, answers)
    assert code == 0, verdicts
    assert verdicts["state.w1.b@2"]["expected"] == pytest.approx(39.380576)
    # Forgetting the momentum (buffer = the gradient) is wrong.
    code, verdicts, _ = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 2\nstate = { w1 = { b = 54.616 } }\n")
    assert verdicts["state.w1.b@2"]["status"] == "wrong"


def test_blanks_are_not_answered(tmp_path, capsys):
    code, verdicts, summary = mark(tmp_path, capsys, ABC, '[[steps]]\nstep = 1\nloss = ""\nupdated = { a = 1.2, b = "" }\n')
    assert list(verdicts) == ["updated.a@1"] and code == 0


def test_points_and_follows_credit(tmp_path, capsys):
    # The student writes dL/da = -1.5 (wrong) and then a' = 1 - 0.125 * (-1.5) = 1.1875 (follows).
    spec = ABC + "[check]\npoints = { gradients = 2, \"updated.a\" = 3 }\nfollows_credit = 0.5\n"
    code, verdicts, summary = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 1\ngradients = { a = -1.5 }\nupdated = { a = 1.1875 }\n")
    assert verdicts["updated.a@1"]["status"] == "follows"
    assert (summary["score"], summary["max_score"]) == (1.5, 5)


def test_batch_values_are_lists_of_one_number_per_row(tmp_path, capsys):
    # Seed A with two rows a step: rows 1 and 2 give yhat = -0.116 and 2*(-0.017) + 8*(-0.048) = -0.418.
    spec = (EXAMPLES / "seed_a_linear_regression.toml").read_text().replace("batch_size = 1", "batch_size = 2")
    assert "batch_size = 2" in spec
    code, verdicts, _ = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 1\nvalues = { yhat = [-0.116, -0.418] }\n")
    assert code == 0 and verdicts["values.yhat@1"]["expected"] == pytest.approx([-0.116, -0.418])


@pytest.mark.parametrize("answers,flags,message", [
    ("[[steps]]\nstep = 1\nloss = [1, 2]\n", [], "step 1: loss: expected one number, not a list"),
    ("[[steps]]\nstep = 1\nvalues = { yhat = [1.0] }\n", [], "values.yhat: expected one number, not a list"),
    ("steps = [1, 2]\n", [], "steps: expected [[steps]] tables"),
    ("[[steps]]\nstep = 1\nloss = 1\n[[steps]]\nstep = 1\nloss = 2\n", [], "step 1 is answered twice (also in steps[1])"),
    ("[[steps]]\nstep = 1\nloss = 1\n", ["--tolerance", "nan"], "--tolerance: nan is not a finite number of at least 0"),
    ("[[steps]]\nstep = 1\nloss = 1\n", ["--tolerance", "-1"], "--tolerance: -1.0 is not a finite number of at least 0"),
    ("[[steps]]\nstep = 1\nloss = inf\n", [], "step 1: loss:"),
], ids=["list-for-loss", "list-for-one-row", "steps-of-numbers", "duplicate-step", "tolerance-nan", "tolerance-negative",
        "infinite"])
def test_unusable_check_input_exits_2_with_one_line(tmp_path, capsys, answers, flags, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(ABC)
    path = tmp_path / "answers.toml"
    path.write_text(answers)
    assert main(["check", str(spec), str(path), *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and message in err, err


def test_a_batch_list_one_row_short_is_refused(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text((EXAMPLES / "seed_a_linear_regression.toml").read_text().replace("batch_size = 1", "batch_size = 3"))
    path = tmp_path / "answers.toml"
    path.write_text("[[steps]]\nstep = 1\nvalues = { yhat = [1, 2] }\n")
    assert main(["check", str(spec), str(path)]) == 2
    assert "values.yhat: this step has 3 rows; give a list of 3 numbers, one per row (got a list of 2)" in capsys.readouterr().err


@pytest.mark.parametrize("given", ["1e30", "-2.5e40", "1e-30", "3e-300"])
def test_answers_of_any_size_are_marked_wrong_not_crashed(tmp_path, capsys, given):
    code, verdicts, _ = mark(tmp_path, capsys, ABC, f"[[steps]]\nstep = 1\nloss = {given}\n")
    assert code == 1 and verdicts["loss@1"]["status"] == "wrong"


def test_huge_true_values_are_marked_at_the_digits_written(tmp_path, capsys):
    # a = 1e30 makes yhat = 2e30 - 2.8 = 2e30 (to 12 figures) and L = 2e60.
    spec = ABC.replace("a = 1\n", "a = 1e30\n")
    code, verdicts, _ = mark(tmp_path, capsys, spec, "[[steps]]\nstep = 1\nvalues = { yhat = 2.0e30 }\nloss = 2e60\n")
    assert code == 0, verdicts


def test_a_folder_stands_for_its_answers_files(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(ABC)
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ana.toml").write_text("[[steps]]\nstep = 1\nloss = 0.32\n")
    (folder / "ben.toml").write_text("[[steps]]\nstep = 1\nloss = 0.23\n")
    assert main(["check", str(spec), str(folder), "--format", "json"]) == 1
    files = json.loads(capsys.readouterr().out)["files"]
    assert [(f["student"], f["summary"]["correct"]) for f in files] == [("ana", 1), ("ben", 0)]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(spec), str(empty)]) == 2
    assert "holds no .toml answers files" in capsys.readouterr().err

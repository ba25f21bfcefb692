"""Per-student variants: reproducible draws, requirements, a class marked against its own key."""
from __future__ import annotations

import csv
import hashlib
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from support import EXAMPLES, write_course

from derive.cli import main

SALT = "ml101-2026"
VARIANTS = f"""
[exercise]
steps = 2

[variants]
salt = "{SALT}"
learning_rate = {{ choice = [0.01, 0.02] }}
w1 = {{ uniform = [-1, 1], decimals = 2 }}
w2 = {{ uniform = [-1, 1], decimals = 2 }}
x1 = {{ integers = [-3, 3] }}

[variants.require]
nonzero = ["gradients.w1"]
max_abs = {{ "updated.w1" = 100 }}
"""
SPEC = (EXAMPLES / "seed_a_linear_regression.toml").read_text() + VARIANTS


def uniform(student: str, name: str, row: int | None = None, attempt: int = 0) -> float:
    """The documented stream: the first 8 bytes of SHA-256(salt NUL id NUL attempt NUL name NUL row) over 2^64."""
    key = "\0".join([SALT, student, str(attempt), name, "" if row is None else str(row)])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2 ** 64


def drawn(student: str, attempt: int = 0) -> dict:
    """A student's numbers by the documented rules, computed here independently."""
    def two_decimals(u):
        return float(Decimal(repr(-1 + 2 * u)).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return {"learning_rate": [0.01, 0.02][int(uniform(student, "learning_rate", None, attempt) * 2)],
            "w1": two_decimals(uniform(student, "w1", None, attempt)),
            "w2": two_decimals(uniform(student, "w2", None, attempt)),
            "x1": [-3 + int(uniform(student, "x1", row, attempt) * 7) for row in range(6)]}


def by_hand(student: str) -> list[dict]:
    """Steps 1 and 2 of seed A's model (x2 = 1, 8; y = 2, -14; b = 0) on the first draw whose
    dL/dw1 is nonzero and |w1'| <= 100 in both steps, as [variants.require] asks."""
    for attempt in range(100):
        d = drawn(student, attempt)
        w1, w2, b, eta, steps = d["w1"], d["w2"], 0.0, d["learning_rate"], []
        for row, (x2, y) in enumerate(((1, 2), (8, -14))):
            x1 = d["x1"][row]
            yhat = w1 * x1 + w2 * x2 + b
            dl = 2 * (yhat - y)
            g1 = dl * x1
            w1, w2, b = w1 - eta * g1, w2 - eta * dl * x2, b - eta * dl
            steps.append({"yhat": yhat, "g1": g1, "w1": w1, "attempt": attempt})
        if all(s["g1"] != 0 and abs(s["w1"]) <= 100 for s in steps):
            return steps
    raise AssertionError("no draw")


@pytest.fixture
def course(tmp_path):
    return write_course(tmp_path, SPEC, "id,name,section\n"
                        + "".join(f"s{i:03d},Student {i},{'AB'[i % 2]}\n" for i in range(1, 31)))


def key_of(folder) -> dict:
    return {row["id"]: row for row in csv.DictReader((folder / "key.csv").open())}


def test_a_students_numbers_follow_the_documented_draw_and_the_key_checks_by_hand(course, tmp_path):
    spec, roster = course
    out = tmp_path / "out"
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(out)]) == 0
    key = key_of(out)
    for student, row in key.items():
        for k, step in enumerate(by_hand(student), start=1):
            assert float(row[f"step{k}.values.yhat"]) == pytest.approx(step["yhat"], abs=1e-9), student
            assert float(row[f"step{k}.gradients.w1"]) == pytest.approx(step["g1"], abs=1e-9)
            assert float(row[f"step{k}.updated.w1"]) == pytest.approx(step["w1"], abs=1e-9)
    assert {by_hand(s)[0]["attempt"] for s in key} != {0}  # some draws were redrawn
    # The student's key shows step 1's update of w1 with the drawn numbers.
    assert f"= {float(key['s001']['step1.updated.w1']):.4f}".rstrip("0") in (out / "s001" / "key.md").read_text()
    first = drawn("s001", by_hand("s001")[0]["attempt"])
    assert f"| {first['w1']:g} | {first['w2']:g} | 0 |" in (out / "s001" / "worksheet.md").read_text()


def test_the_same_id_gives_the_same_bytes_and_two_ids_differ(course, tmp_path):
    spec, roster = course
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(a)]) == 0
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(b), "--jobs", "2"]) == 0
    for name in ("worksheet.md", "answers.toml", "solution.md", "key.md"):
        assert (a / "s007" / name).read_bytes() == (b / "s007" / name).read_bytes()
    assert (a / "key.csv").read_bytes() == (b / "key.csv").read_bytes()
    key = key_of(a)
    assert key["s001"]["step1.values.yhat"] != key["s002"]["step1.values.yhat"]
    assert len({row["step1.updated.w1"] for row in key.values()}) >= 25


def test_every_variant_meets_its_requirements(course, tmp_path):
    spec, roster = course
    out = tmp_path / "out"
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(out)]) == 0
    for row in key_of(out).values():
        for step in (1, 2):
            assert float(row[f"step{step}.gradients.w1"]) != 0
            assert abs(float(row[f"step{step}.updated.w1"])) <= 100


def test_a_requirement_no_draw_meets_stops_after_the_tries(course, tmp_path, capsys):
    spec, roster = course
    spec.write_text(SPEC.replace('"updated.w1" = 100', '"updated.w1" = 1e-9').replace("[variants.require]",
                                                                                     "tries = 5\n\n[variants.require]"))
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no draw of 5 meets [variants.require] for student 's001'" in err and err.count("\n") == 1


def fill(template: str, row: dict, slips: dict | None = None, digits: int = 6) -> str:
    columns = [c for c in row if c != "id"]
    slips = slips or {}

    def value(match):
        n = int(match.group(1))
        text = slips.get(n) or f"{float(row[columns[n - 1]]):.{digits}g}"
        return f"= {text}   # ({n})"
    return re.sub(r'= ""   # \((\d+)\)', value, template)


def test_a_class_round_trip_gives_the_gradebook(course, tmp_path, capsys):
    spec, roster = course
    out, answers = tmp_path / "out", tmp_path / "answers"
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(out), "--jobs", "2"]) == 0
    answers.mkdir()
    key = key_of(out)
    for student, row in key.items():
        template = (out / student / "answers.toml").read_text()
        number = int(student[1:])
        if number == 2:
            # One planted slip: w1' of step 1 (blank 6) off by 0.5. Step 2's yhat, loss and gradients
            # computed from it follow; the step 2 updates (true values) are correct.
            slip = f"{float(row['step1.updated.w1']) + 0.5:.6g}"
            template = fill(template, row, {6: slip})
            # Recompute step 2 by hand from the slipped w1: row 2 has x1 drawn, x2 = 8, y = -14.
            x1 = drawn(student, by_hand(student)[0]["attempt"])["x1"][1]
            w1, w2, b = float(slip), float(row["step1.updated.w2"]), float(row["step1.updated.b"])
            yhat = w1 * x1 + w2 * 8 + b
            template = re.sub(r"yhat = \S+   # \(9\)", f"yhat = {yhat:.6g}   # (9)", template)
            template = re.sub(r"loss = \S+   # \(10\)", f"loss = {(yhat + 14) ** 2:.6g}   # (10)", template)
        elif number == 3:
            template = fill(template, row, digits=1)  # one significant figure everywhere
        else:
            template = fill(template, row)
        (answers / f"{student}.toml").write_text(template)
    grades = tmp_path / "grades.csv"
    assert main(["check", str(spec), "--roster", str(roster), str(answers), "--csv", str(grades),
                 "--format", "json"]) == 1
    files = {f["student"]: f for f in json.loads(capsys.readouterr().out)["files"]}
    assert len(files) == 30
    book = {row["student"]: row for row in csv.DictReader(grades.open())}
    assert list(book["s001"])[:3] == ["student", "name", "section"]
    for student, row in book.items():
        number = int(student[1:])
        if number == 2:
            statuses = {v["quantity"] + f"@{v['step']}": v["status"] for v in files[student]["verdicts"]}
            assert statuses["updated.w1@1"] == "wrong" and row["first_wrong_step"] == "1"
            assert statuses["values.yhat@2"] == "follows" and statuses["loss@2"] == "follows"
            assert row["wrong"] == "1"
        elif number == 3:
            assert int(row["imprecise"]) > 0 and row["wrong"] == "0"
        else:
            assert (row["score"], row["max_score"], row["correct"]) == ("16", "16", "16"), (student, row)


@pytest.mark.parametrize("roster,message", [
    ("name\nAna\n", "no id column"),
    ("id\ns1\ns1\n", "line 3: id 's1' appears twice"),
    ("id\n../x\n", "cannot name a folder"),
])
def test_a_bad_roster_exits_2(course, tmp_path, capsys, roster, message):
    spec, _ = course
    path = tmp_path / "bad.csv"
    path.write_text(roster)
    assert main(["variants", str(spec), "--roster", str(path), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


def test_no_kink_redraws_a_relu_sitting_at_zero(tmp_path):
    from derive.grading.variants import Variants

    # relu(w*x) sits at its kink exactly when x = 0 (w is drawn away from 0): with x drawn from
    # {-1, 0, 1} for each of 2 rows, 5 of 9 draws put a zero in a row, and every one must be redrawn.
    spec = tmp_path / "relu.toml"
    spec.write_text("""
[model]
inputs = ["x"]
targets = ["y"]
loss = "L"
[model.nodes]
h = "relu(w*x)"
L = "(h + b - y)**2"
[params]
w = 0.5
b = 0
[data]
x = [1, 1]
y = [1, 2]
[train]
learning_rate = 0.1
[exercise]
steps = 2
[variants]
salt = "kinks"
w = { uniform = [0.5, 1], decimals = 2 }
x = { integers = [-1, 1] }
[variants.require]
no_kink = true
""")
    variants = Variants(spec)
    redrawn = 0
    for i in range(20):
        problem, _, _, _ = variants.variant(f"s{i}")
        assert all(float(v) != 0 for v in problem.data["x"])
        redrawn += 0 in [-1 + int(uniform_of("kinks", f"s{i}", "x", row) * 3) for row in range(2)]
    assert redrawn > 0  # some first draws had a zero and were redrawn


def uniform_of(salt: str, student: str, name: str, row: int) -> float:
    key = "\0".join([salt, student, "0", name, str(row)])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2 ** 64

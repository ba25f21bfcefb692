"""Exports: Moodle XML cloze questions checked against the key, a Gradescope autograder run on a
fake submission, a Canvas gradebook."""
from __future__ import annotations

import csv
import json
import math
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from support import EXAMPLES, ROOT, write_course

from derive.cli import main

from test_variants import SPEC, fill

BLANK = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}")


@pytest.fixture
def course(tmp_path):
    spec, roster = write_course(tmp_path, SPEC, "id,name,email,section\n"
                                + "".join(f"s{i:03d},Student {i},s{i}@uni.edu,A\n" for i in range(1, 6)))
    out = tmp_path / "out"
    assert main(["variants", str(spec), "--roster", str(roster), "--out", str(out)]) == 0
    key = {row["id"]: row for row in csv.DictReader((out / "key.csv").open())}
    return spec, roster, out, key


def half_unit_of_two_figures(value: float) -> float:
    """Half a unit in the second significant figure: 0.005 for -0.18, 0.05 for 4.7524."""
    return 0.5 * 10 ** (math.floor(math.log10(abs(value))) - 1)


def test_moodle_xml_has_one_cloze_per_student_matching_the_key(course, tmp_path):
    spec, roster, _, key = course
    quiz = tmp_path / "quiz.xml"
    assert main(["export", "moodle", str(spec), "--roster", str(roster), "-o", str(quiz)]) == 0
    root = ET.parse(quiz).getroot()
    assert root.tag == "quiz"
    questions = [q for q in root.findall("question") if q.get("type") == "cloze"]
    assert [q.findtext("idnumber") for q in questions] == list(key)
    for question in questions:
        row = key[question.findtext("idnumber")]
        text = question.find("questiontext").findtext("text")
        assert r"\( \hat{y} = w_{1} x_{1} + w_{2} x_{2} + b = \)" in text
        blanks = BLANK.findall(text)
        columns = [c for c in row if c != "id"]
        assert len(blanks) == len(columns) == 16
        for (value, tolerance), column in zip(blanks, columns):
            assert float(value) == float(row[column])
            assert float(tolerance) == pytest.approx(half_unit_of_two_figures(float(row[column])))


def test_moodle_without_variants_gives_the_articles_question(tmp_path):
    quiz = tmp_path / "quiz.xml"
    assert main(["export", "moodle", str(EXAMPLES / "seed_a_linear_regression.toml"), "-o", str(quiz)]) == 0
    questions = [q for q in ET.parse(quiz).getroot().findall("question") if q.get("type") == "cloze"]
    assert len(questions) == 1
    blanks = BLANK.findall(questions[0].find("questiontext").findtext("text"))
    # Step 1 of seed A by the article: yhat -0.116, L 4.477456, dL/dw1 -16.928, ... w1' 0.8294.
    assert [float(v) for v, _ in blanks] == [-0.116, 4.477456, -16.928, -4.232, -4.232, 0.8294, 0.1636, 0.2116]
    # Half a unit of the second significant figure: 0.005 for -0.116, 0.5 for -16.928.
    assert float(blanks[0][1]) == 0.005 and float(blanks[2][1]) == 0.5


def test_moodle_question_bank_of_random_variants(course, tmp_path):
    spec = course[0]
    quiz = tmp_path / "bank.xml"
    assert main(["export", "moodle", str(spec), "--count", "3", "-o", str(quiz)]) == 0
    questions = [q for q in ET.parse(quiz).getroot().findall("question") if q.get("type") == "cloze"]
    assert [q.findtext("idnumber") for q in questions] == ["variant-1", "variant-2", "variant-3"]


def test_the_gradescope_autograder_marks_a_fake_submission(course, tmp_path):
    spec, roster, out, key = course
    archive = tmp_path / "autograder.zip"
    assert main(["export", "gradescope", str(spec), "--roster", str(roster), "-o", str(archive)]) == 0
    source = tmp_path / "source"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        z.extractall(source)
    assert {"setup.sh", "run_autograder", "spec.toml", "roster.csv", "derive-source/derive/__init__.py",
            "derive-source/pyproject.toml"} <= set(names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    # The submission: s003's template filled with the key, w1' of step 1 (blank 6) slipped by 0.5.
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    row = key["s003"]
    slip = f"{float(row['step1.updated.w1']) + 0.5:.6g}"
    (root / "submission" / "my_answers.toml").write_text(fill((out / "s003" / "answers.toml").read_text(), row, {6: slip}))
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"sid": "s003", "email": "s3@uni.edu"}]}))
    os.chmod(source / "run_autograder", 0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(source / "run_autograder")], env=env, check=True, capture_output=True)
    results = json.loads((root / "results" / "results.json").read_text())
    tests = results["tests"]
    assert [t["name"] for t in tests] == ["Step 1 (1 row)", "Step 2 (1 row)"]
    assert [(t["score"], t["max_score"]) for t in tests] == [(7, 8), (8, 8)]
    assert results["score"] == sum(t["score"] for t in tests) == 15
    assert "updated.w1: ✗ wrong" in tests[0]["output"] and "working: w₁' = w₁ - η ∂L/∂w₁" in tests[0]["output"]
    assert all(t["visibility"] == "visible" for t in tests)


def test_a_canvas_gradebook(course, tmp_path, capsys):
    spec, roster, out, key = course
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "s001.toml").write_text(fill((out / "s001" / "answers.toml").read_text(), key["s001"]))
    grades = tmp_path / "canvas.csv"
    main(["check", str(spec), "--roster", str(roster), str(answers), "--csv", str(grades), "--gradebook", "canvas",
          "--assignment", "Worksheet 1"])
    rows = list(csv.reader(grades.open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Worksheet 1"]
    assert rows[1] == ["Student 1", "", "s001", "s1@uni.edu", "A", "16"]
    assert rows[2] == ["Student 2", "", "s002", "s2@uni.edu", "A", "0"]

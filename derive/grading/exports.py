"""Exports for learning platforms: Moodle XML cloze questions, a Gradescope autograder, and a
Canvas gradebook CSV."""
from __future__ import annotations

import csv
import html
import io
import zipfile
from pathlib import Path

from .digits import exact, leading_place
from .replay import value_of
from .settings import CheckSettings

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def tolerance(value, settings: CheckSettings) -> float:
    """The absolute tolerance of a numerical blank: [check]'s tolerance (and relative part) if set,
    else half a unit of the last digit required."""
    if settings.by_tolerance:
        return (settings.tolerance or 0.0) + (settings.relative or 0.0) * abs(float(value))
    if settings.decimals is not None:
        return 0.5 * 10.0 ** -settings.decimals
    target = exact(value)
    s = settings.required_significant or 2
    return 0.5 * 10.0 ** ((leading_place(target) if target else 0) - s + 1)


def _number(value) -> str:
    return format(float(value), ".12g")


def cloze_question(name: str, idnumber: str, sheet) -> str:
    """One Moodle cloze question: the problem statement and a NUMERICAL blank per worksheet box."""
    problem = sheet.trace.problem
    report = sheet.report_in("markdown")
    worked, graph = report.worked, problem.graph
    parts = [f"<p>{html.escape(problem.title or 'Gradient descent, worked step by step')}</p>",
             "<p>For each row of data the model and the loss are evaluated in this order:</p>"]
    parts += [f"<p>\\( {f.lhs} = {f.form} \\)</p>" for f in worked.forward]
    head = "".join(f"<th>\\( {report.tex(c)} \\)</th>" for c in graph.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_number(problem.data[c][i])}</td>" for c in graph.columns) + "</tr>"
                   for i in range(problem.n_rows))
    parts.append(f"<table border=\"1\"><tr>{head}</tr>{rows}</table>")
    start = ", ".join(f"\\( {report.tex(p)} = {_number(problem.initial[p])} \\)" for p in graph.params)
    parts.append(f"<p>Starting values: {start}; learning rate \\( \\eta = {_number(sheet.trace.compiled.schedule(1))} \\); "
                 f"optimiser {html.escape(problem.training.optimizer)}.</p>")
    step_number = 0
    for blank in sheet.blanks:
        step = sheet.trace.steps[blank.step - 1]
        if blank.step != step_number:
            step_number = blank.step
            rows_fed = ", ".join(str(r + 1) for r in step.rows)
            parts.append(f"<p><b>Step {blank.step}</b> (rows {rows_fed})</p>")
        value = value_of(step, blank.quantity)
        values = value if isinstance(value, list) else [value]
        boxes = ", ".join(f"{{1:NUMERICAL:={_number(v)}:{tolerance(v, sheet.check):.6g}}}" for v in values)
        form = f" = {blank.form}" if blank.form else ""
        parts.append(f"<p>\\( {blank.lhs}{form} = \\) {boxes}</p>")
    text = "\n".join(parts).replace("]]>", "]]&gt;")
    return (f"  <question type=\"cloze\">\n    <name><text>{html.escape(name)}</text></name>\n"
            f"    <questiontext format=\"html\"><text><![CDATA[{text}]]></text></questiontext>\n"
            f"    <generalfeedback format=\"html\"><text></text></generalfeedback>\n"
            f"    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n"
            f"    <idnumber>{html.escape(idnumber)}</idnumber>\n  </question>\n")


def moodle_xml(title: str, questions: list[str]) -> str:
    category = html.escape(f"$course$/derive/{title}")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n"
            f"  <question type=\"category\">\n    <category><text>{category}</text></category>\n  </question>\n"
            + "".join(questions) + "</quiz>\n")


def canvas_gradebook(results, assignment: str) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment's score."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, assignment])
    from .verdicts import summary

    for r in results:
        roster = r.roster
        score = summary(r.verdicts, r.max_score)["score"]
        writer.writerow([roster.get("name", r.student), roster.get("canvas_id", ""), r.student,
                         roster.get("login", roster.get("email", "")), roster.get("section", ""), score])
    return buffer.getvalue()


SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder's image: it installs derive from the
# copy of its source in this zip.
set -e
cd "$(dirname "$0")"
pip3 install ./derive-source
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: the student's answers file (TOML) is marked against
# their variant of spec.toml and the results written where Gradescope reads them.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$ROOT/results"
exec python3 -m derive.grading.gradescope "$SOURCE/spec.toml" "$ROOT/submission" "$ROOT/results/results.json" \\
    "$ROOT/submission_metadata.json"{roster}
"""


def gradescope_zip(spec: str | Path, roster: str | Path | None) -> bytes:
    """The autograder zip: setup.sh, run_autograder, the spec (and roster), and derive's source."""
    import derive

    package = Path(derive.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP, 0o755)
        _add(archive, "run_autograder", RUN.replace("{roster}", ' --roster "$SOURCE/roster.csv"' if roster else ""), 0o755)
        _add(archive, "spec.toml", Path(spec).read_text(encoding="utf-8"))
        if roster:
            _add(archive, "roster.csv", Path(roster).read_text(encoding="utf-8-sig"))
        root = package.parent
        for name in ("pyproject.toml", "README.md"):
            if (root / name).is_file():
                _add(archive, f"derive-source/{name}", (root / name).read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, f"derive-source/derive/{path.relative_to(package).as_posix()}")
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, text: str, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)

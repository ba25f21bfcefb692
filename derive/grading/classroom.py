"""A class: the roster, each student's variant files written on a process pool, the key, and
marking every student's answers against their own variant."""
from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError
from .answers import Layout, answer_files, read_answers
from .exercise import Worksheet, read_exercise
from .formulas import FormulaMarker
from .marker import Checker
from .marking import verdicts
from .settings import CheckSettings, read_check
from .variants import Variants
from .verdicts import Result


def read_roster(path: str | Path) -> list[dict]:
    """The roster's rows (CSV with an `id` column; other columns are kept), ids unique and usable as folder names."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError("no such file; check the path.", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot be read ({exc.__class__.__name__}); give a UTF-8 CSV file.", source=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "id" not in header:
        raise SpecError(f"no id column (the header is {', '.join(header) or 'empty'}); add a column named id.",
                        source=str(path))
    if len(set(header)) != len(header):
        raise SpecError("a column name appears twice in the header; name each column once.", source=str(path))
    rows, seen = [], set()
    for line, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(row.values()):
            continue
        student = row["id"]
        if not student or student in (".", "..") or any(c in student for c in "/\\\0") or student.startswith("."):
            raise SpecError(f"line {line}: id {student!r} cannot name a folder; use letters, digits, - and _.",
                            source=str(path))
        if student in seen:
            raise SpecError(f"line {line}: id {student!r} appears twice; give each student one row.", source=str(path))
        seen.add(student)
        rows.append(row)
    if not rows:
        raise SpecError("the roster has no students; add one row per student under the header.", source=str(path))
    return rows


@lru_cache(maxsize=4)
def _variants(spec: str) -> Variants:
    return Variants(spec)


def student_files(spec: str, student: str, out: str, pdf: bool) -> dict:
    """Write one student's worksheet, answers template, worked solution and answer key; return their key row."""
    from .. import api
    from ..report.pdf import build_pdf
    from ..output import OutputFile

    variants = _variants(spec)
    problem, compiled, trace, _ = variants.variant(student)
    exercise = read_exercise(spec, Layout.of(compiled))
    sheet = Worksheet(trace, exercise, read_check(spec))
    folder = Path(out) / student
    folder.mkdir(parents=True, exist_ok=True)
    documents = {"worksheet.md": lambda: sheet.render("markdown"), "answers.toml": lambda: [sheet.answers_template()],
                 "solution.md": lambda: api.render_chunks(trace, "markdown"),
                 "key.md": lambda: sheet.render("markdown", key=True)}
    for name, chunks in documents.items():
        with OutputFile(folder / name, name) as output:
            output.write_text(chunks())
            output.commit()
    if pdf:
        for name, latex in (("worksheet.pdf", lambda: "".join(sheet.render("latex"))),
                            ("solution.pdf", lambda: api.render(trace, "latex"))):
            with OutputFile(folder / name, name) as output:
                build_pdf(latex(), output)
                output.commit()
    return {"id": student, **key_row(sheet)}


def key_row(sheet: Worksheet) -> dict:
    """step<k>.<quantity> -> the true value as text (several rows' values joined by ';')."""
    from .replay import value_of

    row = {}
    for blank in sheet.blanks:
        value = value_of(sheet.trace.steps[blank.step - 1], blank.quantity)
        row[f"step{blank.step}.{blank.quantity}"] = ";".join(_text(v) for v in value) if isinstance(value, list) \
            else _text(value)
    return row


def _text(value) -> str:
    return format(value, ".12g") if isinstance(value, float) else str(value)


def make_class(spec: str, roster: list[dict], out: str | Path, jobs: int = 1, pdf: bool = False) -> list[dict]:
    """Every student's files and DIR/key.csv; students are made on `jobs` processes."""
    from ..output import OutputFile

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = [row["id"] for row in roster]
    _variants(spec)  # a spec without [variants] stops here, before any process starts
    if jobs > 1 and len(ids) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(ids), os.cpu_count() or 1)) as pool:
            rows = list(pool.map(student_files, [spec] * len(ids), ids, [str(out)] * len(ids), [pdf] * len(ids)))
    else:
        rows = [student_files(spec, s, str(out), pdf) for s in ids]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with OutputFile(out / "key.csv", "key.csv") as output:
        output.write_text([buffer.getvalue()])
        output.commit()
    return rows


def mark_student(variants: Variants, student: str, answers, settings: CheckSettings, roster_row: dict,
                 total: float | None) -> Result:
    """One answers file against the student's own variant."""
    compiled = variants.variant(student)[1]
    checker = Checker(compiled, settings, max((a.step for a in answers.answers), default=1))
    formulas = FormulaMarker(compiled) if answers.formulas else None
    marked = verdicts(checker, formulas, answers, settings)
    # Formulas are not on the worksheet: each one answered adds its points to the student's total.
    if total is not None:
        total += sum(v.points for v in marked if v.quantity.startswith("formulas."))
    return Result(answers.path, student, marked, roster_row, total)


def mark_class(spec: str, roster: list[dict], paths, settings: CheckSettings) -> list[Result]:
    """Each answers file against its student's own variant; a student without a file gets an empty row."""
    variants = _variants(spec)
    by_id = {row["id"]: row for row in roster}
    results, marked = [], set()
    # Every variant has the same quantities and steps: the first student's names them all.
    first = variants.variant(roster[0]["id"])
    layout = Layout.of(first[1])
    sheet = Worksheet(first[2], read_exercise(spec, layout), settings)
    total = sum(settings.points_for(b.quantity) for b in sheet.blanks)
    for path in answer_files(paths):
        answers = read_answers(path, layout)
        student = answers.student or Path(path).stem
        if student not in by_id:
            raise SpecError(f"{student!r} is not in the roster; name the file <id>.toml or set student = \"<id>\".",
                            source=str(path))
        if student in marked:
            raise SpecError(f"a second answers file for {student!r}; hand in one file per student.", source=str(path))
        marked.add(student)
        results.append(mark_student(variants, student, answers, settings, by_id[student], total))
    order = {row["id"]: i for i, row in enumerate(roster)}
    results += [Result("", row["id"], [], row, total) for row in roster if row["id"] not in marked]
    return sorted(results, key=lambda r: order[r.student])

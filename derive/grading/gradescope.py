"""The Gradescope autograder's entry point: mark the submission's answers file and write
results.json with one test per step (name, score, max_score, output, visibility).

python -m derive.grading.gradescope SPEC SUBMISSION_DIR RESULTS_JSON [--roster ROSTER] [METADATA_JSON]"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import DeriveError
from .verdicts import STATUS_MARK, _number, plain


def results(spec: str, submission: Path, roster: str | None, metadata: Path | None) -> dict:
    """The results.json object for one submission."""
    from .. import api
    from .answers import Layout, read_answers
    from .classroom import _variants, mark_student, read_roster
    from .exercise import worksheet_for
    from .marking import mark
    from .settings import read_check

    settings = read_check(spec)
    files = sorted(p for p in submission.rglob("*.toml") if p.is_file())
    if roster:
        rows = {r["id"]: r for r in read_roster(roster)}
        variants = _variants(spec)
        problem, compiled, _, _ = variants.variant(next(iter(rows)))
        answers = read_answers(files[0], Layout.of(compiled)) if files else None
        student = _student(metadata, set(rows)) or (answers.student if answers else None)
        if answers and student not in rows:
            raise DeriveError("the submitter is not in the roster: give student = \"<id>\" in the answers file.")
        if student:
            problem = variants.variant(student)[0]
        marked = [mark_student(variants, student, answers, settings, rows[student], None)] if answers else []
    else:
        problem = api.load(spec)
        marked = mark(problem, files[:1], settings) if files else []
    sheet = worksheet_for(spec, problem)
    verdicts = marked[0].verdicts if marked else []
    tests = []
    layout = Layout.of(sheet.trace.compiled)
    for step in sorted({b.step for b in sheet.blanks}):
        blanks = [b for b in sheet.blanks if b.step == step]
        mine = [v for v in verdicts if v.step == step]
        lines = []
        for v in mine:
            line = f"{v.quantity}: {STATUS_MARK[v.status]} {v.status}, given {_number(v.given)}"
            if v.status != "correct":
                line += f", expected {_number(v.expected)}"
            lines.append(line)
            if v.working:
                lines.append("  working: " + " = ".join(plain(p) for p in v.working))
        missing = len(blanks) - len(mine)
        if missing:
            lines.append(f"{missing} of the {len(blanks)} answers of this step were not given.")
        tests.append({"name": f"Step {step} ({layout.rows(step)} row{'s' if layout.rows(step) != 1 else ''})",
                      "score": round(sum(v.score for v in mine), 6),
                      "max_score": round(sum(settings.points_for(b.quantity) for b in blanks), 6),
                      "output": "\n".join(lines) or "No answers given.", "visibility": "visible"})
    output = "" if files else "No answers file (.toml) was found in the submission."
    return {"score": round(sum(t["score"] for t in tests), 6), "output": output, "tests": tests}


def _student(metadata: Path | None, ids: set[str]) -> str | None:
    """The submitter's id from Gradescope's submission_metadata.json (sid or email), if it is in the roster."""
    try:
        users = json.loads(metadata.read_text()).get("users", []) if metadata else []
    except (OSError, ValueError):
        return None
    for user in users:
        for key in ("sid", "email"):
            if user.get(key) in ids:
                return user[key]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="derive-gradescope")
    parser.add_argument("spec")
    parser.add_argument("submission")
    parser.add_argument("results")
    parser.add_argument("metadata", nargs="?")
    parser.add_argument("--roster")
    args = parser.parse_args(argv)
    metadata = Path(args.metadata) if args.metadata else None
    try:
        data = results(args.spec, Path(args.submission), args.roster, metadata)
    except DeriveError as exc:
        data = {"score": 0, "output": f"The answers could not be marked: {exc}", "tests": []}
    Path(args.results).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

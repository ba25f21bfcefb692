"""Marking answers files: each against the run it belongs to (the spec's, or a student's variant)."""
from __future__ import annotations

from pathlib import Path

from .. import api
from ..errors import SpecError
from .answers import Layout, answer_files, read_answers
from .formulas import FormulaMarker
from .marker import Checker, Verdict
from .settings import CheckSettings
from .verdicts import Result


def mark(problem, paths, settings: CheckSettings) -> list[Result]:
    """Every answers file against the one problem."""
    compiled = api.compile_problem(problem)
    layout = Layout.of(compiled)
    files = [read_answers(path, layout) for path in answer_files(paths)]
    checker = Checker(compiled, settings, _last_step(files))
    formulas = FormulaMarker(compiled) if any(f.formulas for f in files) else None
    return [Result(f.path, f.student or Path(f.path).stem, verdicts(checker, formulas, f, settings)) for f in files]


def verdicts(checker: Checker, formulas: FormulaMarker | None, answers, settings: CheckSettings) -> list[Verdict]:
    """An answers file's verdicts: its [formulas] first (by `formulas`, made for the same run as
    `checker`), then its numbers."""
    return (_formulas(formulas, answers, settings) if answers.formulas else []) + _checked(checker, answers)


def _formulas(marker: FormulaMarker, answers, settings) -> list[Verdict]:
    try:
        marked = marker.mark(answers.formulas, settings)
    except SpecError as exc:
        raise exc.at(source=str(answers.path)) from None
    return [Verdict(None, m.quantity, m.given, m.expected, m.status, m.own, m.working, "", m.points, m.score,
                    m.derivation) for m in marked]


def _last_step(files) -> int:
    return max((a.step for f in files for a in f.answers), default=1)


def _checked(checker: Checker, answers) -> list:
    try:
        return checker.check(answers)
    except SpecError as exc:
        raise exc.at(source=str(answers.path)) from None

"""Checked answers as a terminal listing, Markdown, JSON, and a gradebook CSV."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field

from .digits import Given
from .marker import STATUSES

STATUS_MARK = {"correct": "✓", "wrong": "✗", "follows": "↪", "imprecise": "≈"}

_PLAIN = [
    (r"\\frac\{(\\partial|d)\}\{(\\partial|d) ?([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", r"\1/\2\3"),
    (r"\\frac\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", r"∂\1/∂\2"),
    (r"\\frac\{(-?[\d.]+)\}\{([\d.]+)\}", r"\1/\2"),
    (r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)"),
    (r"\\ldots", "…"), (r"\\text\{\s*([^{}]*)\}", r"\1"),
    (r"\\left\(|\\left\[", "("), (r"\\right\)|\\right\]", ")"), (r"\\times", "×"), (r"\\cdot", "·"),
    (r"\\hat\{(\w)\}", lambda m: m.group(1) + "\u0302"), (r"\\sqrt\{([^{}]*)\}", r"√(\1)"),
    (r"\\(operatorname|mathit|mathbf)\{([^{}]*)\}", r"\2"),
    (r"\\partial", "∂"), (r"\\log", "log"), (r"\\eta", "η"), (r"\\beta", "β"), (r"\\epsilon", "ε"), (r"\\sigma", "σ"), (r"\\theta", "θ"),
    (r"\\mu", "μ"), (r"\\lambda", "λ"), (r"\\alpha", "α"), (r"\\gamma", "γ"), (r"\\tau", "τ"),
]
_SUB = str.maketrans("0123456789-t", "₀₁₂₃₄₅₆₇₈₉₋ₜ")
_SUP = str.maketrans("0123456789-t", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵗ")


def plain(tex: str) -> str:
    """A line of LaTeX working as terminal text: '∂L/∂w₁ = ∂L/∂ŷ · ∂ŷ/∂w₁ = (−4.232) × 4'."""
    for _ in range(2):
        for pattern, replacement in _PLAIN:
            tex = re.sub(pattern, replacement, tex)
    tex = re.sub(r"_\{([0-9t\-]+)\}", lambda m: m.group(1).translate(_SUB), tex)
    tex = re.sub(r"\^\{([0-9t\-]+)\}", lambda m: m.group(1).translate(_SUP), tex)
    return unicodedata.normalize("NFC", re.sub(r"[{}]", "", tex).replace("  ", " "))


@dataclass(frozen=True)
class Result:
    """One answers file marked: its path, the student it belongs to, the verdicts, and the
    student's roster columns (copied to the gradebook)."""

    file: str
    student: str
    verdicts: list
    roster: dict = field(default_factory=dict)
    max_score: float | None = None  # the worksheet's total, when marking a class; else what was answered


def _number(value) -> str:
    if isinstance(value, Given):
        return value.text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _json(value):
    if isinstance(value, str):  # a formula
        return value
    if isinstance(value, Given):
        return value.as_json()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    number = float(value)
    return number if number == number and abs(number) != float("inf") else str(value)


def summary(verdicts, max_score: float | None = None) -> dict:
    counts = {status: 0 for status in STATUSES}
    for v in verdicts:
        counts[v.status] += 1
    counts["score"] = _points(sum(v.score for v in verdicts))
    counts["max_score"] = _points(sum(v.points for v in verdicts) if max_score is None else max_score)
    return counts


def _points(value: float):
    return int(value) if float(value).is_integer() else round(value, 6)


def first_wrong_step(verdicts) -> int | None:
    return next((v.step for v in verdicts if v.status == "wrong" and v.step is not None), None)


def _counts_line(counts: dict) -> str:
    line = f"{counts['correct']} correct, {counts['wrong']} wrong, {counts['follows']} follow from an earlier error"
    if counts["imprecise"]:
        line += f", {counts['imprecise']} imprecise"
    return line + f"; score {counts['score']} of {counts['max_score']}"


def as_text(result: Result) -> str:
    if not result.file:
        return f"{result.student}: no answers file\n"
    lines = [f"{result.file}:" if result.student in (None, "", _stem(result.file)) else f"{result.file} ({result.student}):"]
    for v in result.verdicts:
        where = "formula" if v.step is None else f"step {v.step}"
        line = f"  {where}  {v.quantity:<16} {STATUS_MARK[v.status]} {v.status:<9} given {_number(v.given)}"
        if v.status != "correct":
            line += f", expected {_number(v.expected)}"
        if v.status == "follows":
            earlier = "formulas" if v.step is None else "numbers"
            line += f" (right from your own earlier {earlier}: {_number(v.own)})"
        if v.status == "imprecise":
            line += f" (right as far as it goes; write at least {v.required})"
        lines.append(line)
        if v.status == "wrong" and v.working:
            lines.append("      working: " + " = ".join(plain(p) for p in v.working))
        lines.extend(f"      {plain(line)}" for line in v.derivation)
    lines.append("  " + _counts_line(summary(result.verdicts, result.max_score)))
    return "\n".join(lines) + "\n"


def as_markdown(result: Result) -> str:
    out = [f"## {result.file}", "", "| step | quantity | given | expected | verdict |", "|---|---|---|---|---|"]
    for v in result.verdicts:
        note = f" (write at least {v.required})" if v.status == "imprecise" else ""
        out.append(f"| {'formula' if v.step is None else v.step} | `{v.quantity}` | {_number(v.given)} | {_number(v.expected)} | "
                   f"{STATUS_MARK[v.status]} {v.status}{note} |")
    out.append("")
    for v in result.verdicts:
        if v.status == "wrong" and v.working:
            where = "Formula" if v.step is None else f"Step {v.step},"
            out += [f"{where} `{v.quantity}`: the working is", "$$", " = ".join(v.working), "$$", ""]
            out += [f"- {line.split(': ', 1)[0]}: ${line.split(': ', 1)[1]}$" for line in v.derivation]
            out += [""] if v.derivation else []
    out.append(_counts_line(summary(result.verdicts, result.max_score)) + ".")
    return "\n".join(out) + "\n\n"


def as_dict(verdicts, max_score: float | None = None) -> dict:
    return {"verdicts": [{"step": v.step, "quantity": v.quantity, "given": _json(v.given), "expected": _json(v.expected),
                          "status": v.status, "points": _points(v.points), "score": _points(v.score),
                          **({"own": _json(v.own)} if v.status == "follows" else {}),
                          **({"required": v.required} if v.status == "imprecise" else {}),
                          **({"working": " = ".join(v.working)} if v.status == "wrong" else {}),
                          **({"derivation": list(v.derivation)} if v.derivation else {})}
                         for v in verdicts],
            "summary": summary(verdicts, max_score)}


def as_json(results: list[Result], several: bool = False) -> str:
    if len(results) == 1 and not several:
        return json.dumps(as_dict(results[0].verdicts, results[0].max_score), indent=1) + "\n"
    return json.dumps({"files": [{"file": r.file, "student": r.student, **as_dict(r.verdicts, r.max_score)} for r in results]},
                      indent=1) + "\n"


GRADEBOOK = ["score", "max_score", "correct", "wrong", "follows", "imprecise", "first_wrong_step"]


def gradebook(results: list[Result]) -> str:
    """One CSV row per answers file: the student, their roster columns, the file and the marks."""
    extra = list(dict.fromkeys(k for r in results for k in r.roster if k != "id"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *extra, "file", *GRADEBOOK])
    for r in results:
        counts = summary(r.verdicts, r.max_score)
        writer.writerow([r.student, *(r.roster.get(k, "") for k in extra), r.file,
                         *(counts[k] for k in GRADEBOOK[:-1]), first_wrong_step(r.verdicts) or ""])
    return buffer.getvalue()


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".toml") else name

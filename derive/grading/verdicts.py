"""Checked answers as a terminal listing, Markdown, JSON, and a gradebook CSV."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata

STATUS_MARK = {"correct": "✓", "wrong": "✗", "follows": "↪"}

_PLAIN = [
    (r"\\frac\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", r"∂\1/∂\2"),
    (r"\\frac\{(-?[\d.]+)\}\{([\d.]+)\}", r"\1/\2"),
    (r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)"),
    (r"\\left\(|\\left\[", "("), (r"\\right\)|\\right\]", ")"), (r"\\times", "×"), (r"\\cdot", "·"),
    (r"\\hat\{(\w)\}", lambda m: m.group(1) + "\u0302"), (r"\\sqrt\{([^{}]*)\}", r"√(\1)"),
    (r"\\(operatorname|mathit|mathbf)\{([^{}]*)\}", r"\2"),
    (r"\\log", "log"), (r"\\eta", "η"), (r"\\beta", "β"), (r"\\epsilon", "ε"), (r"\\sigma", "σ"), (r"\\theta", "θ"),
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


def _number(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return f"{value:.10g}"


def summary(verdicts) -> dict:
    counts = {"correct": 0, "wrong": 0, "follows": 0}
    for v in verdicts:
        counts[v.status] += 1
    return counts


def first_wrong_step(verdicts) -> int | None:
    return next((v.step for v in verdicts if v.status == "wrong"), None)


def as_text(name: str, verdicts) -> str:
    lines = [f"{name}:"]
    for v in verdicts:
        line = f"  step {v.step}  {v.quantity:<16} {STATUS_MARK[v.status]} {v.status:<8} given {_number(v.given)}"
        if v.status != "correct":
            line += f", expected {_number(v.expected)}"
        if v.status == "follows":
            line += f" (right from your own earlier numbers: {_number(v.own)})"
        lines.append(line)
        if v.status == "wrong" and v.working:
            lines.append("      working: " + " = ".join(plain(p) for p in v.working))
    counts = summary(verdicts)
    lines.append(f"  {counts['correct']} correct, {counts['wrong']} wrong, {counts['follows']} follow from an earlier error")
    return "\n".join(lines) + "\n"


def as_markdown(name: str, verdicts) -> str:
    out = [f"## {name}", "", "| step | quantity | given | expected | verdict |", "|---|---|---|---|---|"]
    for v in verdicts:
        out.append(f"| {v.step} | `{v.quantity}` | {_number(v.given)} | {_number(v.expected)} | "
                   f"{STATUS_MARK[v.status]} {v.status} |")
    out.append("")
    for v in verdicts:
        if v.status == "wrong" and v.working:
            out += [f"Step {v.step}, `{v.quantity}`: the working is", "$$", " = ".join(v.working), "$$", ""]
    counts = summary(verdicts)
    out.append(f"{counts['correct']} correct, {counts['wrong']} wrong, {counts['follows']} follow from an earlier error.")
    return "\n".join(out) + "\n\n"


def as_dict(verdicts) -> dict:
    return {"verdicts": [{"step": v.step, "quantity": v.quantity, "given": v.given, "expected": v.expected,
                          "status": v.status, **({"own": v.own} if v.status == "follows" else {}),
                          **({"working": " = ".join(v.working)} if v.status == "wrong" else {})}
                         for v in verdicts],
            "summary": summary(verdicts)}


def as_json(results: list[tuple[str, list]]) -> str:
    if len(results) == 1:
        return json.dumps(as_dict(results[0][1]), indent=1) + "\n"
    return json.dumps({"files": [{"file": name, **as_dict(v)} for name, v in results]}, indent=1) + "\n"


def gradebook(results: list[tuple[str, list]]) -> str:
    """One CSV row per answers file: file, correct, wrong, follows, first wrong step."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "correct", "wrong", "follows", "first_wrong_step"])
    for name, verdicts in results:
        counts = summary(verdicts)
        writer.writerow([name, counts["correct"], counts["wrong"], counts["follows"], first_wrong_step(verdicts) or ""])
    return buffer.getvalue()

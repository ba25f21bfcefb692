"""Escaping user text for LaTeX and Markdown, so that it prints literally."""
from __future__ import annotations

import re

from ..errors import SpecError
from ..model.names import text_latex

_LATEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
# Characters outside ASCII that pdflatex prints through these commands (with the shipped preamble:
# OT1 fonts, no extra packages); Greek letters and accented letters go through names.text_latex.
_LATEX_TEXT = {
    "\u2013": r"\textendash{}", "\u2014": r"\textemdash{}", "\u2018": "`", "\u2019": "'", "\u201c": "``",
    "\u201d": "''", "\u2026": r"\ldots{}", "\u00a0": "~", "\u2022": r"\textbullet{}", "\u00df": r"\ss{}",
    "\u00e6": r"\ae{}", "\u00c6": r"\AE{}", "\u00f8": r"\o{}", "\u00d8": r"\O{}", "\u0153": r"\oe{}",
    "\u0152": r"\OE{}", "\u0142": r"\l{}", "\u0141": r"\L{}", "\u00a7": r"\S{}", "\u00b6": r"\P{}",
    "\u00a9": r"\copyright{}", "\u00a3": r"\pounds{}", "\u00bf": "?`", "\u00a1": "!`",
    "\u00b0": r"\ensuremath{^\circ}", "\u00d7": r"\ensuremath{\times}", "\u00b7": r"\ensuremath{\cdot}",
    "\u00b1": r"\ensuremath{\pm}", "\u2212": r"\ensuremath{-}", "\u00f7": r"\ensuremath{\div}",
    "\u2264": r"\ensuremath{\leq}", "\u2265": r"\ensuremath{\geq}", "\u2260": r"\ensuremath{\neq}",
    "\u2248": r"\ensuremath{\approx}", "\u2192": r"\ensuremath{\to}", "\u221e": r"\ensuremath{\infty}",
}
# Characters that start Markdown or KaTeX markup anywhere in a line (list markers and headings
# need a line start, which titles and notes never are here).
_MARKDOWN = set("\\`*_{}[]#|$~")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def escape_latex(text: str) -> str:
    """Text that pdflatex prints as written: `\\input{x}` becomes `\\textbackslash{}input\\{x\\}`,
    θ becomes `\\ensuremath{\\theta}`, ŷ `\\^{y}` and – `\\textendash{}` (characters `unprintable`
    finds stay as they are; the command refuses them before it writes LaTeX)."""
    return "".join(_latex_char(c) or c for c in str(text))


def _latex_char(c: str) -> str | None:
    if c.isascii():
        return _LATEX.get(c, c) if c.isprintable() or c in "\n\t" else None
    return _LATEX_TEXT.get(c) or text_latex(c)


def unprintable(text: str) -> str | None:
    """The first character of `text` that pdflatex cannot print (an emoji, a CJK character, a letter
    with an accent OT1 fonts lack, a control character), or None."""
    return next((c for c in str(text) if not _latex_char(c)), None)


def check_latex_text(problem) -> None:
    """Refuse (SpecError naming the file and field) a title or notes that pdflatex cannot print."""
    for field, text in (("title", problem.title), ("report.notes", problem.report.notes)):
        char = unprintable(text or "")
        if char is not None:
            raise SpecError(f"the character {char!r} (U+{ord(char):04X}) cannot be printed by pdflatex; remove it "
                            f"for LaTeX and PDF output (Markdown and HTML keep it).", field).at(source=problem.source)


def escape_markdown(text: str) -> str:
    """Text that Markdown (and KaTeX) show as written: punctuation backslash-escaped, HTML as entities."""
    return "".join(_HTML.get(c, "\\" + c if c in _MARKDOWN else c) for c in str(text))


_MATH_COMMANDS = set("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega frac sqrt hat
bar tilde vec dot cdot times sum prod log ln exp sin cos tanh partial nabla mathrm mathbf mathit mathcal boldsymbol
operatorname left right leq geq neq approx infty to in ldots cdots quad prime top""".split())


def safe_math(tex: str) -> bool:
    """Math a title may hold: plain commands of formulas, balanced braces, nothing that reads files or defines."""
    commands = re.findall(r"\\([A-Za-z]+|.)", tex)
    depth = 0
    for c in tex:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0 and bool(tex.strip()) and all(c in _MATH_COMMANDS or c in ",;!{}|" for c in commands)

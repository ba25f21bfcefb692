"""Escaping user text for LaTeX and Markdown, so that it prints literally."""
from __future__ import annotations

import re

from ..model.names import text_latex

_LATEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
# Characters that start Markdown or KaTeX markup anywhere in a line (list markers and headings
# need a line start, which titles and notes never are here).
_MARKDOWN = set("\\`*_{}[]#|$~")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def escape_latex(text: str) -> str:
    """Text that pdflatex prints as written: `\\input{x}` becomes `\\textbackslash{}input\\{x\\}`,
    θ becomes `\\ensuremath{\\theta}` and ŷ `\\^{y}` (other characters outside ASCII stay as they are)."""
    return "".join(_LATEX.get(c) or (not c.isascii() and text_latex(c)) or c for c in str(text))


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

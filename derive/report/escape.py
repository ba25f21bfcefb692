"""Escaping user text for LaTeX and Markdown, so that it prints literally."""
from __future__ import annotations

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
    """Text that pdflatex prints as written: `\\input{x}` becomes `\\textbackslash{}input\\{x\\}`."""
    return "".join(_LATEX.get(c, c) for c in str(text))


def escape_markdown(text: str) -> str:
    """Text that Markdown (and KaTeX) show as written: punctuation backslash-escaped, HTML as entities."""
    return "".join(_HTML.get(c, "\\" + c if c in _MARKDOWN else c) for c in str(text))

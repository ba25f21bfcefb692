"""Output formats of the worked solution: one Format object each, and the Jinja environment it makes.

A new format is one Format registered here and one folder of templates under
derive/report/templates/ named after it, holding the same blocks as the others."""
from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from . import html
from .escape import check_latex_text, escape_latex, escape_markdown


def layout(rendered: str) -> str:
    """A step rendered with numbered tokens made into a format string: braces doubled, tokens as {k}."""
    escaped = (rendered.rstrip("\n") + "\n").replace("{", "{{").replace("}", "}}")
    return re.sub("\x00(\\d+)\x00", r"{\1}", escaped)


def fill(layout_text: str, texts: list[str]) -> str:
    """A step's layout with its numbers: layout_text.format(*texts), with the layout read once."""
    literals, fields, tail = _pieces(layout_text)
    return "".join(chain.from_iterable(zip(literals, map(texts.__getitem__, fields)))) + tail


@functools.lru_cache(maxsize=256)
def _pieces(layout_text: str) -> tuple[list[str], list[int], str]:
    """A layout as the text before each field, the field's number, and the text after the last."""
    literals, fields, text = [], [], []
    for literal, name, _, _ in string.Formatter().parse(layout_text):
        text.append(literal)
        if name is not None:
            literals.append("".join(text))
            fields.append(int(name))
            text = []
    return literals, fields, "".join(text)


@dataclass(frozen=True)
class Format:
    """How one output format writes text, numbers and code, and where its templates are."""

    name: str                          # what --format takes
    suffix: str                        # file name suffix of its templates (step.md.j2) and of its output
    escape: Callable[[str], str]       # user text to text the format prints literally
    math: tuple[str, str]              # inline math delimiters
    numbers_in_math: bool              # numbers in tables and prose typeset as math (else plain text)
    width: int                         # visible length of an equation line before it breaks after each '='
    code: Callable[[str], str]         # inline code (a spec key such as `epochs`), escaped
    jinja: dict = field(default_factory=dict)  # delimiters and whitespace options of its templates
    filters: dict = field(default_factory=dict)  # Jinja filters its templates use beyond `code` and `count`
    layout: Callable[[str], str] = layout  # a step rendered with tokens -> the format string of its layout
    fill: Callable[[str, list[str]], str] = fill  # a layout and a step's numbers -> the step
    # Adds what the format's document shows beyond the worked solution: (report, env, context) -> None.
    extend: Callable | None = None
    inline: Callable[[str], str] | None = None  # TeX to inline math, where delimiters are not enough
    table_width: int | None = None  # characters of a table row on the page; None: tables are not split
    fragment_width: int | None = None  # the line width inside a host document (--fragment), where narrower
    every_step: bool = False  # its document shows every step (HTML's step explorer); else the run keeps what it shows
    # Refuses, before any work, a problem whose text the format cannot print: (problem) -> None.
    check: Callable | None = None

    @property
    def folder(self) -> str:
        return self.name

    def template(self, block: str) -> str:
        """The file name of a block: `step` -> `step.tex.j2`."""
        return f"{block}.{self.suffix}.j2"

    def inline_math(self, tex: str) -> str:
        if self.inline is not None:
            return self.inline(tex)
        left, right = self.math
        return f"{left}{tex}{right}"

    def number(self, latex: Callable, text: Callable) -> Callable:
        """How a number is written in a table cell or a sentence, from the functions writing its
        LaTeX and its plain text."""
        if self.numbers_in_math:
            return lambda value: self.inline_math(latex(value))
        return text

    def environment(self, user_dir: str | Path | None = None) -> jinja2.Environment:
        """The Jinja environment of this format; a user's folder of templates overrides block by block.

        Everything a template prints is escaped for the format unless it is Markup (formula text and
        numbers made by the report); macro output is Markup too, since autoescape is on. The
        shipped templates are compiled once per process; a user's folder is read on every call."""
        if user_dir is None and self.name in _COMPILED:
            return _COMPILED[self.name]
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("derive.report", f"templates/{self.folder}")]
        if user_dir is not None:
            user = Path(user_dir)
            loaders.insert(0, jinja2.FileSystemLoader(str(user / self.folder if (user / self.folder).is_dir() else user)))
        env = self._environment(loaders, self.jinja)
        env.filters.update(self.filters)
        # The equations macro is loaded once and shared by every block template.
        env.globals["equations"] = env.get_template(self.template("equations")).module.equations
        env.globals["prose"] = self.prose(user_dir)
        if user_dir is None:
            _COMPILED[self.name] = env
        return env

    def prose(self, user_dir: str | Path | None = None):
        """The words of the notes and the advice (templates/notes.j2, shared by every format, with
        Jinja's own delimiters): its macros `note` and `tip` give one sentence each in this format."""
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("derive.report", "templates")]
        if user_dir is not None:
            loaders.insert(0, jinja2.FileSystemLoader(str(user_dir)))
        return self._environment(loaders, {}).get_template("notes.j2").module

    def _environment(self, loaders: list, options: dict) -> jinja2.Environment:
        escape = self.escape
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders), autoescape=True, auto_reload=False,
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
            finalize=lambda value: value if isinstance(value, Markup) else Markup(escape(str(value))), **options)
        env.filters["code"] = lambda text: Markup(self.code(str(text)))
        env.filters["count"] = lambda number: f"{number:,}"
        return env


_COMPILED: dict[str, jinja2.Environment] = {}
# A decimal, or one in scientific notation (6.100019 \times 10^{-6}), split at its decimal point.
_DECIMAL = re.compile(r"^\$?(-?\d+)((?:\.\d+)?(?: \\times 10\^\{-?\d+\})?)\$?$")


def latex_decimal(cell, bold: bool = False) -> Markup:
    """A number as the two cells of an `r@{}l` column pair, split at its decimal point so that a
    column's points line up; anything else (a fraction, a power of ten) right-aligned before the point."""
    text = str(cell)
    wrap = (lambda t: rf"$\boldsymbol{{{t}}}$") if bold else (lambda t: f"${t}$")
    match = _DECIMAL.match(text)
    if match:
        whole, point = match.groups()
        return Markup(wrap(whole) + " & " + (wrap(point) if point else ""))
    return Markup(wrap(text.strip("$")) + " & ")


MARKDOWN = Format(
    name="markdown", suffix="md", escape=escape_markdown, math=("$", "$"), numbers_in_math=False, width=110,
    code=lambda text: f"`{text}`")

LATEX = Format(
    name="latex", suffix="tex", escape=escape_latex, math=("$", "$"), numbers_in_math=True, width=70,
    # A plain article's text is 345pt wide against this document's 470pt.
    fragment_width=50, table_width=84, filters={"decimal": latex_decimal}, check=check_latex_text,
    code=lambda text: rf"\texttt{{{escape_latex(text)}}}",
    jinja={"block_start_string": r"\BLOCK{", "block_end_string": "}", "variable_start_string": r"\VAR{",
           "variable_end_string": "}", "comment_start_string": r"\#{", "comment_end_string": "}"})

HTML = Format(
    name="html", suffix="html", escape=html.escape_html, math=("", ""), numbers_in_math=False, width=110,
    code=lambda text: f"<code>{html.escape_html(text)}</code>",
    filters={"math": html.math_filter, "display_math": html.display_filter},
    layout=html.layout, fill=html.fill, extend=html.extend, inline=html.math_filter, every_step=True)

FORMATS: dict[str, Format] = {f.name: f for f in (MARKDOWN, LATEX, HTML)}


def get(name: str | Format) -> Format:
    """The Format of a name; KeyError for one that is not registered."""
    return name if isinstance(name, Format) else FORMATS[name]

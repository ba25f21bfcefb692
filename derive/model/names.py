"""Names: one name, one meaning, one rendering. Which names a spec may use, how each prints in
LaTeX, and which LaTeX a spec may give for a name under [report.names]."""
from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable, Mapping

import sympy

from ..errors import SpecError
from .functions import FUNCTIONS

# Greek letters LaTeX has a command for; the capitals it lacks print as Latin letters.
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
          "upsilon phi chi psi omega").split()
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
# Combining accents (as NFD splits an accented letter) and SymPy's name suffix that prints them.
_ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0308": "ddot",
            "\u0301": "acute", "\u0300": "grave", "\u0306": "breve", "\u030c": "check", "\u20d7": "vec"}
# Written in expressions these are Python's words or derive's functions, never names.
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

# [report.names]: letters, digits, _ ^ { } ' , spaces and these commands; braces balanced.
SAFE_COMMANDS = frozenset({*_GREEK, *(g.capitalize() for g in _GREEK), "varepsilon", "vartheta", "varphi",
                           "varrho", "varsigma", "varpi", "hat", "bar", "tilde", "vec", "dot", "ddot", "mathrm",
                           "mathbf", "mathit", "operatorname", "prime", "ell"})
_SAFE_TEXT = re.compile(r"[A-Za-z0-9_^{}', \\]")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def check_name(name, field: str, what: str = "name") -> str:
    """`name` if a spec may use it; else a SpecError saying why (reserved word, not a name,
    a name Python reads as another)."""
    if not isinstance(name, str) or not name:
        raise SpecError(f"expected a {what} in quotes, got {name!r}.", field)
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        raise SpecError(f"{name!r} is read as {normal!r} in expressions (Unicode NFKC); write {normal!r}.", field)
    if name in RESERVED:
        raise SpecError(f"{name!r} is a reserved word of expressions; choose another {what}, e.g. {name}_.", field)
    if not name.isidentifier() or name.startswith("_"):
        raise SpecError(f"{name!r} is not a valid {what}; use letters, digits and _ (not first).", field)
    if "__" in name:
        raise SpecError(f"{name!r} would print with a superscript (__ marks one), which reads as a power; "
                        f"use a single _.", field)
    if name in FUNCTIONS:
        raise SpecError(f"{name!r} is the name of a function; choose another {what}.", field)
    return name


def latex_name(name: str, names: Mapping[str, str]) -> str:
    """A name's LaTeX: the spec's [report.names], else SymPy's convention (w1 -> w_{1}, eta -> \\eta,
    θ -> \\theta, ŷ -> \\hat{y}), with multi-letter plain names set upright-italic as one word
    (AD -> \\mathit{AD})."""
    if name in names:
        return names[name]
    plain = _ascii(name)
    tex = sympy.latex(sympy.Symbol(plain))
    if tex == plain and len(plain) > 1 and plain.isalpha():
        return rf"\mathit{{{plain}}}"
    return tex


def _ascii(name: str) -> str:
    """The name with Greek letters spelt out and accents as SymPy suffixes (ŷ1 -> yhat1), or
    raises ValueError naming a character LaTeX cannot print."""
    out = []
    for char in name:
        if char.isascii():
            out.append(char)
            continue
        base, *marks = unicodedata.normalize("NFD", char)
        spelt = _spell(base)
        if spelt is None or any(m not in _ACCENTS for m in marks):
            raise ValueError(char)
        out.append(spelt + "".join(_ACCENTS[m] for m in marks))
    return "".join(out)


def _spell(char: str) -> str | None:
    if char.isascii():
        return char
    parts = unicodedata.name(char, "").split()
    if len(parts) == 4 and parts[0] == "GREEK" and parts[2] == "LETTER":
        word = {"LAMDA": "LAMBDA"}.get(parts[3], parts[3])
        if parts[1] == "SMALL" and word.lower() in _GREEK:
            return word.lower()
        if parts[1] == "CAPITAL" and word.capitalize() in _GREEK_CAPITALS:
            return word.capitalize()
    return None


_TEXT_ACCENTS = {"\u0302": "^", "\u0304": "=", "\u0303": "~", "\u0307": ".", "\u0308": '"', "\u0301": "'",
                 "\u0300": "`", "\u0306": "u", "\u030c": "v", "\u0327": "c", "\u030a": "r", "\u030b": "H"}


def text_latex(char: str) -> str | None:
    """LaTeX that pdflatex prints for a character of running text outside ASCII: a Greek letter as
    math (θ -> \\ensuremath{\\theta}), a letter with accents as accent commands (ŷ -> \\^{y});
    None for what it cannot print."""
    base, *marks = unicodedata.normalize("NFD", char)
    spelt = _spell(base)
    if spelt is None or any(m not in _TEXT_ACCENTS for m in marks):
        return None
    if not base.isascii():
        tex = rf"\ensuremath{{\{spelt}}}" if spelt.lower() in _GREEK else spelt
        return tex if not marks else None
    for mark in marks:
        spelt = rf"\{_TEXT_ACCENTS[mark]}{{{spelt}}}"
    return spelt


def check_model_names(inputs: Iterable[str], targets: Iterable[str], params: Iterable[str], nodes: Iterable[str],
                      losses: list[str], given: Mapping[str, str], made: Mapping[str, str] | None = None) -> None:
    """The name rules, for a spec and for Problem.build alike: each name valid and not reserved, the
    loss list without repeats, [report.names] (`given`) in safe LaTeX, and no two names printing the
    same, with `made` the LaTeX derive writes for the names layers make."""
    fields = [(n, f"model.{kind}") for kind, group in (("inputs", inputs), ("targets", targets)) for n in group]
    fields += [(p, f"params.{p}") for p in params] + [(n, f"model.nodes.{n}") for n in nodes]
    for name, field in fields:
        check_name(name, field)
    for name in losses:
        check_name(name, "model.loss")
    repeated = next((n for n in losses if losses.count(n) > 1), None)
    if repeated:
        raise SpecError(f"{repeated!r} is listed twice; name each loss node once.", "model.loss")
    for name, tex in given.items():
        check_latex(name, tex, f"report.names.{name}")
    check_renderings(fields, {**(made or {}), **given})


def check_renderings(names: Iterable[tuple[str, str]], given: Mapping[str, str]) -> None:
    """Refuse a name LaTeX cannot print and two names that print the same; `names` holds
    (name, field) for every input, target, parameter and node."""
    seen: dict[str, str] = {}  # the report's own symbols (theta, eta, ...) move aside for names that take them
    for name, field in names:
        try:
            tex = latex_name(name, given)
        except ValueError as exc:
            raise SpecError(f"{name!r} has the character {exc.args[0]!r}, which LaTeX cannot print; use Latin or "
                            f"Greek letters (accents allowed), digits and _, or give its LaTeX under [report.names].",
                            field) from None
        key = re.sub(r"\s+", "", tex)
        if key in seen and seen[key] != name:
            raise SpecError(f"{seen[key]!r} and {name!r} both print as {tex}; rename one, or give one its own LaTeX "
                            f"under [report.names].", field)
        seen[key] = name


def check_latex(name: str, tex, field: str) -> str:
    """A [report.names] value if it keeps to the safe subset of LaTeX; else a SpecError."""
    if not isinstance(tex, str):
        raise SpecError(f"expected LaTeX in quotes such as '\\hat{{y}}', got {tex!r}.", field)
    if not tex.strip():
        raise SpecError("the LaTeX is empty; give what the name prints as, e.g. '\\hat{y}'.", field)
    for command in _COMMAND.findall(tex):
        if command not in SAFE_COMMANDS:
            raise SpecError(f"\\{command} is not allowed in names; use \\hat, \\bar, \\tilde, \\vec, \\dot, "
                            f"\\mathrm, \\mathbf, \\mathit, \\operatorname, \\prime, \\ell or a Greek letter.", field)
    bad = next((c for c in tex if not _SAFE_TEXT.fullmatch(c)), None)
    if bad is not None:
        raise SpecError(f"the character {bad!r} is not allowed in names; use letters, digits, _ ^ {{ }} ' , "
                        f"spaces and commands such as \\hat, \\bar, \\mathrm and Greek letters.", field)
    if re.search(r"\\(?![A-Za-z])", tex):
        raise SpecError("a backslash must start a command such as \\hat.", field)
    depth = 0
    for char in tex:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise SpecError(f"the braces in {tex!r} do not balance; close every {{ with }}.", field)
    return tex

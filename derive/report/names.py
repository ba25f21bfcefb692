"""A name's LaTeX (w_{AD}, \\hat{y}, w^{(1)}_{12}) as plain Unicode text with sub- and superscripts,
for figures that cannot typeset math: the SVG graph, Mermaid labels, text/plain displays."""
from __future__ import annotations

import functools
import re
import unicodedata

from .mathml import GREEK

_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|[{}_^']|[^\\{}_^'\s]|\s+")
# Combining marks for accents: \hat{y} -> ŷ.
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305", "tilde": "\u0303",
            "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c",
            "breve": "\u0306"}
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ"))


@functools.lru_cache(maxsize=1024)
def segments(tex: str) -> tuple[tuple[str, str], ...]:
    """(text, position) pieces, position "" for the baseline, "sub" or "sup": w_{AD} -> (w, ""), (AD, sub)."""
    tokens = [t for t in _TOKEN.findall(str(tex)) if not t.isspace()]
    out: list[tuple[str, str]] = []
    _read(tokens, 0, "", out, stop=None)
    merged: list[tuple[str, str]] = []
    for text, where in out:
        if merged and merged[-1][1] == where:
            merged[-1] = (merged[-1][0] + text, where)
        elif text:
            merged.append((text, where))
    return tuple(merged)


def _read(tokens: list[str], at: int, where: str, out: list, stop: str | None) -> int:
    """Append the pieces of tokens[at:] up to `stop` (a closing brace); return the index after it."""
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if token == stop:
            return at
        if token == "{":
            at = _read(tokens, at, where, out, "}")
        elif token in ("_", "^"):
            inner = "sub" if token == "_" else "sup"
            if at < len(tokens) and tokens[at] == "{":
                at = _read(tokens, at + 1, inner, out, "}")
            elif at < len(tokens):
                out.append((_plain(tokens[at]), inner))
                at += 1
        elif token == "'":
            out.append(("′", where))
        elif token[1:] in _ACCENTS:
            pieces: list[tuple[str, str]] = []
            at = _read(tokens, at + 1, where, pieces, "}") if at < len(tokens) and tokens[at] == "{" else at
            text = "".join(t for t, _ in pieces)
            accented = text + _ACCENTS[token[1:]] if len(text) == 1 else text
            out.append((unicodedata.normalize("NFC", accented), where))
        elif token.startswith("\\") and token[1:].isalpha() and token[1:] not in GREEK:
            continue  # a font or operator name: its argument is read next as text
        else:
            out.append((_plain(token), where))
    return at


def _plain(token: str) -> str:
    if token.startswith("\\"):
        return GREEK.get(token[1:], token[1:])
    return token


def unicode_name(tex: str) -> str:
    """One line of Unicode: w₁, ŷ, w^(1)₁₂ where every character has a Unicode sub/superscript,
    else the TeX habit w_AD."""
    text = []
    for piece, where in segments(tex):
        table = _SUB if where == "sub" else _SUP if where == "sup" else None
        if table is None:
            text.append(piece)
        elif all(c in table for c in piece):
            text.append("".join(table[c] for c in piece))
        else:
            text.append(("_" if where == "sub" else "^") + piece)
    return "".join(text)


_MERMAID = {"\"": "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "&": "#amp;"}


def mermaid_name(tex: str) -> str:
    """A name for a Mermaid label (inside "…"): ŷ, w<sub>AD</sub>, w<sup>(1)</sup><sub>12</sub>;
    characters Mermaid or HTML would read as markup are written as Mermaid's #entities."""
    out = []
    for piece, where in segments(tex):
        text = "".join(_MERMAID.get(c, c) for c in piece)
        out.append(f"<{where}>{text}</{where}>" if where else text)
    return "".join(out)

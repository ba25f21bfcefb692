"""The LaTeX that derive prints, as MathML for browsers: no script, no font and no network needed.

derive makes every formula once, as LaTeX (the printers in slots.py and worked.py). For HTML
that LaTeX is translated here into presentation MathML, which browsers draw natively. The
translation covers what derive's printers write and the usual name decorations a spec's
[report.names] may use; anything else is shown as text, never as markup.

Slot tokens (\\x00k\\x00, see Worked.slot) pass through as \\x01k\\x01 inside an <mrow>, so that a
step's layout is translated once and each step's numbers (number_mathml) are filled in after.
"""
from __future__ import annotations

import functools
import re
from html import escape

_TOKEN = re.compile(
    r"\x00\d+\x00|\\[a-zA-Z]+|\\.|\d+(?:\.\d+)?|[a-zA-Z]|\s+|.", re.S)
GREEK = dict(
    alpha="α", beta="β", gamma="γ", delta="δ", epsilon="ϵ", varepsilon="ε", zeta="ζ", eta="η", theta="θ",
    vartheta="ϑ", iota="ι", kappa="κ", lambda_="λ", mu="μ", nu="ν", xi="ξ", pi="π", rho="ρ", sigma="σ",
    tau="τ", upsilon="υ", phi="ϕ", varphi="φ", chi="χ", psi="ψ", omega="ω", Gamma="Γ", Delta="Δ",
    Theta="Θ", Lambda="Λ", Xi="Ξ", Pi="Π", Sigma="Σ", Upsilon="Υ", Phi="Φ", Psi="Ψ", Omega="Ω",
    ell="ℓ", partial="∂", nabla="∇", infty="∞")
GREEK["lambda"] = GREEK.pop("lambda_")
UPRIGHT = {"partial", "infty", "nabla", *(k for k in GREEK if k[0].isupper())}
OPERATORS = dict(times="×", cdot="⋅", pm="±", mp="∓", leq="≤", le="≤", geq="≥", ge="≥", neq="≠", ne="≠",
                 approx="≈", to="→", rightarrow="→", leftarrow="←", cdots="⋯", ldots="…", sum="∑",
                 prod="∏", mid="∣", vert="|", lvert="|", rvert="|", lfloor="⌊", rfloor="⌋", lceil="⌈",
                 rceil="⌉", langle="⟨", rangle="⟩")
FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min", "sgn", "det"}
ACCENTS = dict(hat="^", widehat="^", bar="¯", overline="¯", tilde="~", widetilde="~", vec="→", dot="˙",
               ddot="¨", check="ˇ", breve="˘")
FONTS = {"mathit": "italic", "mathrm": "normal", "text": "normal", "textrm": "normal", "mathbf": "bold",
         "boldsymbol": "bold", "mathsf": "normal", "mathtt": "normal", "mathcal": "normal", "operatorname": "normal"}
SPACES = {",": "0.1667em", ":": "0.2222em", ";": "0.2778em", " ": "0.25em", "quad": "1em", "qquad": "2em", "!": "0"}
ESCAPED = {"{": "{", "}": "}", "_": "_", "%": "%", "$": "$", "&": "&amp;", "#": "#", "|": "‖"}
FENCES = {"(": "(", ")": ")", "[": "[", "]": "]", "|": "|", ".": "", "\\{": "{", "\\}": "}", "\\|": "‖",
          "\\lvert": "|", "\\rvert": "|", "\\langle": "⟨", "\\rangle": "⟩"}


_CELL_END = ("&", "\\\\", "\\end")


class _Parser:
    def __init__(self, tex: str):
        self.tokens = [t for t in _TOKEN.findall(tex) if not t.isspace()]
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.at += 1
        return token

    def sequence(self, stop=("}",)) -> list[str]:
        """Items up to a stop token (not taken)."""
        items: list[str] = []
        while (token := self.peek()) is not None and token not in stop:
            if token == "\\right":
                break
            if token == "-" and (not items or items[-1].startswith("<mo")):
                self.take()  # a sign, not a subtraction: kept with what it signs, so no space follows
                items.append(f"<mrow><mo>−</mo>{self.scripts(self.atom())}</mrow>")
                continue
            item = self.scripts(self.atom())
            if item:
                items.append(item)
        return items

    def group(self) -> str:
        """A braced argument, or a single token as TeX allows (\\frac12)."""
        if self.peek() == "{":
            self.take()
            items = self.sequence()
            self.take()
            return _row(items)
        return self.atom()

    def raw(self) -> str:
        """A braced argument's text as written (for \\text and fonts of plain letters)."""
        if self.peek() != "{":
            return self.take() or ""
        self.take()
        depth, out = 0, []
        while (token := self.take()) is not None:
            if token == "{":
                depth += 1
            elif token == "}":
                if depth == 0:
                    break
                depth -= 1
            out.append(token[1:] if token in ("\\{", "\\}", "\\_", "\\%", "\\$", "\\#") else token)
        return "".join(out)

    def scripts(self, base: str) -> str:
        sub = sup = None
        primes = ""
        while (token := self.peek()) in ("_", "^", "'"):
            self.take()
            if token == "'":
                primes += "′"
            elif token == "_":
                sub = self.group()
            else:
                sup = self.group()
        base = base or "<mrow></mrow>"
        if sub is not None and sup is not None:
            base = f"<msubsup>{base}{sub}{sup}</msubsup>"
        elif sub is not None:
            base = f"<msub>{base}{sub}</msub>"
        elif sup is not None:
            base = f"<msup>{base}{sup}</msup>"
        # A prime follows its name on the line (a superscript prime would sit twice raised).
        return f'<mrow>{base}<mo lspace="0" rspace="0">{primes}</mo></mrow>' if primes else base

    def atom(self) -> str:
        token = self.take()
        if token is None:
            return ""
        if token.startswith("\x00"):
            return f"<mrow>\x01{token[1:-1]}\x01</mrow>"
        if token == "{":
            items = self.sequence()
            self.take()
            return _row(items)
        if token[0].isdigit():
            return f"<mn>{token}</mn>"
        if token.isalpha():
            return f"<mi>{token}</mi>"
        if token == "-":
            return "<mo>−</mo>"
        if token in ("&", "\\\\", "}"):
            return ""
        if token.startswith("\\"):
            return self.command(token[1:])
        return f"<mo>{escape(token)}</mo>"

    def command(self, name: str) -> str:
        if name in GREEK:
            variant = ' mathvariant="normal"' if name in UPRIGHT else ""
            return f"<mi{variant}>{GREEK[name]}</mi>"
        if name in OPERATORS:
            return f"<mo>{OPERATORS[name]}</mo>"
        if name in FUNCTIONS:
            return f"<mi>{name}</mi>"
        if name in ESCAPED:
            return f"<mo>{ESCAPED[name]}</mo>"
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"></mspace>'
        if name in ("frac", "dfrac", "tfrac"):
            return f"<mfrac>{self.group()}{self.group()}</mfrac>"
        if name == "sqrt":
            if self.peek() == "[":
                self.take()
                index = _row(self.sequence(stop=("]",)))
                self.take()
                return f"<mroot>{self.group()}{index}</mroot>"
            return f"<msqrt>{self.group()}</msqrt>"
        if name == "left":
            return self.fenced()
        if name == "begin":
            return self.matrix(self.raw())
        if name == "odot":
            return "<mo>⊙</mo>"
        if name == "top":
            return "<mi>⊤</mi>"
        if name in ACCENTS:
            return f'<mover accent="true">{self.group()}<mo stretchy="false">{ACCENTS[name]}</mo></mover>'
        if name in FONTS:
            return self.font(name)
        return f"<mtext>{escape(name)}</mtext>"

    def matrix(self, environment: str) -> str:
        """A bmatrix (pmatrix, matrix): rows of cells in brackets."""
        rows, cells = [], []
        while True:
            cells.append(f"<mtd>{_row(self.sequence(stop=_CELL_END))}</mtd>")
            token = self.take()
            if token != "&":
                rows.append(f"<mtr>{''.join(cells)}</mtr>")
                cells = []
            if token in (None, "\\end"):
                self.raw()
                break
        table = f"<mtable>{''.join(rows)}</mtable>"
        fences = {"bmatrix": ("[", "]"), "pmatrix": ("(", ")")}.get(environment)
        if fences is None:
            return table
        return _row([f'<mo fence="true" form="prefix">{fences[0]}</mo>', table,
                     f'<mo fence="true" form="postfix">{fences[1]}</mo>'])

    def fenced(self) -> str:
        opening = FENCES.get(self.take() or ".", "")
        items = self.sequence(stop=())
        closing = ""
        if self.peek() == "\\right":
            self.take()
            closing = FENCES.get(self.take() or ".", "")
        fence = '<mo fence="true" form="{}">{}</mo>'
        return _row([fence.format("prefix", escape(opening)) if opening else "", *items,
                     fence.format("postfix", escape(closing)) if closing else ""])

    def font(self, name: str) -> str:
        if name in ("text", "textrm"):
            return f"<mtext>{escape(self.raw())}</mtext>"
        start = self.at
        text = self.raw()
        if re.fullmatch(r"[A-Za-z0-9]+", text):
            style = FONTS[name]
            tag = "mn" if text.isdigit() else "mi"
            if style == "bold":
                return f'<{tag} style="font-weight:bold;font-style:normal">{text}</{tag}>'
            if style == "italic":
                return f'<mi style="font-style:italic">{text}</mi>' if len(text) > 1 else f"<mi>{text}</mi>"
            return f'<{tag} mathvariant="normal">{text}</{tag}>' if len(text) == 1 else f"<{tag}>{text}</{tag}>"
        self.at = start
        return self.group()


def _row(items: list[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 and items[0].startswith("<mrow") else f"<mrow>{''.join(items)}</mrow>"


def inline(tex: str) -> str:
    """A formula as one inline <math> element."""
    return f"<math>{_convert(str(tex))}</math>"


def block(tex: str) -> str:
    """Aligned rows ('lhs &= rest' separated by \\\\) as a display <math> table aligned on '='."""
    rows = []
    for line in _top_rows(str(tex)):
        if not line.strip():
            continue
        cells = line.split("&", 1)
        if len(cells) == 1:
            cells = ["", cells[0]]
        rows.append("<mtr>" + "".join(f"<mtd>{_convert(c)}</mtd>" for c in cells) + "</mtr>")
    return ('<math display="block"><mtable columnalign="right left" columnspacing="0" displaystyle="true">'
            + "".join(rows) + "</mtable></math>")


def _top_rows(tex: str) -> list[str]:
    """The rows of aligned equations: split at each \\\\ outside a \\begin ... \\end environment."""
    rows, depth, start = [], 0, 0
    for match in re.finditer(r"\\begin\{|\\end\{|\\\\", tex):
        token = match.group()
        if token == "\\begin{":
            depth += 1
        elif token == "\\end{":
            depth -= 1
        elif depth == 0:
            rows.append(tex[start:match.start()])
            start = match.end()
    rows.append(tex[start:])
    return rows


@functools.lru_cache(maxsize=4096)
def _convert(tex: str) -> str:
    parser = _Parser(tex)
    items = []
    while parser.peek() is not None:
        items.extend(parser.sequence(stop=()))
        if parser.peek() is not None:
            parser.take()  # a stray \right or brace
    return _row(items)


@functools.lru_cache(maxsize=65536)
def number_mathml(tex: str) -> str:
    """A number as derive prints it in a formula (-0.116, \\left(-4.232\\right), \\frac{81}{8},
    6.144 \\times 10^{-6}) in MathML: what a step's slots hold."""
    return _convert(tex)

"""The report's symbol table: the spec's names as given, and a glyph for everything else the
report writes (learning rate, optimiser settings and state, the loss of a batch) that no spec
name uses, each with the words that define it where it first appears."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Each role: the glyphs it may take, first choice first, and what it means. A glyph whose base
# letter a spec name already uses is passed over, so b' = b - eta v_t never reads b - eta b_t.
ROLES: dict[str, tuple[tuple[str, ...], str]] = {
    "theta": ((r"\theta", r"\vartheta", r"\phi"), "stands for each trained parameter"),
    "eta": ((r"\eta", r"\gamma", r"\kappa"), "is the learning rate"),
    "t": (("t", "k", "n"), "is the step number, counted from 1"),
    "momentum": ((r"\mu", r"\rho", r"\nu"), "is the momentum"),
    "dampening": ((r"\tau", r"\zeta"), "is the dampening"),
    "weight_decay": ((r"\lambda", r"\omega", r"\xi"), "is the weight decay"),
    "eps": ((r"\epsilon", r"\varepsilon", r"\delta"), "is a small constant that keeps the division finite"),
    "alpha": ((r"\alpha", r"\varrho"), "is the smoothing constant"),
    "beta1": ((r"\beta_{1}", r"\rho_{1}", r"\varphi_{1}"), "is the decay rate of the first moment"),
    "beta2": ((r"\beta_{2}", r"\rho_{2}", r"\varphi_{2}"), "is the decay rate of the second moment"),
    "lr_decay": ((r"\psi", r"\chi"), "is the learning-rate decay"),
    "b": (("b", "v", "u", "q"), "is the momentum buffer"),
    "m": (("m", "s", "q"), "is the running mean of the gradient (first moment)"),
    "v": (("v", "r", "z"), "is the running mean of the squared gradient (second moment)"),
    "s": (("s", "G", "c"), "is the running sum of squared gradients"),
    "a": (("a", "c", "k"), "is the running mean of the gradient"),
    "u": (("u", "q", "e"), "is the parameter after weight decay"),
    "batch": ((r"\bar{L}", "J", r"\mathcal{J}"), "is the loss of a step's batch, the mean of its rows' losses"),
    "total": (("L", "J", r"\mathcal{L}"), "is the loss, the sum of the loss nodes"),
}


def base(tex: str) -> str:
    """The letter a LaTeX name is written with: w for w_{1}, w^{(1)}_{11} and \\hat{w}; \\beta for \\beta_{1}."""
    tex = re.sub(r"\\(hat|bar|tilde|mathit|mathrm|operatorname|boldsymbol|mathbf)\{(.*)\}", r"\2", tex.strip("{}'"))
    tex = re.sub(r"[_^].*$", "", tex)
    return tex.strip("{} ")


@dataclass
class SymbolTable:
    """Glyph and meaning of every symbol the report writes; `spec` holds the spec's names' LaTeX."""

    spec: dict[str, str]
    glyphs: dict[str, str]
    meanings: dict[str, str]

    @classmethod
    def build(cls, spec_names: dict[str, str], roles: Iterable[str]) -> SymbolTable:
        taken = {base(tex) for tex in spec_names.values()}
        chosen: set[str] = set()
        glyphs, meanings = {}, {}

        def free(glyph: str) -> bool:
            # Letters with a subscript may share a letter with each other (beta_1 and beta_2).
            return base(glyph) not in taken and (base(glyph) not in chosen or "_" in glyph)

        for role in roles:
            candidates, meaning = ROLES[role]
            glyph = next((g for g in candidates if free(g)), rf"{candidates[0]}_{{\mathrm{{{role}}}}}")
            glyphs[role], meanings[role] = glyph, meaning
            chosen.add(base(glyph))
        return cls(dict(spec_names), glyphs, meanings)

    def __getitem__(self, role: str) -> str:
        return self.glyphs[role]

    def entries(self) -> list[tuple[str, str]]:
        """(glyph, what it denotes) for every symbol: spec names denote themselves."""
        return [(tex, f"spec name {name}") for name, tex in self.spec.items()] + \
            [(self.glyphs[r], r) for r in self.glyphs]

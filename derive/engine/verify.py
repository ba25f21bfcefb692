"""Is a ≡ b? Exactly where SymPy decides it, else at random points to 1e-12 relative, run by the compiled code."""
from __future__ import annotations

import math
import random

import sympy

from .codegen import compile_function

POINTS = 20
TOLERANCE = 1e-12


def same(a: sympy.Expr, b: sympy.Expr, seed: int = 0) -> bool:
    """True when the two expressions agree: their difference simplifies to 0, or they agree at 20 random points."""
    a, b = sympy.sympify(a).doit(), sympy.sympify(b).doit()
    difference = a - b
    try:
        if sympy.expand(difference) == 0 or sympy.cancel(sympy.together(difference)) == 0:
            return True
    except (sympy.PolynomialError, TypeError, ValueError):
        pass
    return _at_points(a, b, seed)


def _at_points(a: sympy.Expr, b: sympy.Expr, seed: int) -> bool:
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    arguments = [f"_a{i}" for i in range(len(symbols))]
    renamed = {s: sympy.Symbol(n, real=True) for s, n in zip(symbols, arguments)}
    both = compile_function("_same", arguments, [("_x", a.xreplace(renamed)), ("_y", b.xreplace(renamed))],
                            ["_x", "_y"], shared=False)
    rng = random.Random(seed)
    agreed = tried = 0
    # Points with both signs first (the kinks' two sides), then inside (0, 1) where logs of 1 − p are defined.
    while agreed < POINTS and tried < 20 * POINTS:
        spread = 2.0 if tried < 5 * POINTS else None
        point = [rng.uniform(-spread, spread) if spread else rng.uniform(0.05, 0.95) for _ in symbols]
        tried += 1
        try:
            x, y = both(*point)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        if abs(x - y) > TOLERANCE * max(1.0, abs(x), abs(y)):
            return False
        agreed += 1
    return agreed == POINTS

"""Derivation: loading (derive + compile) a 2-16-16-1 sigmoid network of explicit nodes, against
differentiating the expanded loss of a 2-8-8-1 one; and how load time grows from 2-16-16-1 to 2-32-32-1.
Each side is the best of interleaved repetitions."""
from __future__ import annotations

import sys

import sympy
from sympy.core.cache import clear_cache

from common import interleaved, load, network_spec, verdict

import derive
from derive.model.graph import symbol

REPEATS = 6


def expanded_differentiation(spec: dict) -> None:
    """The way the architecture warns against: substitute every node, then diff by each parameter."""
    problem = derive.Problem.build(**spec)
    values = {}
    for name, expr in problem.graph.nodes:
        values[symbol(name)] = expr.xreplace(values)
    loss = values[symbol("L")]
    for p in problem.graph.params:
        sympy.diff(loss, symbol(p))


def main() -> bool:
    small, medium, large = network_spec([2, 8, 8, 1]), network_spec([2, 16, 16, 1]), network_spec([2, 32, 32, 1])
    # Each run starts from SymPy's cache emptied, as the first run of a program does.
    anchor, ours, bigger = interleaved([lambda: expanded_differentiation(small), lambda: load(medium),
                                        lambda: load(large)], REPEATS, before=clear_cache)
    n16 = len(medium["params"])
    print(f"derivation: expanded-loss diff of 2-8-8-1 {anchor:.2f} s; load of 2-16-16-1 ({n16} parameters) "
          f"{ours:.2f} s; load of 2-32-32-1 ({len(large['params'])} parameters) {bigger:.2f} s; "
          f"best of {REPEATS} interleaved")
    ratio, growth = ours / anchor, bigger / ours
    print(verdict("derivation", ratio, "<= 0.5x", ratio <= 0.5))
    print(verdict("growth", growth, "<= 4.5x", growth <= 4.5))
    return ratio <= 0.5 and growth <= 4.5


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

"""The compiled per-row step: node values, local partials, deltas and gradients in one function."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from .codegen import compile_function
from .derivation import Derivation, delta_symbol, local_symbol
from .graph import symbol


@dataclass(frozen=True)
class Kernel:
    """`row(P, R)` takes parameter values and one data row (inputs then targets) and returns
    one flat tuple: node values, local partials (in `edges` order), deltas, gradients."""

    row: object
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    params: tuple[str, ...]
    loss_index: tuple[int, ...]

    @property
    def slices(self) -> dict[str, slice]:
        n, e, p = len(self.nodes), len(self.edges), len(self.params)
        return {"values": slice(0, n), "local": slice(n, n + e),
                "deltas": slice(n + e, 2 * n + e), "gradients": slice(2 * n + e, 2 * n + e + p)}


def compile_kernel(derivation: Derivation, exact: bool = False, rounding=None) -> Kernel:
    """Compile the derivation into one straight-line function, common subexpressions shared.

    With `rounding`, every shown quantity is rounded as it is made (carry = "rounded")."""
    graph = derivation.graph
    params, columns, assignments, results = kernel_assignments(derivation)
    body = compile_function("row", ["P", "R"], assignments, results, exact=exact,
                            prologue=unpack("P", params) + unpack("R", columns), rounding=rounding)
    loss_index = tuple(graph.node_names.index(name) for name in graph.loss)
    return Kernel(body, graph.node_names, derivation.edges, graph.params, loss_index)


def kernel_assignments(derivation: Derivation):
    """(parameter names p0.., column names c0.., assignments, result names) of one row's step:
    node values v0.., local partials l0.., deltas D0.., gradients g0.."""
    graph = derivation.graph
    rename: dict[sympy.Symbol, sympy.Symbol] = {}
    params = [f"p{i}" for i in range(len(graph.params))]
    columns = [f"c{i}" for i in range(len(graph.columns))]
    for name, code in zip(graph.params, params):
        rename[symbol(name)] = sympy.Symbol(code, real=True)
    for name, code in zip(graph.columns, columns):
        rename[symbol(name)] = sympy.Symbol(code, real=True)
    for i, name in enumerate(graph.node_names):
        rename[symbol(name)] = sympy.Symbol(f"v{i}", real=True)
        rename[delta_symbol(name)] = sympy.Symbol(f"D{i}", real=True)
    for i, (node, parent) in enumerate(derivation.edges):
        rename[local_symbol(node, parent)] = sympy.Symbol(f"l{i}", real=True)

    assignments: list[tuple[str, sympy.Expr]] = []
    for i, (_, expr) in enumerate(graph.nodes):
        assignments.append((f"v{i}", expr.xreplace(rename)))
    for i, edge in enumerate(derivation.edges):
        assignments.append((f"l{i}", derivation.local[edge].xreplace(rename)))
    for i, name in reversed(list(enumerate(graph.node_names))):
        assignments.append((f"D{i}", derivation.delta[name].xreplace(rename)))
    for i, name in enumerate(graph.params):
        assignments.append((f"g{i}", derivation.gradient[name].xreplace(rename)))

    n = len(graph.nodes)
    results = ([f"v{i}" for i in range(n)] + [f"l{i}" for i in range(len(derivation.edges))]
               + [f"D{i}" for i in range(n)] + [f"g{i}" for i in range(len(graph.params))])
    return params, columns, assignments, results


def unpack(array: str, names: list[str]) -> list[str]:
    """A statement that unpacks a tuple argument into named locals."""
    return [f"{', '.join(names)}, = {array}"] if names else []

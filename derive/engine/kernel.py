"""The compiled per-row step: node values, local partials, deltas and gradients in one function."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from .codegen import compile_source, namespace, straight_line
from .derivation import Derivation, delta_symbol, local_symbol
from ..model.graph import symbol


@dataclass(frozen=True)
class Kernel:
    """`row(P, R)` takes parameter values and one data row (inputs then targets) and returns
    one flat tuple: node values, local partials (in `edges` order), deltas, gradients.
    `lines` is its body as statements over p0.., c0.. giving `results` (for fused loops)."""

    row: object
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    params: tuple[str, ...]
    loss_index: tuple[int, ...]
    lines: tuple[str, ...] = ()
    names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())

    @property
    def slices(self) -> dict[str, slice]:
        n, e, p = len(self.nodes), len(self.edges), len(self.params)
        return {"values": slice(0, n), "local": slice(n, n + e),
                "deltas": slice(n + e, 2 * n + e), "gradients": slice(2 * n + e, 2 * n + e + p)}


def compile_kernel(derivation: Derivation, exact: bool = False, rounding=None) -> Kernel:
    """Compile the derivation into one straight-line function.

    Common subexpressions are shared within each node's value and local partials (where they
    arise: sigma(u)(1 - sigma(u)) for every edge into a sigmoid node), so the cost stays linear in
    the size of the graph. With `rounding`, every shown quantity is rounded as it is made."""
    graph = derivation.graph
    params, columns, groups, results = kernel_assignments(derivation)
    lines = []
    for index, (assignments, shared) in enumerate(groups):
        lines += straight_line(assignments, exact, shared, rounding is not None, temp_prefix=f"_t{index}_")
    source = ["def row(P, R):", *(f"    {line}" for line in unpack("P", params) + unpack("R", columns) + lines),
              f"    return ({', '.join(results)},)"]
    row = compile_source("\n".join(source) + "\n", "row", namespace(exact, rounding))
    loss_index = tuple(graph.node_names.index(name) for name in graph.loss)
    return Kernel(row, graph.node_names, derivation.edges, graph.params, loss_index, tuple(lines),
                  (tuple(params), tuple(columns), tuple(results)))


def kernel_assignments(derivation: Derivation):
    """(parameter names p0.., column names c0.., groups of (assignments, share subexpressions),
    result names) of one row's step: node values v0.., local partials l0.., deltas D0.., gradients g0.."""
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

    index = {name: i for i, name in enumerate(graph.node_names)}
    groups: list[list] = [[(f"v{i}", expr.xreplace(rename))] for i, (_, expr) in enumerate(graph.nodes)]
    for i, edge in enumerate(derivation.edges):
        groups[index[edge[0]]].append((f"l{i}", derivation.local[edge].xreplace(rename)))
    chain = [(f"D{i}", derivation.delta[name].xreplace(rename)) for i, name in reversed(list(enumerate(graph.node_names)))]
    chain += [(f"g{i}", derivation.gradient[name].xreplace(rename)) for i, name in enumerate(graph.params)]

    n = len(graph.nodes)
    results = ([f"v{i}" for i in range(n)] + [f"l{i}" for i in range(len(derivation.edges))]
               + [f"D{i}" for i in range(n)] + [f"g{i}" for i in range(len(graph.params))])
    return params, columns, [(g, True) for g in groups] + [(chain, False)], results


def unpack(array: str, names: list[str]) -> list[str]:
    """A statement that unpacks a tuple argument into named locals."""
    return [f"{', '.join(names)}, = {array}"] if names else []

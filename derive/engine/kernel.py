"""The compiled per-row step: node values, local partials, deltas and gradients in one function."""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

from .codegen import compile_source, namespace, numpy_function, straight_line, unpack
from .derivation import Derivation, delta_symbol, local_symbol
from ..model.graph import symbol


@dataclass(frozen=True)
class RowLayout:
    """Which column of a row's outputs holds which number: node values (in evaluation order),
    local partials (in `edges` order), deltas (one per node) and gradients (one per parameter);
    `state` names each parameter's optimiser state, `loss` the nodes summed into the loss."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    params: tuple[str, ...]
    loss: tuple[str, ...]
    state: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return 2 * len(self.nodes) + len(self.edges) + len(self.params)

    @property
    def slices(self) -> dict[str, slice]:
        n, e, p = len(self.nodes), len(self.edges), len(self.params)
        return {"values": slice(0, n), "local": slice(n, n + e),
                "deltas": slice(n + e, 2 * n + e), "gradients": slice(2 * n + e, 2 * n + e + p)}

    @property
    def gradients(self) -> slice:
        return self.slices["gradients"]

    @property
    def loss_index(self) -> tuple[int, ...]:
        """The columns of the loss nodes' values."""
        return tuple(self.nodes.index(name) for name in self.loss)

    @property
    def columns(self) -> tuple[tuple[str, object], ...]:
        """(part, key) of every column in order: ("values", node), ("local", (node, parent)),
        ("deltas", node), ("gradients", param)."""
        return (*(("values", n) for n in self.nodes), *(("local", e) for e in self.edges),
                *(("deltas", n) for n in self.nodes), *(("gradients", p) for p in self.params))

    @property
    def quantities(self) -> tuple[str, ...]:
        """The name of every column as a diverged run reports it: values.L, local.L.yhat, ..."""
        return tuple(f"{part}.{key[0]}.{key[1]}" if part == "local" else f"{part}.{key}" for part, key in self.columns)

    def with_state(self, state: tuple[str, ...]) -> RowLayout:
        return replace(self, state=tuple(state))


@dataclass(frozen=True)
class Kernel:
    """`row(P, R)` takes parameter values and one data row (inputs then targets) and returns
    one flat tuple laid out by `layout`. `lines` is its body as statements over the locals named
    by `names` (parameters p0.., columns c0.., results), for loops that inline the row's step."""

    row: object
    layout: RowLayout
    lines: tuple[str, ...] = ()
    names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())


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
    layout = RowLayout(graph.node_names, derivation.edges, graph.params, graph.loss)
    return Kernel(row, layout, tuple(lines), (tuple(params), tuple(columns), tuple(results)))


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
        # A local partial written with later nodes (d p1/d z2 = -p1 p2) is made after the last of them.
        expr = derivation.local[edge]
        at = max([index[edge[0]], *(index[s.name] for s in expr.free_symbols if s.name in index)])
        groups[at].append((f"l{i}", expr.xreplace(rename)))
    chain = [(f"D{i}", derivation.delta[name].xreplace(rename)) for i, name in reversed(list(enumerate(graph.node_names)))]
    ones = {rename[local_symbol(*edge)] for edge in derivation.edges if derivation.local[edge] == 1}
    chain += [(f"g{i}", _times_one(derivation.gradient[name].xreplace(rename), ones))
              for i, name in enumerate(graph.params)]

    n = len(graph.nodes)
    results = ([f"v{i}" for i in range(n)] + [f"l{i}" for i in range(len(derivation.edges))]
               + [f"D{i}" for i in range(n)] + [f"g{i}" for i in range(len(graph.params))])
    return params, columns, [(g, True) for g in groups] + [(chain, False)], results


def _times_one(expr: sympy.Expr, ones: set) -> sympy.Expr:
    """A gradient that is a delta times a local partial equal to 1 (a bias's) is the delta itself:
    the same number in any arithmetic, without a multiplication per row."""
    kept = [factor for factor in expr.args if factor not in ones] if expr.is_Mul else ()
    return kept[0] if len(expr.args) == 2 and len(kept) == 1 else expr


def compile_replay(kernel: Kernel, exact: bool = False):
    """`replay(P, R, O)`: the row's step in floating point where O[i], when not None, replaces node
    i's value as soon as it is made (a student's own number, carried into everything after it).
    Returns the row's outputs, then each node's value as computed before any replacement."""
    params, columns, results = (list(names) for names in kernel.names)
    body = [*unpack("P", params), *unpack("R", columns)]
    for line in kernel.lines:
        body.append(line)
        target = line.partition(" = ")[0]
        if target[0] == "v" and target[1:].isdigit():
            body += [f"k{target[1:]} = {target}", f"if O[{target[1:]}] is not None: {target} = O[{target[1:]}]"]
    computed = [f"k{i}" for i in range(len(kernel.layout.nodes))]
    source = "\n".join(["def replay(P, R, O):", *(f"    {line}" for line in body),
                        f"    return ({', '.join(results + computed)},)"]) + "\n"
    return numpy_function(source, "replay") if exact else compile_source(source, "replay", namespace())

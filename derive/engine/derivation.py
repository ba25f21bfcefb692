"""Local partials on every edge and the backprop recursion over named nodes, done once, symbolically."""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from ..model.graph import Graph, symbol
from .codegen import collection_paused


def delta_symbol(node: str) -> sympy.Symbol:
    """The symbol that stands for dL/d(node) in chain-rule formulas."""
    return sympy.Symbol(f"D[{node}]", real=True)


def local_symbol(node: str, parent: str) -> sympy.Symbol:
    """The symbol that stands for d(node)/d(parent) in chain-rule formulas."""
    return sympy.Symbol(f"d[{node},{parent}]", real=True)


@dataclass(frozen=True)
class Derivation:
    """Every derivative of a graph as SymPy expressions.

    `local[(node, parent)]` is d(node)/d(parent) over inputs, targets, parameters and nodes;
    `delta[node]` is dL/d(node) written with delta and local symbols (the chain rule as taught);
    `gradient[param]` likewise for each parameter. `edges` lists (node, parent) in order.
    """

    graph: Graph
    edges: tuple[tuple[str, str], ...]
    local: dict[tuple[str, str], sympy.Expr]
    delta: dict[str, sympy.Expr]
    gradient: dict[str, sympy.Expr]

    def expanded_gradient(self, param: str) -> sympy.Expr:
        """dL/d(param) with every helper symbol and node replaced: an expression in data and parameters."""
        values: dict[sympy.Symbol, sympy.Expr] = {}
        for name, expr in self.graph.nodes:
            values[symbol(name)] = expr.xreplace(values)
        locals_ = {local_symbol(n, p): e.xreplace(values) for (n, p), e in self.local.items()}
        deltas: dict[sympy.Symbol, sympy.Expr] = {}
        for name, _ in reversed(self.graph.nodes):
            deltas[delta_symbol(name)] = self.delta[name].xreplace(locals_).xreplace(deltas)
        return self.gradient[param].xreplace(locals_).xreplace(deltas)


@collection_paused
def derive(graph: Graph) -> Derivation:
    """Differentiate each node by each parent, then run the backprop recursion.

    dL/d(node) = [node is a loss node] + sum over children c of dL/dc * dc/d(node);
    dL/d(param) = sum over nodes n that use param of dL/dn * dn/d(param).
    """
    node_names = graph.node_names
    differentiable = set(graph.params) | set(node_names)
    position = _order_key(graph)
    parents = {name: tuple(sorted({s.name for s in expr.free_symbols} & differentiable, key=position))
               for name, expr in graph.nodes}

    # Local partial on every edge, rewritten in terms of the node's own value where it appears.
    edges: list[tuple[str, str]] = []
    local: dict[tuple[str, str], sympy.Expr] = {}
    # Each node's definition with its free symbols, found once (not once per edge).
    defined = [(symbol(n), e, e.free_symbols) for n, e in graph.nodes if not e.is_Atom]
    for name, expr in graph.nodes:
        outer, inner = _outer(expr, symbol(name))
        # The terms of a sum that hold each parent, found in one pass (not one pass per parent).
        terms: dict[sympy.Symbol, list] = {}
        for term in (inner.args if inner.is_Add else (inner,)):
            for s in term.free_symbols:
                terms.setdefault(s, []).append(term)
        for parent in parents[name]:
            by = symbol(parent)
            edges.append((name, parent))
            local[(name, parent)] = in_nodes(outer * sympy.Add(*(_diff(term, by) for term in terms[by])), defined)

    children: dict[str, list[str]] = {n: [] for n in (*graph.params, *node_names)}
    for name, parent in edges:
        children[parent].append(name)

    # Backward pass: visit nodes in reverse evaluation order.
    # Deltas that are plain numbers (the loss node's 1) are written in place of their symbol.
    delta: dict[str, sympy.Expr] = {}
    known: dict[sympy.Symbol, sympy.Expr] = {}
    for name in reversed(node_names):
        seed = sympy.Integer(1) if name in graph.loss else sympy.Integer(0)
        delta[name] = (seed + _chain(children[name], name)).xreplace(known)
        if delta[name].is_number:
            known[delta_symbol(name)] = delta[name]
    gradient = {p: _chain(children[p], p).xreplace(known) for p in graph.params}
    return Derivation(graph, tuple(edges), local, delta, gradient)


def in_nodes(d: sympy.Expr, defined: list[tuple[sympy.Symbol, sympy.Expr, set]]) -> sympy.Expr:
    """A local partial written with the nodes whose definitions it contains, as a teacher writes
    it: d/dz1 of p1 = e^z1 / (e^z1 + e^z2 + e^z3) is p1 (1 - p1), not the quotient expanded. The
    rewrite is kept only where it has the same value (checked at two random points)."""
    if d.is_Atom:
        return d
    free = d.free_symbols
    found = [(own, e) for own, e, symbols in defined if symbols <= free]
    if not found:
        return d
    written = sympy.factor_terms(d)
    for own, e in found:
        written = written.subs(e, own)
    if written == sympy.factor_terms(d) or not _same_value(written, d, {own: e for own, e, _ in defined}):
        return d
    return written


def _same_value(written: sympy.Expr, d: sympy.Expr, definitions: dict) -> bool:
    expanded = written
    for _ in range(len(definitions)):  # nodes brought in unfold, one level at a time
        brought = (expanded.free_symbols - d.free_symbols) & definitions.keys()
        if not brought:
            break
        expanded = expanded.xreplace({s: definitions[s] for s in brought})
    rng = random.Random(0)
    for _ in range(2):
        point = {s: sympy.Float(rng.uniform(0.3, 1.7)) for s in d.free_symbols | expanded.free_symbols}
        try:
            a, b = complex(d.evalf(30, subs=point)), complex(expanded.evalf(30, subs=point))
        except (TypeError, ValueError):  # a function without a numeric value here: keep the partial as derived
            return False
        if not abs(a - b) <= 1e-12 * max(1.0, abs(a)):
            return False
    return True


def _outer(expr: sympy.Expr, own: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr]:
    """For a node f(u) of one argument: (f'(u) written with the node's own value, u), so that
    d(node)/d(parent) = f'(u) du/d(parent) and f' is found once; otherwise (1, expr)."""
    if isinstance(expr, sympy.Function) and len(expr.args) == 1:
        return expr.fdiff(1).xreplace({expr: own}), expr.args[0]
    return sympy.Integer(1), expr


def _diff(expr: sympy.Expr, by: sympy.Symbol) -> sympy.Expr:
    """d(expr)/d(by), with a quick path for a product that holds `by` once as a factor."""
    if expr.is_Mul and expr.args.count(by) == 1:
        rest = [a for a in expr.args if a != by]
        if not any(by in a.free_symbols for a in rest):  # w*x by w is x, without asking SymPy
            return sympy.Mul(*rest)
    return expr.diff(by)


def _chain(children: list[str], name: str) -> sympy.Expr:
    return sympy.Add(*(delta_symbol(c) * local_symbol(c, name) for c in children))  # one sum, not one per term


def _order_key(graph: Graph):
    position = {name: i for i, name in enumerate((*graph.params, *graph.node_names))}
    return position.__getitem__

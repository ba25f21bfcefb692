"""Named nodes in evaluation order over inputs, targets and parameters: the model as a DAG."""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy

from ..errors import SpecError


@functools.cache
def symbol(name: str) -> sympy.Symbol:
    """The one real symbol derive uses for a name (real, so |x|' is sign(x))."""
    return sympy.Symbol(name, real=True)


@dataclass(frozen=True)
class Graph:
    """Inputs, targets, parameters and named nodes; `loss` names the per-row loss node(s)."""

    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    params: tuple[str, ...]
    nodes: tuple[tuple[str, sympy.Expr], ...]
    loss: tuple[str, ...]

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.nodes)

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns the model reads: inputs, then targets."""
        return self.inputs + self.targets


def build_graph(inputs: Sequence[str], targets: Sequence[str], params: Sequence[str],
                nodes: Mapping[str, sympy.Expr], loss: Sequence[str], where: str = "model") -> Graph:
    """Check names and order, and return the Graph; raises SpecError naming the field."""
    seen: dict[str, str] = {}
    for kind, names in (("inputs", inputs), ("targets", targets), ("params", params), ("nodes", list(nodes))):
        for name in names:
            if name in seen:
                raise SpecError(f"the name {name!r} is used twice (in {seen[name]} and {kind}); give each a different name.", where)
            seen[name] = kind
    known = set(inputs) | set(targets) | set(params)
    order = list(nodes)
    position = {name: i for i, name in enumerate(order)}
    for index, (name, expr) in enumerate(nodes.items()):
        for used in sorted(s.name for s in expr.free_symbols):
            if used == name:
                raise SpecError("the node uses itself (a cycle); a node may only use inputs, targets, parameters "
                                "and earlier nodes.", f"{where}.nodes.{name}")
            if position.get(used, -1) > index:
                raise SpecError(f"uses {used!r}, which is defined after it; list {used!r} before {name!r}.", f"{where}.nodes.{name}")
            if used not in known and used not in position:
                raise SpecError(f"the name {used!r} is never defined; add it to inputs, targets, params or nodes.", f"{where}.nodes.{name}")
    if not loss:
        raise SpecError("no loss node is named; set loss to the node that is the per-row loss.", f"{where}.loss")
    for name in loss:
        if name not in nodes:
            raise SpecError(f"{name!r} is not a node; name one of {', '.join(order)}.", f"{where}.loss")
    return Graph(tuple(inputs), tuple(targets), tuple(params),
                 tuple((n, nodes[n]) for n in order), tuple(loss))

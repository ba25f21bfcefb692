"""A step recomputed from the student's own numbers: where they wrote a value it is used from then
on, so an answer that is wrong only because an earlier one was can be recognised (it follows)."""
from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy

from ..engine.codegen import compile_function, recompile_for_numpy
from ..engine.derivation import delta_symbol, local_symbol
from ..model.graph import symbol


class OwnNumbers:
    """Every quantity of a step from the student's numbers (the true ones where they gave none),
    computed over the step's rows at once."""

    def __init__(self, compiled):
        self.compiled, self.problem = compiled, compiled.problem

    @cached_property
    def _functions(self):
        graph, derivation = self.problem.graph, self.compiled.derivation
        symbols = ([symbol(n) for n in (*graph.columns, *graph.params, *graph.node_names)]
                   + [delta_symbol(n) for n in graph.node_names] + [local_symbol(*e) for e in derivation.edges])
        codes = {s: sympy.Symbol(f"a{i}", real=True) for i, s in enumerate(symbols)}
        args = [str(codes[s]) for s in symbols]

        def make(expr):
            expr = sympy.sympify(expr).xreplace(codes)
            return recompile_for_numpy(compile_function("q", args, [("r", expr)], ["r"]))

        nodes = [(n, make(e)) for n, e in graph.nodes]
        local = [(e, make(derivation.local[e])) for e in derivation.edges]
        deltas = [(n, make(derivation.delta[n])) for n in reversed(graph.node_names)]
        grads = [(p, make(derivation.gradient[p])) for p in graph.params]
        return symbols, nodes, local, deltas, grads

    def step(self, step, given: dict, params: dict, state: tuple) -> dict:
        """Quantity -> the student's own value, for a step (a trace's Step) whose answers are
        `given` (quantity -> Answer), starting from `params` and the optimiser `state`."""
        problem, graph = self.problem, self.problem.graph
        symbols, nodes, local, deltas, grads = self._functions
        m = len(step.rows)
        env = {s: np.zeros(m) for s in symbols}
        rows = list(step.rows)
        env.update({symbol(c): np.asarray(problem.data[c][rows], dtype=float) for c in graph.columns})
        env.update({symbol(p): np.full(m, float(v)) for p, v in params.items()})
        own: dict[str, object] = {}

        def run(f, key: str, target):
            with np.errstate(all="ignore"):
                value = np.broadcast_to(np.asarray(f(*(env[s] for s in symbols))[0], dtype=float), (m,))
            own[key] = float(value[0]) if m == 1 else value.tolist()
            answer = given.get(key)
            env[target] = _as_array(answer.given, m) if answer else value

        for name, f in nodes:
            run(f, f"values.{name}", symbol(name))
        own["loss"] = float(np.mean(sum(env[symbol(n)] for n in graph.loss)))
        for edge, f in local:
            run(f, f"local.{edge[0]}/{edge[1]}", local_symbol(*edge))
        for name, f in deltas:
            run(f, f"deltas.{name}", delta_symbol(name))
        gradients = {}
        for p, f in grads:
            with np.errstate(all="ignore"):
                gradients[p] = float(np.mean(np.broadcast_to(f(*(env[s] for s in symbols))[0], (m,))))
            own[f"gradients.{p}"] = gradients[p]
        used = tuple(float(given[f"gradients.{p}"].given.value) if f"gradients.{p}" in given else gradients[p]
                     for p in graph.params)
        try:
            result = self.compiled.stepper.update(tuple(float(params[p]) for p in graph.params), used, state,
                                            float(step.learning_rate), step.step)
        except (OverflowError, ZeroDivisionError, ValueError):
            return own
        n = len(graph.params)
        own.update({f"updated.{p}": float(v) for p, v in zip(graph.params, result[:n])})
        names = self.compiled.stepper.rule.state
        for i, p in enumerate(graph.params):
            own.update({f"state.{p}.{s}": float(result[n + i * len(names) + j]) for j, s in enumerate(names)})
        return own


def _as_array(given, m: int) -> np.ndarray:
    if isinstance(given, tuple):
        return np.array([float(g.value) for g in given])
    return np.full(m, float(given.value))

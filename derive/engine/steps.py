"""Each local partial derived rule by rule from the expression tree, every step checked against sympy.diff."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import sympy

from ..model.functions import REGISTRY
from ..model.graph import Graph, symbol
from .derivation import Derivation
from .verify import same

# Each function's rule is named as the registry names the function (exp, log, sigmoid, leaky_relu, ...);
# its derivative comes from the function itself (its fdiff), so that a step can never disagree
# with the derivative compiled. huber is written out as a Piecewise.
FUNCTION_RULES = {e.cls: e.name for e in REGISTRY.values() if e.public and e.cls is not None}
FUNCTION_RULES[sympy.Piecewise] = "huber"
U = sympy.Symbol("u", real=True)


@dataclass(frozen=True)
class Step:
    """One rule applied: d(expr)/d(by) = form by `rule` (a rewrite when `by` is None: expr = form).

    `steps` are the sub-derivations the rule needs, then any rewrites of `form`; `result` is the
    last form reached. `inner` is the chain rule's u; `condition` a rewrite's assumption in words' key."""

    rule: str
    expr: sympy.Expr
    by: sympy.Symbol | None
    form: sympy.Expr
    result: sympy.Expr
    steps: tuple[Step, ...] = ()
    inner: sympy.Expr | None = None
    condition: str | None = None

    def walk(self):
        yield self
        for step in self.steps:
            yield from step.walk()


def _mul(*factors: sympy.Expr) -> sympy.Expr:
    """A product as a teacher writes it: ones dropped, a number kept outside a sum (2(ŷ − y), not 2ŷ − 2y)."""
    split = [sympy.sympify(f).as_coeff_Mul() for f in factors]
    number = sympy.Mul(*(c for c, _ in split))
    if number == 0:
        return sympy.Integer(0)
    rest = sympy.Mul(*(r for _, r in split))
    if rest.is_Add and not (rest.args[0].is_Number and number == -1):
        rest = sympy.factor_terms(rest)
        if rest.is_Mul:
            return _mul(number, *rest.args)
    if number not in (1, -1) and rest.is_Add:
        return sympy.Mul(number, rest, evaluate=False)
    return number * rest


def _factors(expr: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """A product's factors, a number pulled out of a sum (2ŷ − 2y is 2 and ŷ − y)."""
    if expr.is_Add:
        expr = sympy.factor_terms(expr)
    return expr.args if expr.is_Mul else (expr,)


def _add(*terms: sympy.Expr) -> sympy.Expr:
    terms = [t for t in terms if t != 0]
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


def _leaf(rule: str, expr, by, form) -> Step:
    return Step(rule, expr, by, form, form)


def differentiate(expr: sympy.Expr, by: sympy.Symbol) -> Step:
    """d(expr)/d(by) rule by rule."""
    if not (by in _terms_holding(expr) if expr.is_Add else by in expr.free_symbols):
        return _leaf("constant", expr, by, sympy.Integer(0))
    if expr == by:
        return _leaf("power", expr, by, sympy.Integer(1))
    if expr.is_Add:
        return _sum(expr, by)
    if expr.is_Mul:
        return _product(expr, by)
    if expr.is_Pow:
        return _power(expr, by)
    if FUNCTION_RULES.get(expr.func) == "logsumexp":
        return _logsumexp(expr, by)
    if expr.func in FUNCTION_RULES:
        return _function(expr, by)
    raise NotImplementedError(f"no rule for {expr.func.__name__}")


def _sub(expr, by) -> tuple[Step, ...]:
    """The sub-derivation of a part, left out where it is the variable itself (d by/d by = 1)."""
    return () if expr == by else (differentiate(expr, by),)


def _derivative(expr, by) -> sympy.Expr:
    return sympy.Integer(1) if expr == by else differentiate(expr, by).result


@functools.lru_cache(maxsize=64)
def _terms_holding(expr: sympy.Expr) -> dict[sympy.Symbol, list[sympy.Expr]]:
    """The terms of a sum that hold each symbol, found in one pass: a wide sum is differentiated by
    each of its many symbols in turn."""
    terms: dict[sympy.Symbol, list[sympy.Expr]] = {}
    for term in expr.args:
        for s in term.free_symbols:
            terms.setdefault(s, []).append(term)
    return terms


def _bare(term, by) -> bool:
    """The variable itself or a number times it (x, -x, 2x): a sum's term whose derivative needs no step."""
    coefficient, rest = term.as_coeff_Mul()
    return rest == by and coefficient.is_Number


def _sum(expr, by) -> Step:
    held = _terms_holding(expr).get(by, [])
    steps = tuple(differentiate(t, by) for t in held if not _bare(t, by))
    form = _add(*(_derivative(t, by) for t in held))
    return Step("sum", expr, by, form, form, steps)


def _product(expr, by) -> Step:
    constant = [f for f in expr.args if by not in f.free_symbols]
    varying = [f for f in expr.args if by in f.free_symbols]
    if constant:
        part = sympy.Mul(*varying)
        form = _mul(*constant, _derivative(part, by))
        return Step("constant_multiple", expr, by, form, form, _sub(part, by))
    below = [f for f in varying if f.is_Pow and f.exp.is_negative]
    if below and len(below) < len(varying):
        top = sympy.Mul(*(f for f in varying if f not in below))
        bottom = sympy.Mul(*(sympy.Pow(f.base, -f.exp) for f in below))
        dt, db = _derivative(top, by), _derivative(bottom, by)
        form = sympy.Mul(_add(_mul(dt, bottom), _mul(-1, top, db)), sympy.Pow(bottom, -2), evaluate=False)
        return Step("quotient", expr, by, form, form, _sub(top, by) + _sub(bottom, by))
    first, rest = varying[0], sympy.Mul(*varying[1:])
    form = _add(_mul(_derivative(first, by), rest), _mul(first, _derivative(rest, by)))
    return Step("product", expr, by, form, form, _sub(first, by) + _sub(rest, by))


def _outer(expr, by, rule, outer_form, inner) -> Step:
    """A function of the variable itself, or the chain rule with u = inner."""
    if inner == by:
        return _leaf(rule, expr, by, outer_form.xreplace({U: by}))
    outer = _leaf(rule, expr.xreplace({inner: U}), U, outer_form)
    inner_step = differentiate(inner, by)
    form = _mul(*_factors(outer_form.xreplace({U: inner})), inner_step.result)
    return Step("chain", expr, by, form, form, (outer, inner_step), inner=inner)


def _power(expr, by) -> Step:
    base, n = expr.base, expr.exp
    if by in n.free_symbols:
        raise NotImplementedError("a power with the variable in its exponent")
    if n == sympy.S.Half:
        return _outer(expr, by, "sqrt", 1 / (2 * sympy.sqrt(U)), base)
    return _outer(expr, by, "power", _mul(n, U ** (n - 1)), base)


def _function(expr, by) -> Step:
    rule = FUNCTION_RULES[expr.func]
    varying = [i for i, a in enumerate(expr.args) if by in a.free_symbols]
    if len(expr.args) == 1 or (len(varying) == 1 and rule in ("leaky_relu", "max", "min")):
        index = varying[0]
        inner = expr.args[index]
        outer = expr.func(*(U if i == index else a for i, a in enumerate(expr.args)))
        return _outer(expr, by, rule, outer.diff(U), inner)
    if rule == "huber":
        return _huber(expr, by)
    # max(a, b) with the variable in both: the function's own derivative by each argument.
    form = _add(*(_mul(expr.fdiff(i + 1), _derivative(expr.args[i], by)) for i in varying))
    return Step(rule, expr, by, form, form, tuple(s for i in varying for s in _sub(expr.args[i], by)))


def _huber(expr, by) -> Step:
    """huber(ŷ, y, δ) is written out as a Piecewise in d = ŷ − y: the chain rule with u = d."""
    condition = expr.args[0][1]
    if not (isinstance(condition, sympy.StrictLessThan) and condition.args[0].func == sympy.Abs):
        raise NotImplementedError("a Piecewise that is not a huber loss")
    inner, delta = condition.args[0].args[0], condition.args[1]
    outer = sympy.Piecewise((U**2 / 2, sympy.Abs(U) < delta), (delta * (sympy.Abs(U) - delta / 2), True))
    step = _outer(expr, by, "huber", outer.diff(U), inner)
    return step if inner != by else replace(step, expr=expr)


def _logsumexp(expr, by) -> Step:
    """d/dx log Σ e^(z_k) = Σ softmax_k dz_k/dx, softmax_k = e^(z_k) / Σ e^(z_j)."""
    total = sympy.Add(*(sympy.exp(z) for z in expr.args), evaluate=False)
    varying = [z for z in expr.args if by in z.free_symbols]
    steps = tuple(s for z in varying for s in _sub(z, by))
    form = _add(*(_mul(sympy.exp(z) / total, _derivative(z, by)) for z in varying))
    return Step("logsumexp", expr, by, form, form, steps)


def rewrite(step: Step, rule: str, form: sympy.Expr, condition: str | None = None) -> Step:
    """The step with one more rewrite of its result, checked by the caller."""
    if form == step.result:
        return step
    shown = Step(rule, step.result, None, form, form, condition=condition)
    return replace(step, result=form, steps=step.steps + (shown,))


def local_steps(graph: Graph, node: str, parent: str, written: sympy.Expr | None = None) -> Step:
    """d(node)/d(parent) derived from the node as written (else as SymPy holds it), with the node's own
    value collected into its symbol (F(1 − F))."""
    expr = dict(graph.nodes)[node]
    step = differentiate(expr if written is None else written, symbol(parent))
    collected = step.result.xreplace({expr: symbol(node)})
    softmax = _softmax_of(graph, node)
    if softmax is not None and parent in softmax:
        # p_j = e^(z_j) / Σ e^(z_k): dp_j/dz_j = p_j(1 − p_j), dp_j/dz_k = −p_j p_k, in the nodes' own symbols.
        others = {z: p for p, z in _softmax_nodes(graph).items() if p in _softmax_group(graph, node)}
        mine = symbol(node)
        collected = (_mul(mine, _add(1, -mine)) if softmax[0] == parent
                     else _mul(-1, mine, symbol(others[parent])) if parent in others else collected)
    step = rewrite(step, "collect", collected)
    if expr.is_Pow and expr.exp == 2 and expr.base.is_Add and len(expr.base.args) == 2:
        step = rewrite(step, "squared_error", _squared_error(step.result))
    return step


def _softmax_nodes(graph: Graph) -> dict[str, str]:
    """Nodes written e^(z) / Σ e^(z_k) with z a name: node -> z."""
    found = {}
    for name, expr in graph.nodes:
        top = [f for f in expr.args if f.func == sympy.exp] if expr.is_Mul else []
        bottom = [f for f in expr.args if f.is_Pow and f.exp == -1 and f.base.is_Add
                  and all(t.func == sympy.exp for t in f.base.args)] if expr.is_Mul else []
        if len(expr.args) == 2 and len(top) == 1 and len(bottom) == 1 and top[0] in bottom[0].base.args \
                and top[0].args[0].is_Symbol:
            found[name] = top[0].args[0].name
    return found


def _softmax_group(graph: Graph, node: str) -> list[str]:
    """The softmax nodes sharing `node`'s denominator."""
    exprs = dict(graph.nodes)
    nodes = _softmax_nodes(graph)
    if node not in nodes:
        return []
    base = [f for f in exprs[node].args if f.is_Pow][0].base
    return [p for p in nodes if base in [f.base for f in exprs[p].args if f.is_Pow]]


def _softmax_of(graph: Graph, node: str) -> tuple[str, ...] | None:
    """(own score, the other scores) of a softmax node, else None."""
    group = _softmax_group(graph, node)
    if not group:
        return None
    nodes = _softmax_nodes(graph)
    return (nodes[node], *(nodes[p] for p in group if p != node))


def _squared_error(form: sympy.Expr) -> sympy.Expr:
    """−2(y − ŷ) as 2(ŷ − y): the minus sign taken into the difference."""
    if form.is_Mul and form.args[0].is_Number and form.args[0] < 0 and len(form.args) == 2 and form.args[1].is_Add:
        return _mul(-form.args[0], _add(*(-t for t in form.args[1].args)))
    return form


def definitions(graph: Graph) -> dict[sympy.Symbol, sympy.Expr]:
    """Every node symbol as an expression in inputs, targets and parameters."""
    values: dict[sympy.Symbol, sympy.Expr] = {}
    for name, expr in graph.nodes:
        values[symbol(name)] = expr.xreplace(values)
    return values


def check(step: Step, nodes: Mapping[sympy.Symbol, sympy.Expr]) -> bool:
    """Every step's form equals sympy.diff of its input (a rewrite: equals its input, node values put in)."""
    for s in step.walk():
        if s.by is None:
            if not same(s.expr.xreplace(nodes), s.form.xreplace(nodes)):
                return False
        elif not same(_diff(s.expr, s.by), s.form):
            return False
    return True


def _diff(expr: sympy.Expr, by: sympy.Symbol) -> sympy.Expr:
    """sympy.diff, term by term over the terms of a sum that hold the variable (the others give 0)."""
    if expr.is_Add:
        return sympy.Add(*(t.diff(by) for t in _terms_holding(expr).get(by, [])))
    return expr.diff(by)


@dataclass(frozen=True)
class Collapse:
    """dL/d(node) through one node in between, multiplied out: the teachers' F − y and p_k − y_k."""

    key: tuple[str, str]
    via: tuple[str, ...]
    step: Step
    assume: Mapping[sympy.Symbol, sympy.Expr] = field(default_factory=dict)  # the condition, as a substitution


def derivations(derivation: Derivation, written: Mapping[str, sympy.Expr] | None = None
                ) -> tuple[dict[tuple[str, str], Step | None], list[Collapse]]:
    """Each local partial derived and checked against the engine's (None where a step fails: state it),
    and the collapses that apply."""
    graph = derivation.graph
    nodes = definitions(graph)
    out: dict[tuple[str, str], Step | None] = {}
    for key in derivation.edges:
        try:
            step = local_steps(graph, *key, (written or {}).get(key[0]))
        except NotImplementedError:
            out[key] = None
            continue
        engine = derivation.local[key].xreplace(nodes)
        out[key] = step if check(step, nodes) and same(step.result.xreplace(nodes), engine) else None
    return out, [c for c in _collapses(derivation, out) if check(c.step, {**nodes, **c.assume})]


def _collapses(derivation: Derivation, steps) -> list[Collapse]:
    graph = derivation.graph
    exprs = dict(graph.nodes)
    children: dict[str, list[str]] = {}
    for node, parent in derivation.edges:
        children.setdefault(parent, []).append(node)
    found = []
    for loss in graph.loss:
        for middle in [p for n, p in derivation.edges if n == loss and p in exprs]:
            f = exprs[middle]
            if f.func.__name__ == "sigmoid" and children.get(middle) == [loss] and f.args[0].is_Symbol:
                z = f.args[0].name
                parts = (steps.get((loss, middle)), steps.get((middle, z)))
                if None in parts:
                    continue
                product = sympy.Mul(parts[0].result, parts[1].result, evaluate=False)
                form = sympy.factor(sympy.cancel(sympy.expand(product)))
                if sympy.count_ops(form) < sympy.count_ops(product):
                    found.append(Collapse((loss, z), (middle,),
                                          Step("sigmoid_cross_entropy", product, None, form, form)))
        found.extend(_softmax(derivation, loss, steps, exprs))
    return found


def _softmax(derivation: Derivation, loss: str, steps, exprs) -> list[Collapse]:
    """L = −Σ y_k log p_k over softmax nodes p_k = e^(z_k) / Σ e^(z_j): dL/dz_k = p_k − y_k, given Σ y_k = 1."""
    graph = derivation.graph
    probs = [p for n, p in derivation.edges if n == loss and p in exprs]
    scores = []
    for p in probs:
        e = exprs[p]
        num = [f for f in e.args if f.func == sympy.exp] if e.is_Mul else []
        if len(num) != 1 or not num[0].args[0].is_Symbol:
            return []
        scores.append(num[0].args[0].name)
    if len(probs) < 2 or any((p, z) not in steps for p in probs for z in scores):
        return []
    targets = [t for t in graph.targets if any(symbol(t) in (steps[(loss, p)] or _EMPTY).result.free_symbols
                                               for p in probs)]
    if len(targets) != len(probs) or any(steps[(loss, p)] is None for p in probs):
        return []
    found = []
    one_hot = {symbol(targets[-1]): 1 - sum(symbol(t) for t in targets[:-1])}
    for z in scores:
        product = _add(*(sympy.Mul(steps[(loss, p)].result, steps[(p, z)].result, evaluate=False)
                         for p in probs if steps[(p, z)]))
        k = scores.index(z)
        form = _add(symbol(probs[k]), -symbol(targets[k]))
        found.append(Collapse((loss, z), tuple(probs),
                              Step("softmax_cross_entropy", product, None, form, form, condition="one_hot"), one_hot))
    return found


_EMPTY = Step("constant", sympy.Integer(0), None, sympy.Integer(0), sympy.Integer(0))


def gradient_paths(derivation: Derivation, collapsed: set[tuple[str, str]]) -> dict[str, list[list[tuple[str, str]]]]:
    """For each trained parameter, the chain of partials along every path from the loss to it (a
    collapsed dL/dz standing for the partials it multiplies out)."""
    graph = derivation.graph
    children: dict[str, list[str]] = {}
    for node, parent in derivation.edges:
        children.setdefault(parent, []).append(node)
    memo: dict[str, list[list[tuple[str, str]]]] = {}

    def paths(name: str) -> list[list[tuple[str, str]]]:
        if name not in memo:
            found = [[(loss, name)] for loss in graph.loss if (loss, name) in collapsed]
            if not found:
                found = [[]] if name in graph.loss else []
                found += [path + [(child, name)] for child in children.get(name, []) for path in paths(child)]
            memo[name] = found
        return memo[name]

    return {p: paths(p) for p in derivation.gradient}

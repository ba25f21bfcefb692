"""Update rules as SymPy assignments over parameter, gradient and state, compiled like the model."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy

from .codegen import compile_function
from .errors import SpecError, closest

THETA = sympy.Symbol("theta", real=True)
GRAD = sympy.Symbol("g", real=True)
ETA = sympy.Symbol("eta", positive=True)
T = sympy.Symbol("t", positive=True, integer=True)


@dataclass(frozen=True)
class UpdateRule:
    """One optimiser: `assignments` run in order for every trained parameter.

    Each target is a state name or "theta"; each expression may use theta, g, eta, t, the
    hyperparameters and the state names (their latest values). `hyper` holds the settings.
    """

    name: str
    assignments: tuple[tuple[str, sympy.Expr], ...]
    state: tuple[str, ...] = ()
    hyper: Mapping[str, float] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)

    def symbols(self) -> dict[str, sympy.Symbol]:
        """The symbols of hyperparameters and state, by name."""
        return {name: sympy.Symbol(name, real=True) for name in (*self.hyper, *self.state)}


def sgd(options: Mapping[str, object]) -> UpdateRule:
    """Plain stochastic gradient descent: theta' = theta - eta g."""
    _refuse_unknown("sgd", options, ())
    return UpdateRule("sgd", (("theta", THETA - ETA * GRAD),))


RULES = {"sgd": sgd}

# Every option name any optimiser takes under [train]; the spec reader accepts these keys.
OPTION_NAMES: frozenset[str] = frozenset()


def make_rule(name: str, options: Mapping[str, object]) -> UpdateRule:
    """The UpdateRule for a `[train] optimizer` name and its options; raises SpecError."""
    if name not in RULES:
        hint = closest(name, RULES)
        raise SpecError(f"train.optimizer: {name!r} is not a known optimiser.{hint} Known: {', '.join(RULES)}.")
    return RULES[name](options)


def _refuse_unknown(name: str, options: Mapping[str, object], known: Sequence[str]) -> None:
    for key in options:
        if key not in known:
            hint = closest(key, known)
            raise SpecError(f"train.{key}: not an option of optimizer {name!r}.{hint}")


@dataclass(frozen=True)
class Stepper:
    """`update(P, G, S, eta, t)` returns (new parameters..., new state...) for all parameters."""

    update: object
    rule: UpdateRule
    trained: tuple[bool, ...]

    def initial_state(self) -> tuple:
        return tuple(self.rule.initial.get(s, 0.0) for _ in self.trained for s in self.rule.state)


def compile_stepper(rule: UpdateRule, params: Sequence[str], frozen: Sequence[str], exact: bool = False,
                    rounding=None) -> Stepper:
    """Compile the rule unrolled over every parameter; frozen ones are returned unchanged."""
    hyper = {sympy.Symbol(k, real=True): sympy.nsimplify(v) if exact else sympy.Float(v)
             for k, v in rule.hyper.items()}
    assignments: list[tuple[str, sympy.Expr]] = []
    new_params, new_state = [], []
    for i, name in enumerate(params):
        state = {sympy.Symbol(s, real=True): sympy.Symbol(f"s{i}_{j}", real=True) for j, s in enumerate(rule.state)}
        current = {THETA: sympy.Symbol(f"p{i}", real=True), GRAD: sympy.Symbol(f"g{i}", real=True), **state}
        if name in frozen:
            new_params.append(f"p{i}")
            new_state.extend(str(v) for v in state.values())
            continue
        for k, (target, expr) in enumerate(rule.assignments):
            code = f"u{i}_{k}"
            assignments.append((code, expr.xreplace(hyper).xreplace(current)))
            key = THETA if target == "theta" else sympy.Symbol(target, real=True)
            current[key] = sympy.Symbol(code, real=True)
        new_params.append(str(current[THETA]))
        new_state.extend(str(current[s]) for s in state)
    n = len(params)
    prologue = [f"{', '.join(f'p{i}' for i in range(n))}, = P", f"{', '.join(f'g{i}' for i in range(n))}, = G"]
    if rule.state:
        prologue.append(f"{', '.join(f's{i}_{j}' for i in range(n) for j in range(len(rule.state)))}, = S")
    function = compile_function("update", ["P", "G", "S", "eta", "t"], assignments,
                                new_params + new_state, exact=exact, shared=False, prologue=prologue,
                                rounding=rounding)
    return Stepper(function, rule, tuple(name not in frozen for name in params))

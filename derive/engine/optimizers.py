"""Update rules as SymPy assignments over parameter, gradient and state, compiled like the model."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy

from .codegen import compile_function, compile_source, namespace, straight_line, unpack
from ..errors import SpecError, closest
from ..model.expressions import parse

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
    display: tuple[sympy.Expr, ...] = ()  # the assignments' right sides as written, for reports



def _s(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


class _Options:
    """An optimiser's options: PyTorch's defaults, checked as they are read; unknown keys refused."""

    def __init__(self, name: str, given: Mapping[str, object], defaults: Mapping[str, object]):
        for key in given:
            if key not in defaults:
                hint = closest(key, defaults)
                known = ", ".join(defaults) or "none"
                raise SpecError(f"not an option of optimizer {name!r}.{hint} Its options: {known}.", f"train.{key}")
        self.values = {**defaults, **given}
        for key, default in defaults.items():
            value = self.values[key]
            if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, (int, float)):
                kind = "true or false" if isinstance(default, bool) else "a number"
                raise SpecError(f"expected {kind}, got {value!r}.", f"train.{key}")

    def number(self, key: str, low: float = 0.0, high: float | None = None, open_high: bool = False) -> float:
        value = float(self.values[key])
        too_high = high is not None and (value >= high if open_high else value > high)
        if value < low or too_high:
            upper = "" if high is None else (f" and below {high}" if open_high else f" and at most {high}")
            raise SpecError(f"{value!r} is out of range; use a number from {low}{upper}.", f"train.{key}")
        return value

    def __getitem__(self, key: str):
        return self.values[key]


def _rule(name: str, lines: list, state=(), hyper=None, initial=None) -> UpdateRule:
    """An UpdateRule from (target, formula) lines written as a teacher writes them; a formula is a
    string over theta, g, eta, t, the hyperparameters, the state and earlier targets (or a SymPy
    expression where no string will do)."""
    hyper = hyper or {}
    names = {"theta": THETA, "g": GRAD, "eta": ETA, "t": T}
    names.update({n: _s(n) for n in (*hyper, *state, *(target for target, _ in lines))})
    names["theta"], names["g"] = THETA, GRAD
    functions = {"sqrt": sympy.sqrt, "max": sympy.Max}
    assignments, display = [], []
    for target, formula in lines:
        if isinstance(formula, str):
            assignments.append((target, parse(formula, names, functions, name_exponents=True)))
            display.append(parse(formula, names, functions, evaluate=False, name_exponents=True))
        else:
            assignments.append((target, formula))
            display.append(formula)
    return UpdateRule(name, tuple(assignments), tuple(state), hyper, initial or {}, tuple(display))


def _decayed(hyper: dict, lines: list, decay: float) -> str:
    """Add the L2 weight-decay term to the gradient (PyTorch's coupled weight_decay); returns the
    name the rest of the rule uses for the gradient."""
    if not decay:
        return "g"
    hyper["weight_decay"] = decay
    lines.append(("d", "g + weight_decay*theta"))
    return "d"


def sgd(options: Mapping[str, object]) -> UpdateRule:
    """SGD as torch.optim.SGD: with momentum b = mu b + (1 - dampening) g (b = g on the first
    step), nesterov g + mu b; theta' = theta - eta (that)."""
    o = _Options("sgd", options, {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0})
    momentum, dampening = o.number("momentum"), o.number("dampening", 0.0, 1.0)
    if o["nesterov"] and (momentum <= 0 or dampening != 0):
        raise SpecError("Nesterov momentum needs momentum above 0 and dampening 0.", "train.nesterov")
    hyper: dict[str, float] = {}
    lines: list = []
    g = _decayed(hyper, lines, o.number("weight_decay"))
    if not momentum:
        return _rule("sgd", lines + [("theta", f"theta - eta*{g}")], (), hyper)
    hyper["momentum"] = momentum
    if dampening:
        hyper["dampening"] = dampening
        grad = _s(g) if g != "g" else GRAD
        lines.append(("b", sympy.Piecewise((grad, sympy.Eq(T, 1)),
                                           (_s("momentum") * _s("b") + (1 - _s("dampening")) * grad, True))))
    else:
        lines.append(("b", f"momentum*b + {g}"))  # b starts at 0: the first step gives b = g, as in PyTorch
    lines.append(("theta", f"theta - eta*({g} + momentum*b)" if o["nesterov"] else "theta - eta*b"))
    return _rule("sgd", lines, ("b",), hyper)


def adagrad(options: Mapping[str, object]) -> UpdateRule:
    """Adagrad as torch.optim.Adagrad: s = s + g^2; theta' = theta - eta_t g / (sqrt(s) + eps)."""
    o = _Options("adagrad", options, {"eps": 1e-10, "lr_decay": 0.0, "initial_accumulator_value": 0.0,
                                      "weight_decay": 0.0})
    hyper = {"eps": o.number("eps")}
    lines: list = []
    g = _decayed(hyper, lines, o.number("weight_decay"))
    lines.append(("s", f"s + {g}**2"))
    if o.number("lr_decay"):
        hyper["lr_decay"] = o.number("lr_decay")
        lines.append(("theta", f"theta - eta/(1 + (t - 1)*lr_decay)*{g}/(sqrt(s) + eps)"))
    else:
        lines.append(("theta", f"theta - eta*{g}/(sqrt(s) + eps)"))
    return _rule("adagrad", lines, ("s",), hyper, {"s": o.number("initial_accumulator_value")})


def rmsprop(options: Mapping[str, object]) -> UpdateRule:
    """RMSprop as torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2, optionally centred and with momentum."""
    o = _Options("rmsprop", options, {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False,
                                      "weight_decay": 0.0})
    hyper = {"alpha": o.number("alpha", 0.0, 1.0), "eps": o.number("eps")}
    lines: list = []
    g = _decayed(hyper, lines, o.number("weight_decay"))
    state = ["v"]
    lines.append(("v", f"alpha*v + (1 - alpha)*{g}**2"))
    spread = "v"
    if o["centered"]:
        state.append("a")
        lines.append(("a", f"alpha*a + (1 - alpha)*{g}"))
        spread = "v - a**2"
    if o.number("momentum"):
        hyper["momentum"] = o.number("momentum")
        state.append("b")
        lines.append(("b", f"momentum*b + {g}/(sqrt({spread}) + eps)"))
        lines.append(("theta", "theta - eta*b"))
    else:
        lines.append(("theta", f"theta - eta*{g}/(sqrt({spread}) + eps)"))
    return _rule("rmsprop", lines, tuple(state), hyper)


def _adam(name: str, options: Mapping[str, object], decoupled: bool) -> UpdateRule:
    o = _Options(name, options, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "amsgrad": False,
                                 "weight_decay": 0.01 if decoupled else 0.0})
    hyper = {"beta1": o.number("beta1", 0.0, 1.0, open_high=True), "beta2": o.number("beta2", 0.0, 1.0, open_high=True),
             "eps": o.number("eps")}
    lines: list = []
    start = "theta"
    if decoupled and o.number("weight_decay"):
        hyper["weight_decay"] = o.number("weight_decay")
        lines.append(("u", "theta*(1 - eta*weight_decay)"))
        start, g = "u", "g"
    else:
        g = _decayed(hyper, lines, o.number("weight_decay"))
    state = ["m", "v"]
    lines.append(("m", f"beta1*m + (1 - beta1)*{g}"))
    lines.append(("v", f"beta2*v + (1 - beta2)*{g}**2"))
    second = "v"
    if o["amsgrad"]:
        state.append("vmax")
        lines.append(("vmax", "max(vmax, v)"))
        second = "vmax"
    lines.append(("mhat", "m/(1 - beta1**t)"))
    lines.append(("vhat", f"{second}/(1 - beta2**t)"))
    lines.append(("theta", f"{start} - eta*mhat/(sqrt(vhat) + eps)"))
    return _rule(name, lines, tuple(state), hyper)


def adam(options: Mapping[str, object]) -> UpdateRule:
    """Adam as torch.optim.Adam: bias-corrected first and second moments."""
    return _adam("adam", options, decoupled=False)


def adamw(options: Mapping[str, object]) -> UpdateRule:
    """AdamW as torch.optim.AdamW: Adam with the weight decay applied to theta directly."""
    return _adam("adamw", options, decoupled=True)


RULES = {"sgd": sgd, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam, "adamw": adamw}

def make_rule(name: str, options: Mapping[str, object]) -> UpdateRule:
    """The UpdateRule for a `[train] optimizer` name and its options; raises SpecError."""
    if name not in RULES:
        hint = closest(name, RULES)
        raise SpecError(f"{name!r} is not a known optimiser.{hint} Known: {', '.join(RULES)}.", "train.optimizer")
    return RULES[name](options)


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
    lines, new_params, new_state, state_names = stepper_lines(rule, params, frozen, exact, rounding is not None)
    n = len(params)
    unpacked = [*unpack("P", [f"p{i}" for i in range(n)]), *unpack("G", [f"g{i}" for i in range(n)]),
                *unpack("S", state_names)]
    results = new_params + new_state
    source = ["def update(P, G, S, eta, t):", *(f"    {line}" for line in unpacked + lines),
              f"    return ({', '.join(results)},)"]
    function = compile_source("\n".join(source) + "\n", "update", namespace(exact, rounding))
    return Stepper(function, rule, tuple(name not in frozen for name in params))


def compile_assignments(rule: UpdateRule, exact: bool = False, rounding=None):
    """The rule for one parameter as a function of (theta, g, eta, t, previous state...) returning
    every assignment's value in order: what the worked update lines show."""
    args = ["theta", "g", "eta", "t", *[f"s_{s}" for s in rule.state]]
    current = {THETA: sympy.Symbol("theta", real=True), GRAD: sympy.Symbol("g", real=True),
               **{sympy.Symbol(s, real=True): sympy.Symbol(f"s_{s}", real=True) for s in rule.state}}
    hyper = {sympy.Symbol(h, real=True): (sympy.nsimplify(v, rational=True) if exact else sympy.Float(v))
             for h, v in rule.hyper.items()}
    assignments = []
    for k, (target, expr) in enumerate(rule.assignments):
        assignments.append((f"a{k}", expr.xreplace(hyper).xreplace(current)))
        current[THETA if target == "theta" else sympy.Symbol(target, real=True)] = sympy.Symbol(f"a{k}", real=True)
    return compile_function("assignments", args, assignments, [f"a{k}" for k in range(len(assignments))],
                            exact=exact, shared=False, rounding=rounding)


_I = "_I_"  # stands for a parameter's number in the rule's statements, which are printed once


def stepper_lines(rule: UpdateRule, params: Sequence[str], frozen: Sequence[str], exact: bool = False,
                  rounding: bool = False):
    """The rule's statements for parameters p0.. with gradients g0.. and state s<i>_<j>, printed
    once and numbered for each parameter: (statements, names of the new parameters, of the new
    state, of the state)."""
    hyper = {sympy.Symbol(k, real=True): sympy.nsimplify(v) if exact else sympy.Float(v)
             for k, v in rule.hyper.items()}
    state = {sympy.Symbol(s, real=True): sympy.Symbol(f"s{_I}_{j}", real=True) for j, s in enumerate(rule.state)}
    current = {THETA: sympy.Symbol(f"p{_I}", real=True), GRAD: sympy.Symbol(f"g{_I}", real=True), **state}
    assignments = []
    for k, (target, expr) in enumerate(rule.assignments):
        code = f"u{_I}_{k}"
        assignments.append((code, expr.xreplace(hyper).xreplace(current)))
        current[THETA if target == "theta" else sympy.Symbol(target, real=True)] = sympy.Symbol(code, real=True)
    template = straight_line(assignments, exact, shared=False, rounding=rounding)
    new_template = [str(current[THETA])], [str(current[s]) for s in state]
    lines, new_params, new_state, state_names = [], [], [], []
    for i, name in enumerate(params):
        number = lambda text: text.replace(_I, str(i))  # noqa: E731, B023 (used within this iteration)
        state_names.extend(number(str(v)) for v in state.values())
        if name in frozen:
            new_params.append(f"p{i}")
            new_state.extend(number(str(v)) for v in state.values())
            continue
        lines.extend(number(line) for line in template)
        new_params.append(number(new_template[0][0]))
        new_state.extend(number(v) for v in new_template[1])
    return lines, new_params, new_state, state_names

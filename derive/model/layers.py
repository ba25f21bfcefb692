"""Dense layers, starting values and penalties written briefly in [model], expanded into named nodes."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, closest, expect_number, unknown_key
from .draws import MAX_SEED, stream
from .functions import ACTIVATIONS

INITS = ("zeros", "ones", "uniform", "normal", "truncated_normal")


@dataclass(frozen=True)
class Layer:
    """One dense layer's names, for showing it as matrices: row j of `weights` holds the weights
    into unit j, so weights[j][i] is w<k>_<i>_<j> (from input i); `sums` is None for a linear layer
    (its outputs are the sums)."""

    number: int
    activation: str
    sources: tuple[str, ...]
    weights: tuple[tuple[str, ...], ...]
    biases: tuple[str, ...]
    sums: tuple[str, ...] | None
    outputs: tuple[str, ...]


def expand_layers(inputs: Sequence[str], layers: Sequence[Mapping], where: str = "model.layers"):
    """Nodes and parameter names for dense layers over `inputs`.

    Layer k (1-based) has units j = 1..size: z<k>_<j> = sum_i w<k>_<i>_<j> * (input i) + b<k>_<j>,
    and h<k>_<j> = activation(z<k>_<j>) (for "linear", h<k>_<j> is the sum itself). Returns
    (nodes as strings, weight names, bias names, LaTeX names, the Layer records).
    """
    nodes: dict[str, str] = {}
    weights, biases, names = [], [], {}
    previous = list(inputs)
    shapes = []
    for k, layer in enumerate(layers, start=1):
        field = f"{where}[{k}]"
        if not isinstance(layer, Mapping):
            raise SpecError("expected a table such as { size = 4, activation = \"relu\" }.", field)
        for key in layer:
            if key not in ("size", "activation"):
                raise unknown_key(key, ("size", "activation"), f"{field}.{key}")
        size, activation = layer.get("size"), layer.get("activation", "linear")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SpecError(f"expected a whole number of units of at least 1, got {size!r}.", f"{field}.size")
        if activation not in ACTIVATIONS:
            raise SpecError(f"{activation!r} is not one of {', '.join(ACTIVATIONS)}."
                            f"{closest(str(activation), ACTIVATIONS)}", f"{field}.activation")
        current = []
        for j in range(1, size + 1):
            terms = []
            for i, source in enumerate(previous, start=1):
                w = f"w{k}_{i}_{j}"
                weights.append(w)
                names[w] = rf"w^{{({k})}}_{{{i}{j}}}" if len(previous) < 10 and size < 10 else rf"w^{{({k})}}_{{{i},{j}}}"
                terms.append(f"{w}*{source}")
            b = f"b{k}_{j}"
            biases.append(b)
            names[b] = rf"b^{{({k})}}_{{{j}}}"
            total = " + ".join(terms) + f" + {b}"
            h = f"h{k}_{j}"
            names[h] = rf"h^{{({k})}}_{{{j}}}"
            if activation == "linear":
                nodes[h] = total
            else:
                z = f"z{k}_{j}"
                names[z] = rf"z^{{({k})}}_{{{j}}}"
                nodes[z] = total
                nodes[h] = f"{activation}({z})"
            current.append(h)
        shapes.append(Layer(k, activation, tuple(previous),
                            tuple(tuple(f"w{k}_{i}_{j}" for i in range(1, len(previous) + 1))
                                  for j in range(1, size + 1)),
                            tuple(f"b{k}_{j}" for j in range(1, size + 1)),
                            None if activation == "linear" else tuple(f"z{k}_{j}" for j in range(1, size + 1)),
                            tuple(current)))
        previous = current
    return nodes, weights, biases, names, tuple(shapes)


def initial_values(weights: Sequence[str], biases: Sequence[str], init, where: str = "model.init") -> dict[str, float]:
    """Starting values: a constant ("zeros", "ones") or a seeded draw for the weights; biases are 0.

    `init` is a name or a table {kind, seed, low, high, mean, std}; a truncated normal redraws
    values more than two standard deviations from the mean, as TensorFlow's initialiser does.
    """
    options = {"kind": init} if isinstance(init, str) else dict(init or {"kind": "zeros"})
    kind = options.pop("kind", None)
    if kind not in INITS:
        raise SpecError(f"{kind!r} is not one of {', '.join(INITS)}.{closest(str(kind), INITS)}", f"{where}.kind")
    allowed = {"zeros": (), "ones": (), "uniform": ("seed", "low", "high"), "normal": ("seed", "mean", "std"),
               "truncated_normal": ("seed", "mean", "std")}[kind]
    for key, value in options.items():
        if key not in allowed:
            raise SpecError(f"not an option of {kind!r}.{closest(key, allowed)}", f"{where}.{key}")
        if key == "seed":
            expect_number(value, f"{where}.seed", low=0, high=MAX_SEED, whole=True)
        expect_number(value, f"{where}.{key}")
    rng = stream(int(options.get("seed", 0)))
    n = len(weights)
    if kind in ("zeros", "ones"):
        drawn = np.full(n, 0.0 if kind == "zeros" else 1.0)
    elif kind == "uniform":
        drawn = rng.uniform(options.get("low", -0.5), options.get("high", 0.5), size=n)
    else:
        mean, std = options.get("mean", 0.0), options.get("std", 0.1)
        if std <= 0:
            raise SpecError(f"expected a number above 0, got {std!r}.", f"{where}.std")
        drawn = rng.normal(mean, std, size=n)
        while kind == "truncated_normal" and (far := np.abs(drawn - mean) > 2 * std).any():
            drawn[far] = rng.normal(mean, std, size=int(far.sum()))
    values = {w: round(float(v), 6) for w, v in zip(weights, drawn)}  # six decimals: a handout's starting values
    values.update({b: 0.0 for b in biases})
    return values


def penalty_node(penalty, params: Sequence[str], where: str = "model.penalty") -> tuple[str, str]:
    """An L1 or L2 penalty on chosen parameters as a node added to the loss: (name, expression)."""
    if not isinstance(penalty, Mapping):
        raise SpecError("expected a table such as { kind = \"l2\", weight = 0.01, params = [\"w1\"] }.", where)
    for key in penalty:
        if key not in ("kind", "weight", "params"):
            raise unknown_key(key, ("kind", "weight", "params"), f"{where}.{key}")
    kind, weight, chosen = penalty.get("kind"), penalty.get("weight"), penalty.get("params", list(params))
    if kind not in ("l1", "l2"):
        raise SpecError(f"{kind!r} is not \"l1\" or \"l2\".", f"{where}.kind")
    expect_number(weight, f"{where}.weight", above=0)
    for name in chosen:
        if name not in params:
            raise SpecError(f"{name!r} is not a parameter.{closest(str(name), params)}", f"{where}.params")
    terms = [f"{p}**2" if kind == "l2" else f"abs({p})" for p in chosen]
    return "R", f"{weight!r}*({' + '.join(terms)})"

"""One generated loop per model for one row per step: the row's step and the update inlined, every
number kept in flat arrays. Used where it gives the same numbers as the general loop."""
from __future__ import annotations

from .codegen import compile_source, namespace, unpack
from .kernel import Kernel
from .optimizers import Stepper, stepper_lines


def _tuple(names: list[str]) -> str:
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


def compile_loop(kernel: Kernel, stepper: Stepper):
    """`run(P, S, X, order, eta, t, outputs, before)` steps through `order` (row numbers into the
    data columns X, arrays of floats) from parameters P and state S, extending `outputs` with each
    row's outputs and `before` with the parameters and state before each step. Returns
    (steps done, P, S, stopped): stopped is None when every step was done, else the step at
    `order[steps done]` gave a non-finite number or raised, and is left to the general loop,
    which says where."""
    params, columns, results = (list(names) for names in kernel.names)
    frozen = [p for p, trained in zip(kernel.layout.params, stepper.trained) if not trained]
    update, new_params, new_state, state_names = stepper_lines(stepper.rule, kernel.layout.params, frozen)
    carried = params + state_names
    checked = list(dict.fromkeys([*results, *new_params, *new_state]))
    # A long chain of + nests too deep for Python's compiler; sum() of a tuple does not.
    check = " + ".join(checked) if len(checked) <= 100 else f"sum(({', '.join(checked)},))"
    current = f"done, {_tuple(params)}, {_tuple(state_names)}"

    read_row = [f"{c} = X{j}[r]" for j, c in enumerate(columns)]
    # inf - inf and nan - nan are nan: one comparison finds any non-finite number.
    stop_if_not_finite = [f"check = {check}", "if check - check != 0.0:", f"    return {current}, 'check'"]
    keep = [f"keep_outputs(({', '.join(results)},))", *([f"keep_before(({', '.join(carried)},))"] if carried else [])]
    advance = [f"{', '.join(carried)}, = {', '.join([*new_params, *new_state])},", "t += 1", "done += 1"]
    step = [*read_row, *kernel.lines, *update, *stop_if_not_finite, *keep, *advance]
    body = [
        *unpack("P", params), *unpack("S", state_names), *unpack("X", [f"X{j}" for j in range(len(columns))]),
        "keep_outputs, keep_before = outputs.extend, before.extend",
        "done = 0",
        "try:",
        "    for r in order:",
        *(f"        {line}" for line in step),
        "except (OverflowError, ZeroDivisionError, ValueError):",
        f"    return {current}, 'raised'",
        f"return {current}, None",
    ]
    source = "\n".join(["def run(P, S, X, order, eta, t, outputs, before):", *(f"    {line}" for line in body)])
    return compile_source(source + "\n", "run", namespace())

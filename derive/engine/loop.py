"""One generated loop per model for one row per step: the row's step and the update inlined, and
every number of every step packed into one flat buffer of doubles."""
from __future__ import annotations

import struct

from .codegen import compile_source, namespace, unpack
from .kernel import Kernel
from .optimizers import T, Stepper, stepper_lines


def _tuple(names: list[str]) -> str:
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


def compile_loop(kernel: Kernel, stepper: Stepper):
    """`run(P, S, rows, eta, t, record)` takes one step per row of `rows` (tuples of the data
    columns) from parameters P and optimiser state S, appending to the bytearray `record` one
    record of doubles per step: the parameters and state before the step, then the row's outputs
    in the kernel's layout. Returns (P, S, raised): raised is True when the step after the last
    record raised (an overflow, a log of a negative number), which the caller redoes by the
    general code to say where. Non-finite numbers are not looked for here: the caller checks the
    records, many at a time."""
    params, columns, results = (list(names) for names in kernel.names)
    frozen = [p for p, trained in zip(kernel.layout.params, stepper.trained) if not trained]
    update, new_params, new_state, state_names = stepper_lines(stepper.rule, kernel.layout.params, frozen)
    carried = params + state_names
    counts_steps = any(T in expr.free_symbols for _, expr in stepper.rule.assignments)
    current = f"{_tuple(params)}, {_tuple(state_names)}"

    record = [f"keep(pack({', '.join(carried + results)}))"]
    advance = [f"{', '.join(carried)}, = {', '.join([*new_params, *new_state])},", *(["t += 1"] if counts_steps else [])]
    step = [*kernel.lines, *update, *record, *advance]
    body = [
        *unpack("P", params), *unpack("S", state_names),
        "keep = record.extend",
        "try:",
        f"    for {', '.join(columns)}, in rows:",
        *(f"        {line}" for line in step),
        "except (OverflowError, ZeroDivisionError, ValueError):",
        f"    return {current}, True",
        f"return {current}, False",
    ]
    source = "\n".join(["def run(P, S, rows, eta, t, record):", *(f"    {line}" for line in body)])
    names = {**namespace(), "pack": struct.Struct(f"<{len(carried) + len(results)}d").pack}
    return compile_source(source + "\n", "run", names)

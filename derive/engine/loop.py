"""One generated loop per run for one row per step: the row's step and the update inlined, every
number kept in flat arrays. Used where it gives the same numbers as the general loop."""
from __future__ import annotations

from .codegen import compile_source, namespace
from .kernel import unpack
from .optimizers import stepper_lines


def compile_loop(problem):
    """`run(P, S, X, order, eta, t, outputs, before)` steps through `order` (row numbers into the
    data columns X, arrays of floats) from parameters P and
    state S, extending `outputs` with each row's outputs and `before` with the parameters and state
    before each step. Returns (steps done, P, S, stopped): stopped is None when every step was
    done, else the step at `order[steps done]` gave a non-finite number or raised, and is left to
    the general loop, which says where."""
    rule = problem.stepper.rule
    params, columns, results = (list(names) for names in problem.kernel.names)
    update, new_params, new_state, state_names = stepper_lines(rule, problem.graph.params, problem.training.frozen)
    carried = params + state_names
    checked = list(dict.fromkeys([*results, *new_params, *new_state]))
    # A long chain of + nests too deep for Python's compiler; sum() of a tuple does not.
    check = " + ".join(checked) if len(checked) <= 100 else f"sum(({', '.join(checked)},))"
    body = [
        *unpack("P", params), *unpack("S", state_names), *unpack("X", [f"X{j}" for j in range(len(columns))]),
        "keep_outputs, keep_before = outputs.extend, before.extend",
        "done = 0",
        "try:",
        "    for r in order:",
        *(f"        {c} = X{j}[r]" for j, c in enumerate(columns)),
        *(f"        {line}" for line in problem.kernel.lines),
        *(f"        {line}" for line in update),
        # inf - inf and nan - nan are nan: one comparison finds any non-finite number.
        f"        check = {check}",
        "        if check - check != 0.0:",
        "            return done, P_, S_, 'check'",
        f"        keep_outputs(({', '.join(results)},))",
        f"        keep_before(({', '.join(carried)},))" if carried else "",
        f"        {', '.join([*params, *state_names])}, = {', '.join([*new_params, *new_state])},",
        "        t += 1",
        "        done += 1",
        "except (OverflowError, ZeroDivisionError, ValueError):",
        "    return done, P_, S_, 'raised'",
        "return done, P_, S_, None",
    ]
    state_tuple = f"({', '.join(state_names)}{',' if len(state_names) == 1 else ''})"
    param_tuple = f"({', '.join(params)}{',' if len(params) == 1 else ''})"
    lines = ["def run(P, S, X, order, eta, t, outputs, before):"]
    for line in body:
        if line:
            lines.append("    " + line.replace("P_", param_tuple).replace("S_", state_tuple))
    return compile_source("\n".join(lines) + "\n", "run", namespace())

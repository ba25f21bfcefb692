"""The report's line of working for each quantity of a step, keyed as answers name them."""
from __future__ import annotations

MEAN_TERMS = 3  # terms of a mean over many rows written out before the count of the others
MANY_ROWS = 10


def working_lines(worked, trace, step) -> dict[str, tuple[str, ...]]:
    """quantity ('values.yhat', 'loss', 'local.L/yhat', 'deltas.yhat', 'gradients.w1',
    'updated.w1', 'state.w1.m') -> the line's LaTeX pieces, joined by '=' when shown."""
    graph, edges = trace.problem.graph, trace.compiled.derivation.edges
    lines: dict[str, tuple[str, ...]] = {}
    values = worked.row_values(step, step.rows[0], 0)  # in a batch, the first row's working stands for the rest
    for line, name in zip(worked.lines_forward(values), [n for n in graph.node_names if n not in graph.loss]):
        lines[f"values.{name}"] = line.parts
    for line, name in zip(worked.lines_loss(values), graph.loss):
        lines[f"values.{name}"] = lines["loss"] = line.parts
    for line, (node, parent) in zip(worked.lines_local(values), edges):
        lines[f"local.{node}/{parent}"] = line.parts
    chain = worked.lines_chain(values)
    with_lines = [n for n in reversed(graph.node_names) if n in worked.delta]
    for line, name in zip(chain, with_lines):
        lines[f"deltas.{name}"] = line.parts
    for line, p in zip(chain[len(with_lines):], graph.params):
        lines[f"gradients.{p}"] = line.parts
    m = len(step.rows)
    if m > 1:
        first = None
        if m > MANY_ROWS:
            first = [worked.row_terms(worked.row_values(step, row, i)) for i, row in enumerate(step.rows[:MEAN_TERMS])]
        mean = worked.lines_mean(step, first)
        lines["loss"] = mean[0].parts
        for line, p in zip(mean[1:], graph.params):
            lines[f"gradients.{p}"] = line.parts
    previous = trace.steps[step.step - 2].state if step.step > 1 else None
    rule = trace.compiled.stepper.rule
    for p, update in worked.lines_update(step, previous):
        for (target, _), line in zip(rule.assignments, update):
            key = f"updated.{p}" if target == "theta" else f"state.{p}.{target}"
            lines[key] = line.parts
    return lines

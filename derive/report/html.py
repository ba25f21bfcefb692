"""The HTML page: one self-contained file (no request of any kind leaves it) with the worked
solution, math as MathML, and a step explorer that fills any step's layout from the numbers
embedded as JSON, with the computation graph and the loss chart drawn as SVG by svg.py."""
from __future__ import annotations

import json
import math
import re

from markupsafe import Markup

from ..engine.derivation import local_symbol
from ..model.graph import symbol
from . import mathml
from .svg import Arrow, Box, chart_svg, graph_svg

# The explorer holds every step of runs up to this many steps (about 1 KB of numbers each);
# longer runs hold this many, sampled evenly with the first and last.
EXPLORER_STEPS = 10_000

_TEXT_TOKEN = re.compile("\x00(\\d+)\x00")
_MATH_TOKEN = re.compile("\x01(\\d+)\x01")


_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


_SPECIAL = re.compile("[&<>'\"]")


def escape_html(text: str) -> str:
    """Text shown as written: <, >, &, quotes as entities (as markupsafe.escape writes them)."""
    text = str(text)
    return text.translate(_ENTITIES) if _SPECIAL.search(text) else text


def layout(rendered: str) -> str:
    """A step rendered with tokens, as a format string: text tokens {0[k]}, number tokens inside
    MathML {1[k]} (filled with the number's MathML), braces doubled."""
    text = (rendered.rstrip("\n") + "\n").replace("{", "{{").replace("}", "}}")
    return _MATH_TOKEN.sub(r"{1[\1]}", _TEXT_TOKEN.sub(r"{0[\1]}", text))


class _Numbers:
    """The numbers of a step as MathML, made when the layout asks for one."""

    def __init__(self, texts):
        self.texts = texts

    def __getitem__(self, index: int) -> str:
        return mathml.number_mathml(self.texts[index])


def fill(layout_text: str, texts: list[str]) -> str:
    return layout_text.format([escape_html(t) for t in texts], _Numbers(texts))


def math_filter(tex) -> Markup:
    # Text joined to Markup in a template (~) arrives HTML-escaped: u &gt; 0 is u > 0 again here.
    return Markup(mathml.inline(tex.unescape() if isinstance(tex, Markup) else str(tex)))


def display_filter(tex) -> Markup:
    return Markup(mathml.block(str(tex)))


def extend(report, env, context: dict) -> None:
    """The explorer in the page's context; the steps shown in full come from the same layouts."""
    context["explorer"], context["steps"] = explorer(report, env, context["statement"], context["shown"])


def explorer(report, env, statement: dict, shown: int) -> tuple[dict, list]:
    """The explorer's figures and data, and the steps shown in full (filled layouts): every step's
    layout is made once and serves both."""
    trace, problem = report.trace, report.problem
    n = len(trace.steps)
    picks = list(range(n)) if n <= EXPLORER_STEPS else sorted(
        {round(k * (n - 1) / (EXPLORER_STEPS - 1)) for k in range(EXPLORER_STEPS)})
    layouts: dict[str, int] = {}
    steps, full = [], []
    boxes, arrows, numbers = graph_parts(report)
    for index, (layout_text, texts) in zip(picks, report.stepview.layouts(env, picks, statement)):
        key = layouts.setdefault(layout_text, len(layouts))
        steps.append([key, texts, numbers(index)])
        if index < shown:
            full.append(Markup(fill(layout_text, texts)))
    losses = [float(v) for v in trace.losses.tolist()]
    epochs = [int(e) for e in trace.epochs.tolist()]
    data = {"layouts": list(layouts), "steps": steps,
            "losses": [v if math.isfinite(v) else None for v in (losses[i] for i in picks)],
            "epochs": [epochs[i] for i in picks], "numbers": [i + 1 for i in picks],
            "rows": [[r + 1 for r in trace.rows[trace.offsets[i]:trace.offsets[i + 1]].tolist()] for i in picks]}
    first = steps[0][2] if steps else []
    widest = [max(len(step[2][k]) for step in steps) for k in range(len(first))]
    title = f"The computation graph of {problem.title}" if problem.title else "The computation graph"
    batch = problem.training.batch_size
    context = {
        "graph": Markup(graph_svg(boxes, arrows, first, title, widest)) if steps else Markup(""),
        "chart": Markup(chart_svg(losses, epochs)) if losses else Markup(""),
        "data": Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")),
        "epochs": len(set(epochs)),
        "rows_note": "with several rows in a batch it shows the batch's first row" if batch != 1 else "",
        "sampled": n > EXPLORER_STEPS,
    }
    return context, full


def graph_parts(report):
    """The graph's boxes and arrows, and a function giving a step's numbers in their order."""
    trace, problem = report.trace, report.problem
    graph = problem.graph
    figure = report.graph()
    layout = trace.layout
    slices = layout.slices
    node_at = {name: i for i, name in enumerate(layout.nodes)}
    edge_at = {edge: i for i, edge in enumerate(layout.edges)}
    param_at = {name: i for i, name in enumerate(layout.params)}
    columns = {name: i for i, name in enumerate(graph.columns)}
    name_of = {node["id"]: str(node["label"]) for node in figure["nodes"]}
    boxes, getters = [], []

    def slot(getter) -> int:
        getters.append(getter)
        return len(getters) - 1

    text = report.numbers.text
    for node in figure["nodes"]:
        name, kind = str(node["label"]), node["kind"]
        if kind in ("input", "target"):
            value, grad = slot(("data", columns[name])), None
        elif kind == "param":
            value, grad = slot(("param", param_at[name], symbol(name))), slot(("gradient", param_at[name]))
        else:
            value = slot(("out", slices["values"].start + node_at[name]))
            grad = slot(("out", slices["deltas"].start + node_at[name]))
        boxes.append(Box(str(node["id"]), str(node["tex"]), kind, node["level"], value, grad))
    arrows = []
    for source, target in figure["edges"]:
        edge = (name_of[target], name_of[source])
        partial = slot(("out", slices["local"].start + edge_at[edge], local_symbol(*edge))) if edge in edge_at else None
        tex = report.worked.names.get(local_symbol(*edge), "") if partial is not None else ""
        arrows.append(Arrow(str(source), str(target), partial, tex))
    data = [problem.data[c] for c in graph.columns]

    # A parameter at its starting value, or a partial that is a given number, shows as given.
    forms = [report.given_cell if part == "data" else report.worked.forms.form(quantity[0], text=True)
             if quantity else text for part, _, *quantity in getters]

    def numbers(index: int) -> list[str]:
        row_start = int(trace.offsets[index])
        row = int(trace.rows[row_start])
        sources = {"out": trace.outputs[row_start].tolist(), "param": trace.params[index].tolist(),
                   "gradient": trace.gradients[index].tolist()}
        return [form(data[k].item(row) if part == "data" else sources[part][k])
                for form, (part, k, *_) in zip(forms, getters)]

    return boxes, arrows, numbers

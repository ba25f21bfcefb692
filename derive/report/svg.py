"""SVG figures for the HTML page, laid out here: the computation graph (layers left to right, each
node with its value and dL/dnode, each edge with its local partial) and the training-progress chart.

Numbers that change from step to step sit in <text data-n="k"> elements: k indexes the list of
numbers the page keeps for every step (see html.py), so the explorer rewrites only those texts.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .names import segments, unicode_name

COLOURS = {"input": ("#f6a04d", "#b8661b", "#000"), "target": ("#f6a04d", "#b8661b", "#000"),
           "param": ("#1f6f43", "#0f3d24", "#fff"), "node": ("#a9dfa0", "#4c9a45", "#000"),
           "loss": ("#ffe066", "#c9a800", "#000")}
CHAR = 7.2  # px per character of the 12px labels, to size the boxes
LINE = 16
COLUMN_GAP = 78
ROW_GAP = 14
PAD = 10


@dataclass(frozen=True)
class Box:
    """A node of the figure: its key, LaTeX name, kind (input, target, param, node, loss), column,
    and the indices of its value and dL/dnode in a step's numbers (None where it has none)."""

    key: str
    tex: str
    kind: str
    level: int
    value: int | None
    grad: int | None


@dataclass(frozen=True)
class Arrow:
    """An edge from one box to another; `partial` indexes its local partial in a step's numbers."""

    source: str
    target: str
    partial: int | None
    tex: str = ""  # the partial's name, for the tooltip


def _name_svg(tex: str) -> str:
    """A name as SVG text with sub- and superscripts as shifted tspans."""
    out = []
    for text, where in segments(tex):
        if where:
            shift = "-25%" if where == "sub" else "40%"
            out.append(f'<tspan class="{where}" baseline-shift="{shift}">{escape(text)}</tspan>')
        else:
            out.append(escape(text))
    return "".join(out)


def graph_svg(boxes: Sequence[Box], arrows: Sequence[Arrow], numbers: Sequence[str], title: str,
              widest: Sequence[int] | None = None) -> str:
    """The computation graph with the numbers of one step filled in; `widest` gives each number's
    most characters over the steps the page can show, so that every step fits the boxes."""
    widest = widest or [len(t) for t in numbers]
    columns: dict[int, list[Box]] = {}
    for box in boxes:
        columns.setdefault(box.level, []).append(box)
    def lines(box: Box) -> int:
        return 1 + (box.value is not None) + (box.grad is not None)

    def chars(box: Box) -> int:
        name = len(unicode_name(box.tex))
        value = 2 + widest[box.value] if box.value is not None else 0
        grad = 5 + name + widest[box.grad] if box.grad is not None else 0
        return max(name, value, grad)

    widths = {lvl: max(60, max(chars(b) for b in members) * CHAR + 2 * PAD) for lvl, members in columns.items()}
    height = {b.key: lines(b) * LINE + PAD for b in boxes}
    tallest = max(sum(height[b.key] + ROW_GAP for b in members) for members in columns.values())
    x, place, left = {}, {}, 20.0
    for lvl in sorted(columns):
        x[lvl] = left
        left += widths[lvl] + COLUMN_GAP
        members = columns[lvl]
        top = 20 + (tallest - sum(height[b.key] + ROW_GAP for b in members)) / 2
        for box in members:
            place[box.key] = (left - COLUMN_GAP - widths[lvl], top, widths[lvl], height[box.key])
            top += height[box.key] + ROW_GAP
    total_w, total_h = left - COLUMN_GAP + 20, tallest + 30
    out = [f'<svg class="graph" viewBox="0 0 {total_w:.0f} {total_h:.0f}" width="{total_w:.0f}" '
           f'role="img" aria-labelledby="graph-title" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="graph-title">{escape(title)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>']
    for arrow in arrows:
        sx, sy, sw, sh = place[arrow.source]
        tx, ty, _, th = place[arrow.target]
        x1, y1, x2, y2 = sx + sw, sy + sh / 2, tx, ty + th / 2
        bend = max(20.0, (x2 - x1) / 2)
        kinds = f"edge from-{_kind(boxes, arrow.source)}"
        out.append(f'<path class="{kinds}" data-from="{arrow.source}" data-to="{arrow.target}" '
                   f'd="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
                   f'marker-end="url(#arrow)"/>')
    for arrow in arrows:  # labels above every edge
        if arrow.partial is None:
            continue
        sx, sy, sw, sh = place[arrow.source]
        tx, ty, _, th = place[arrow.target]
        mx, my = (sx + sw + tx) / 2, (sy + sh / 2 + ty + th / 2) / 2
        out.append(f'<text class="partial" x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" '
                   f'data-n="{arrow.partial}"><title>{escape(unicode_name(arrow.tex))}</title>'
                   f'{escape(numbers[arrow.partial])}</text>')
    for box in boxes:
        bx, by, bw, bh = place[box.key]
        fill, stroke, ink = COLOURS[box.kind]
        out.append(f'<g class="box {box.kind}" data-key="{box.key}">'
                   f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bw:.1f}" height="{bh:.1f}" rx="8" '
                   f'fill="{fill}" stroke="{stroke}"/>')
        cx, line_y = bx + bw / 2, by + PAD / 2 + LINE - 3
        out.append(f'<text class="name" x="{cx:.1f}" y="{line_y:.1f}" text-anchor="middle" fill="{ink}">'
                   f'{_name_svg(box.tex)}</text>')
        if box.value is not None:
            line_y += LINE
            out.append(f'<text class="value" x="{cx:.1f}" y="{line_y:.1f}" text-anchor="middle" fill="{ink}">'
                       f'= <tspan data-n="{box.value}">{escape(numbers[box.value])}</tspan></text>')
        if box.grad is not None:
            line_y += LINE
            out.append(f'<text class="grad" x="{cx:.1f}" y="{line_y:.1f}" text-anchor="middle" fill="{ink}">'
                       f'∂L/∂{_name_svg(box.tex)} <tspan data-n="{box.grad}">{escape(numbers[box.grad])}'
                       f'</tspan></text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _kind(boxes: Sequence[Box], key: str) -> str:
    return next(b.kind for b in boxes if b.key == key)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round numbers spanning [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step + 1e-9) + 1)]


def chart_svg(losses: Sequence[float], epochs: Sequence[int], selected: int = 1) -> str:
    """Loss per step and the mean loss of each epoch, with the selected step (1-based) marked; a
    log scale when the losses span more than three decades."""
    n = len(losses)
    finite = [v for v in losses if math.isfinite(v)]
    width, height, left, right, top, bottom = 680, 250, 64, 16, 30, 40
    if not finite:
        return '<p class="nochart">No finite loss to plot.</p>'
    log = min(finite) > 0 and max(finite) / min(finite) > 1000
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = scale(min(finite)), scale(max(finite))
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    if not log:
        lo = min(lo, 0.0)
    hi += (hi - lo) * 0.05

    def px(step: float) -> float:
        return left + (width - left - right) * ((step - 1) / max(1, n - 1))

    def py(value: float) -> float:
        return top + (height - top - bottom) * (1 - (scale(value) - lo) / (hi - lo))

    stride = max(1, n // 1500)
    points = " ".join(f"{px(i + 1):.1f},{py(v):.1f}" for i, v in enumerate(losses[::stride][:n])
                      if math.isfinite(v))
    means, start = [], 0
    for i in range(1, n + 1):
        if i == n or epochs[i] != epochs[start]:
            chunk = [v for v in losses[start:i] if math.isfinite(v)]
            if chunk:
                means.append(((start + i + 1) / 2, sum(chunk) / len(chunk)))
            start = i
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
           f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" data-steps="{n}" data-left="{left}" '
           f'data-right="{width - right}" data-top="{top}" data-bottom="{height - bottom}" data-lo="{lo!r}" '
           f'data-hi="{hi!r}" data-log="{int(log)}">',
           '<title id="chart-title">Training progress: the loss of every step and the mean loss of each epoch'
           '</title>',
           f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"/>',
           f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}"/>']
    for tick in _ticks(lo, hi):
        y = top + (height - top - bottom) * (1 - (tick - lo) / (hi - lo))
        label = f"{10 ** tick:g}" if log else f"{tick:g}"
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for tick in _ticks(1, n, 6):
        if tick == int(tick) and 1 <= tick <= n:
            out.append(f'<text class="tick" x="{px(tick):.1f}" y="{height - bottom + 16}" '
                       f'text-anchor="middle">{int(tick)}</text>')
    out.append(f'<text class="axis-label" x="{(left + width - right) / 2}" y="{height - 6}" '
               f'text-anchor="middle">step</text>')
    out.append(f'<text class="axis-label" x="14" y="{top + (height - top - bottom) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + (height - top - bottom) / 2})">loss{" (log scale)" if log else ""}'
               f'</text>')
    out.append(f'<polyline class="per-step" points="{points}"/>')
    if len(means) > 1:
        out.append('<polyline class="per-epoch" points="'
                   + " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in means) + '"/>')
    out.append(f'<g class="legend"><line class="per-step" x1="{width - 250}" y1="10" x2="{width - 230}" '
               f'y2="10"/><text x="{width - 226}" y="14">loss of the step</text>'
               + (f'<line class="per-epoch" x1="{width - 130}" y1="10" x2="{width - 110}" y2="10"/>'
                  f'<text x="{width - 106}" y="14">epoch mean</text>' if len(means) > 1 else "")
               + "</g>")
    value = losses[selected - 1] if math.isfinite(losses[selected - 1]) else finite[-1]
    out.append(f'<line class="marker" x1="{px(selected):.1f}" y1="{top}" x2="{px(selected):.1f}" '
               f'y2="{height - bottom}"/><circle class="marker" cx="{px(selected):.1f}" cy="{py(value):.1f}" r="5"/>')
    out.append("</svg>")
    return "".join(out)

"""Worksheets: the problem as the report states it, with a numbered blank for every quantity the
student must work out; the answers template they fill in; and the answer key."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from markupsafe import Markup

from ..engine.derivation import delta_symbol
from ..errors import SpecError
from ..report import formats
from ..report.document import Report
from ..report.worked import Line, visible_length
from .answers import GROUPS, Layout
from .lines import working_lines
from .replay import value_of
from .settings import CheckSettings, spec_table

EXERCISE_KEYS = ("ask", "steps")
ASKABLE = ("values", "loss", "local", "deltas", "gradients", "updated", "state")
DEFAULT_ASK = ("values", "loss", "gradients", "updated")


@dataclass(frozen=True)
class Exercise:
    """What the student is asked: quantities or whole groups ('values', 'updated.w1'), for the first `steps` steps."""

    ask: tuple[str, ...] = DEFAULT_ASK
    steps: int = 1


@dataclass(frozen=True)
class Blank:
    """One numbered box: a quantity of a step, its left side and symbolic form in LaTeX, and how
    many numbers it holds (one per row for a node in a step of several rows)."""

    number: int
    step: int
    quantity: str
    lhs: str
    form: str | None
    rows: int


def read_exercise(path, layout: Layout) -> Exercise:
    """[exercise] from the spec, checked against the run's quantities and length."""
    table = spec_table(path, "exercise")
    for key in table:
        if key not in EXERCISE_KEYS:
            raise SpecError(f"{path}: exercise.{key}: unknown key; use ask and steps.")
    ask = table.get("ask", list(DEFAULT_ASK))
    quantities = layout.quantities()
    if not isinstance(ask, list) or not ask or not all(isinstance(a, str) for a in ask):
        raise SpecError(f"{path}: exercise.ask: expected a list such as [\"values\", \"loss\", \"gradients\", \"updated\"].")
    for item in ask:
        if item not in ASKABLE and item not in quantities:
            raise SpecError(f"{path}: exercise.ask: {item!r} is neither a group ({', '.join(ASKABLE)}) nor a "
                            f"quantity of this run such as {quantities[0]!r}.")
    steps = table.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= layout.n_steps:
        raise SpecError(f"{path}: exercise.steps: {steps!r} is not a number of steps from 1 to {layout.n_steps}.")
    return Exercise(tuple(ask), steps)


def asked(exercise: Exercise, layout: Layout, graph) -> list[str]:
    """The quantities of one step the exercise asks for, in the order they are computed. The loss
    node's value is asked as the loss when both are asked."""
    wanted = set(exercise.ask)
    chosen = []
    for quantity in layout.quantities():
        group = quantity.split(".", 1)[0]
        if quantity in wanted or group in wanted:
            if group == "values" and "loss" in wanted and quantity.split(".", 1)[1] in graph.loss:
                continue
            chosen.append(quantity)
    return chosen


class Worksheet:
    """The blanks of an exercise on a trace, and the worksheet, key and answers template made from them."""

    def __init__(self, trace, exercise: Exercise, check: CheckSettings | None = None):
        self.trace, self.exercise = trace, exercise
        self.check = check or CheckSettings()
        self._reports: dict[str, Report] = {}
        self.layout = Layout.of(trace.compiled)
        self.quantities = asked(exercise, self.layout, trace.problem.graph)
        n = min(exercise.steps, len(trace.steps))
        self.blanks: list[Blank] = []
        for step in range(1, n + 1):
            rows = self.layout.rows(step)
            for quantity in self.quantities:
                lhs, form = self.formula(quantity, rows)
                per_row = rows if quantity.split(".", 1)[0] in ("values", "local", "deltas") else 1
                self.blanks.append(Blank(len(self.blanks) + 1, step, quantity, lhs, form, per_row))

    def formula(self, quantity: str, rows: int) -> tuple[str, str | None]:
        """The LaTeX left side and symbolic form of a quantity (a mean over the rows for a batch)."""
        report = self.report_in("markdown")
        worked, graph = report.worked, self.trace.problem.graph
        group, _, name = quantity.partition(".")
        if group == "values":
            f = worked.forward[graph.node_names.index(name)]
            return f.lhs, f.form
        if group == "loss":
            if rows > 1:
                return worked.loss_tex, rf"\frac{{1}}{{{rows}}} \sum_{{i=1}}^{{{rows}}} {worked.loss_tex}^{{(i)}}"
            if len(graph.loss) == 1:
                return worked.loss_tex, worked.forward[graph.node_names.index(graph.loss[0])].form
            return worked.loss_tex, " + ".join(report.tex(n) for n in graph.loss)
        if group == "local":
            f = worked.local[self.layout.edges.index(name)]
            return f.lhs, f.form
        if group == "deltas":
            f = worked.delta.get(name)
            return (f.lhs, f.form) if f else (worked.names[delta_symbol(name)], None)
        if group == "gradients":
            f = worked.gradient[name]
            if rows > 1:
                return f.lhs, rf"\frac{{1}}{{{rows}}} \sum_{{i=1}}^{{{rows}}} \left({f.lhs}\right)^{{(i)}}"
            return f.lhs, f.form
        param, _, slot = name.partition(".")
        rule = self.trace.compiled.stepper.rule
        formulas = worked.updates.formulas.get(param)
        if formulas is None:  # a frozen parameter keeps its value
            tex = report.tex(param)
            return f"{tex}'", tex
        targets = [t for t, _ in rule.assignments]
        f = formulas[len(targets) - 1 - targets[::-1].index("theta" if group == "updated" else slot)]
        return f.lhs, f.form

    # -- documents --------------------------------------------------------------------------
    def report_in(self, fmt: str) -> Report:
        if fmt not in self._reports:
            self._reports[fmt] = Report(self.trace, formats.get(fmt))
        return self._reports[fmt]

    def steps(self, fmt: str, key: bool) -> list[dict]:
        report = self.report_in(fmt)
        by_step: dict[int, list[Blank]] = {}
        for blank in self.blanks:
            by_step.setdefault(blank.step, []).append(blank)
        out = []
        for number, blanks in by_step.items():
            step = self.trace.steps[number - 1]
            rows = ", ".join(str(r + 1) for r in step.rows[:10]) + (", …" if len(step.rows) > 10 else "")
            lines = working_lines(report.worked, self.trace, step) if key else {}
            equations = []
            for b in blanks:
                if key:
                    parts = lines.get(b.quantity) or (b.lhs, self._value(report, step, b.quantity))
                else:
                    box = rf"\boxed{{\;\textbf{{({b.number})}}\;\qquad\qquad\qquad\qquad}}"
                    if b.rows > 1:
                        box += rf"\;\text{{one number for each of the {b.rows} rows}}"
                    parts = (b.lhs, *([b.form] if b.form else []), box)
                label = rf"\text{{({b.number})}}\quad " if key else ""
                equations.append(Line((label + parts[0], *parts[1:]), sum(visible_length(p) for p in parts) + 6))
            out.append({"number": number, "epoch": step.epoch, "rows": rows, "many": len(step.rows) > 1,
                        "equations": report.equations(equations)})
        return out

    def _value(self, report, step, quantity: str) -> str:
        value = value_of(step, quantity)
        if isinstance(value, list):
            return ", ".join(report.numbers.latex(v) for v in value)
        return report.numbers.latex(value)

    def render(self, fmt: str, key: bool = False) -> Iterator[str]:
        """The worksheet (or with key=True the answer key) as a complete document."""
        form = formats.get(fmt)
        env = form.environment()
        report = self.report_in(fmt)
        context = report.context(env)
        context.update(fragment=False, worksheet=self.steps(fmt, key), key=key,
                       required=Markup(form.escape(self.check.required)) if self.check.required else "",
                       n_blanks=len(self.blanks))
        yield from env.get_template(form.template("worksheet")).generate(context)

    def answers_template(self) -> str:
        """The TOML answers file with one empty string per blank, numbered as on the worksheet."""
        title = self.trace.problem.title or "the worksheet"
        out = [f"# Answers to {title}: write each number between the quotes (a fraction such as \"7/2\" is fine).",
               "# A blank left as \"\" is not marked. Check them with: derive check SPEC THIS_FILE", ""]
        by_step: dict[int, list[Blank]] = {}
        for blank in self.blanks:
            by_step.setdefault(blank.step, []).append(blank)
        for number, blanks in by_step.items():
            out += ["[[steps]]", f"step = {number}"]
            loose = [b for b in blanks if b.quantity == "loss"]
            for b in loose:
                out.append(f'loss = ""{_comment(b)}')
            for group in GROUPS:
                mine = [b for b in blanks if b.quantity.split(".", 1)[0] == group]
                if group == "state":
                    for param in dict.fromkeys(b.quantity.split(".")[1] for b in mine):
                        out += ["", f"[steps.state.{param}]"]
                        out += [f'{b.quantity.split(".")[2]} = ""{_comment(b)}' for b in mine
                                if b.quantity.split(".")[1] == param]
                elif mine:
                    out += ["", f"[steps.{group}]"]
                    out += [f'{_key(b.quantity.split(".", 1)[1])} = ""{_comment(b)}' for b in mine]
            out.append("")
        return "\n".join(out)


def _key(name: str) -> str:
    return name if name.replace("_", "a").isalnum() else f'"{name}"'


def _comment(blank: Blank) -> str:
    extra = f": a list of {blank.rows} numbers, one per row, e.g. [1.5, 2]" if blank.rows > 1 else ""
    return f"   # ({blank.number}){extra}"


def worksheet_for(spec_path, problem) -> Worksheet:
    """The worksheet of a loaded spec, with its [exercise] and [check] settings."""
    from .. import api
    from .settings import read_check

    compiled = api.compile_problem(problem)
    exercise = read_exercise(spec_path, Layout.of(compiled))
    return Worksheet(compiled.train(), exercise, read_check(spec_path))

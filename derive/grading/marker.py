"""Checking hand calculations: each answer is correct, imprecise, wrong, or follows from the
student's own earlier error."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from ..errors import SpecError
from ..report.worked import Worked
from .answers import Answer, AnswersFile
from .digits import Given, agrees, exact, leading_place
from .lines import working_lines
from .own import OwnNumbers
from .replay import carried_run, until, value_of
from .settings import CheckSettings

STATUSES = ("correct", "wrong", "follows", "imprecise")
HAND_ROWS = 1000  # rows a student works by hand at most: beyond, no run carrying rounded digits is made


@dataclass(frozen=True)
class Verdict:
    """`expected` is the true value; `own` what the student's own earlier answers lead to;
    `working` the correct line of working (LaTeX pieces joined by '='); `required` the precision
    an imprecise answer lacked; `score` the points earned of `points`."""

    step: int | None  # None for a formula
    quantity: str
    given: Given | tuple[Given, ...] | str
    expected: object
    status: str
    own: object = None
    working: tuple[str, ...] = ()
    required: str = ""
    points: float = 1.0
    score: float = 0.0
    derivation: tuple[str, ...] = ()  # a wrong formula: the rule-by-rule derivation, one line a step


class Checker:
    """Marks answers files against the true run of a compiled problem up to step `last_step`."""

    def __init__(self, compiled, settings: CheckSettings | None = None, last_step: int = 1):
        self.settings = settings or CheckSettings()
        self.compiled = replace(compiled, problem=until(compiled.problem, last_step))
        self.problem = self.compiled.problem
        self.trace = self.compiled.train()
        self._carried: dict[tuple, list] = {}
        self._working: dict[int, dict] = {}
        self.own_numbers = OwnNumbers(self.compiled)

    def check(self, answers: AnswersFile | list[Answer]) -> list[Verdict]:
        answers = answers.answers if isinstance(answers, AnswersFile) else answers
        by_step: dict[int, dict[str, Answer]] = {}
        for answer in answers:
            by_step.setdefault(answer.step, {})[answer.quantity] = answer
        steps = self.trace.steps
        verdicts, carried = [], (0, {}, None)
        for number in sorted(by_step):
            if number > len(steps):
                stop = self.trace.diverged or {}
                raise SpecError(f"step {number}: the run stops at step {stop.get('step', len(steps))} "
                                f"({stop.get('quantity', 'a value')} became {stop.get('value', 'infinite')}); "
                                f"there is nothing to mark there.")
            step, given = steps[number - 1], by_step[number]
            own = _Lazy(lambda step=step, given=given, c=carried, n=number: self._own(step, given, c, n))
            verdicts.extend(self.verdict(step, answer, own) for answer in given.values())
            carried = (number, {q.split(".", 1)[1]: a.given for q, a in given.items() if q.startswith("updated.")},
                       {q: a.given for q, a in given.items() if q.startswith("state.")})
        return verdicts

    def verdict(self, step, answer: Answer, own: _Lazy) -> Verdict:
        quantity, index = answer.quantity, step.step - 1
        expected = value_of(step, quantity)
        pairs = list(zip(answer.given, expected)) if isinstance(answer.given, tuple) else [(answer.given, expected)]
        mine = None
        statuses = []
        for i, (given, true) in enumerate(pairs):
            status = self.judge(given, true, index, quantity, i if isinstance(answer.given, tuple) else None)
            if status == "wrong":
                mine = own.value.get(quantity)
                if mine is not None:
                    element = mine[i] if isinstance(answer.given, tuple) else mine
                    element = exact(element)
                    if self.agrees(given, element) and not self.agrees(given, exact(true)):
                        status = "follows" if given.value == element or self.sufficient(given, element) else "imprecise"
            statuses.append(status)
        status = next((s for s in ("wrong", "imprecise", "follows") if s in statuses), "correct")
        points = self.settings.points_for(quantity)
        credit = {"correct": 1.0, "follows": self.settings.follows_credit}.get(status, 0.0)
        return Verdict(step.step, quantity, answer.given, expected, status,
                       mine if status == "follows" else None,
                       self.working_of(step).get(quantity, ()) if status == "wrong" else (),
                       self.settings.required if status == "imprecise" else "", points, points * credit)

    # -- the rules ---------------------------------------------------------------------------
    def required_place(self, true) -> int | None:
        """The power of ten an answer must be written to, from [check]."""
        settings = self.settings
        if settings.decimals is not None:
            return -settings.decimals
        s = settings.required_significant
        if s is None or true == 0:
            return None
        return leading_place(true) - s + 1

    def sufficient(self, given: Given, true) -> bool:
        place = self.required_place(exact(true))
        return given.place is None or place is None or given.place <= place

    def agrees(self, given: Given, target) -> bool:
        settings = self.settings
        if settings.by_tolerance:
            limit = exact(settings.tolerance or 0.0) + exact(settings.relative or 0.0) * abs(target)
            return abs(given.value - target) <= limit
        return agrees(given, target, self.required_place(target))

    def judge(self, given: Given, true, index: int, quantity: str, row: int | None) -> str:
        """correct, imprecise or wrong against the true run and the runs that carry rounded digits."""
        target = exact(true)
        if given.value == target:
            return "correct"
        if not self.agrees(given, target) and not self.carried_agrees(given, index, quantity, row):
            return "wrong"
        return "correct" if self.sufficient(given, true) else "imprecise"

    def carried_agrees(self, given: Given, index: int, quantity: str, row: int | None) -> bool:
        """True when a student carrying the required digits (or the decimals this answer shows)
        through every step gets what they wrote."""
        if self.settings.by_tolerance or self.problem.report.exact or given.place is None \
                or int(self.trace.offsets[index + 1]) > HAND_ROWS:
            return False
        settings = self.settings
        keys = [(settings.decimals, None) if settings.decimals is not None else (None, settings.required_significant)]
        if -15 <= given.place <= 0:
            keys.append((-given.place, None))
        for key in dict.fromkeys(keys):
            path = self.carried(key, index + 1)
            if index < len(path):
                value = value_of(path[index], quantity)
                value = value[row] if row is not None else value
                if agrees(given, exact(value), None):
                    return True
        return False

    def carried(self, key: tuple, n_steps: int) -> list:
        if key not in self._carried or len(self._carried[key]) < n_steps:
            self._carried[key] = carried_run(self.compiled, len(self.trace.steps), *key)
        return self._carried[key]

    # -- the student's own numbers -------------------------------------------------------------
    def _own(self, step, given: dict, carried: tuple, number: int) -> dict:
        previous, params_given, state_given = carried
        follows_on = previous == number - 1
        params = {p: float(v) for p, v in step.params.items()}
        if follows_on:
            params.update({p: float(g.value) for p, g in params_given.items()})
        index = step.step - 1
        state = tuple(float(v) for v in self.trace.state[index - 1]) if index > 0 else \
            tuple(float(v) for v in self.compiled.stepper.initial_state())
        if follows_on and state_given:
            names, state = self.compiled.stepper.rule.state, list(state)
            for i, p in enumerate(self.problem.graph.params):
                for j, s in enumerate(names):
                    if f"state.{p}.{s}" in state_given:
                        state[i * len(names) + j] = float(state_given[f"state.{p}.{s}"].value)
            state = tuple(state)
        return self.own_numbers.step(step, given, params, state)

    # -- the correct working -----------------------------------------------------------------
    @cached_property
    def worked(self):
        return Worked(self.compiled)

    def working_of(self, step) -> dict[str, tuple[str, ...]]:
        if step.step not in self._working:
            self._working[step.step] = working_lines(self.worked, self.trace, step)
        return self._working[step.step]
class _Lazy:
    """A value computed when first asked for."""

    def __init__(self, make):
        self._make, self._done = make, False

    @property
    def value(self):
        if not self._done:
            self._value, self._done = self._make(), True
        return self._value

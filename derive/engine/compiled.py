"""The compiled model: one Problem's derivation, row kernel, update rule, schedule and training
loop, each made once and shared by training, the report and the marking of answers."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import sympy

from ..model.problem import Problem
from .codegen import collection_paused, recompile_for_numpy
from .derivation import Derivation
from .kernel import Kernel, RowLayout, compile_kernel, compile_replay
from .loop import compile_loop
from .optimizers import Stepper, compile_assignments, compile_stepper, make_rule
from .schedules import make_schedule
from .trace import Trace
from .training import train


@dataclass(frozen=True)
class Compiled:
    """Everything made from a Problem before training: `rounding` rounds each shown value as it
    is made (carry = "rounded"), else None. The loops and helper functions are made when first used."""

    problem: Problem
    derivation: Derivation
    kernel: Kernel
    stepper: Stepper
    schedule: Callable[[int], object]
    rounding: Callable | None = None

    @property
    def exact(self) -> bool:
        return self.problem.exact_arithmetic

    @cached_property
    def layout(self) -> RowLayout:
        """The kernel's row layout, with the optimiser's state names."""
        return self.kernel.layout.with_state(self.stepper.rule.state)

    @cached_property
    def batch_row(self):
        """The row's step run on NumPy arrays of a batch's columns (vectorised over rows)."""
        return recompile_for_numpy(self.kernel.row)

    @cached_property
    def loop(self):
        """The generated loop that runs one-row steps with the update inlined (see loop.py)."""
        return compile_loop(self.kernel, self.stepper)

    @cached_property
    def assignments(self):
        """The update rule for one parameter, every assignment's value returned (for worked lines)."""
        return compile_assignments(self.stepper.rule, self.exact, self.rounding)

    @cached_property
    def replay(self):
        """The row's step in floating point with chosen node values replaced (see kernel.compile_replay)."""
        return compile_replay(self.kernel, self.exact)

    def train(self, keep_rows: int | None = None, sink=None) -> Trace:
        """Run the training the problem's settings describe; returns the Trace (see training.train)."""
        return train(self, keep_rows, sink)


@collection_paused
def compile_model(problem: Problem, derivation: Derivation, rounding: Callable | None = None) -> Compiled:
    """Compile the derivation into the row kernel and the settings into the update rule and schedule."""
    exact = problem.exact_arithmetic
    settings = problem.training
    kernel = compile_kernel(derivation, exact=exact, rounding=rounding)
    rule = make_rule(settings.optimizer, settings.options)
    stepper = compile_stepper(rule, problem.graph.params, settings.frozen, exact=exact, rounding=rounding)
    return Compiled(problem, derivation, kernel, stepper, make_rate_schedule(problem), rounding)


def make_rate_schedule(problem: Problem) -> Callable[[int], object]:
    """A function from the 1-based epoch to the learning rate used in it (exact in exact arithmetic)."""
    rate = problem.training.learning_rate
    rate = sympy.nsimplify(rate, rational=True) if problem.exact_arithmetic else float(rate)
    return make_schedule(rate, problem.training.schedule)

"""derive: gradient descent, worked step by step, from symbolic models."""
from .api import load, render, train
from .errors import DeriveError, SpecError
from .model.problem import Problem
from . import display  # noqa: F401  (Jupyter displays of Problem, Trace and Step)

__all__ = ["load", "train", "render", "Problem", "DeriveError", "SpecError"]
__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """`%load_ext derive`: the %%derive cell magic and the %derive_check line magic."""
    from .jupyter import register

    register(ipython)

"""derive: gradient descent, worked step by step, from symbolic models."""
from .api import load, render, train
from .errors import DeriveError, SpecError
from .model.problem import Problem

__all__ = ["load", "train", "render", "Problem", "DeriveError", "SpecError"]
__version__ = "0.1.0"

"""Seeded draws that stay the same on every machine: NumPy's legacy RandomState (MT19937),
whose streams NEP 19 freezes, unlike Generator methods, which may change between versions."""
from __future__ import annotations

import numpy as np

MAX_SEED = 2**32 - 1


def stream(seed: int) -> np.random.RandomState:
    """The random stream of a `seed` from 0 to MAX_SEED: shuffled row orders and starting values."""
    return np.random.RandomState(seed)

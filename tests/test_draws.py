"""Seeded orders and starting values are the same on every machine: they come from NumPy's
legacy RandomState (MT19937), whose streams NEP 19 freezes."""
from __future__ import annotations

import pytest

from support import EXAMPLES

import derive

SEED_A = (EXAMPLES / "seed_a_linear_regression.toml").read_text()


def test_shuffled_orders_are_the_frozen_stream_of_the_seed(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SEED_A.replace("epochs = 1", "epochs = 2\nshuffle = true\nseed = 0"))
    rows = [row for step in derive.load(spec).train().steps for row in step.rows]
    # RandomState(0).permutation(6), twice: the orders MT19937 seeded with 0 gives.
    assert rows == [5, 2, 1, 3, 0, 4, 1, 3, 4, 0, 2, 5]


def test_seeded_starting_weights_are_the_frozen_normal_draws():
    problem = derive.load(EXAMPLES / "layers_three_four_one.toml")
    # std 0.5 times the standard normal draws of seed 1 (1.62434536, -0.61175641, -0.52817175,
    # -1.07296862, 0.86540763, ...), to six decimals; the first three are unit 1's weights.
    assert [problem.initial[w] for w in ("w1_1_1", "w1_2_1", "w1_3_1", "w1_1_2", "w1_2_2")] == \
        pytest.approx([0.812173, -0.305878, -0.264086, -0.536484, 0.432704], abs=1e-12)

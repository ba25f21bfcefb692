"""The fast training loops give exactly the numbers of the general one."""
from __future__ import annotations

import numpy as np
import pytest

from support import EXAMPLES
from networks import random_network

import derive
from derive.api import compile_problem
from derive.engine.training import _train_batched, _train_fused, _train_general

FIELDS = ("epochs", "offsets", "rows", "outputs", "params", "gradients", "updated", "state", "losses", "rates")


def same_trace(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        assert np.array_equal(np.asarray(x, dtype=float), np.asarray(y, dtype=float)), name
    assert a.diverged == b.diverged


@pytest.mark.parametrize("seed,activation,optimizer", [(0, "tanh", "sgd"), (1, "relu", "adam"), (2, "sigmoid", "rmsprop")])
def test_fused_loop_equals_the_general_loop(seed, activation, optimizer):
    spec = random_network(seed, activation, "bce", batch_size=1, epochs=3)
    spec["training"] = {**spec["training"], "optimizer": optimizer, "shuffle": True, "seed": seed,
                        "frozen": ("c",)}
    compiled = compile_problem(derive.Problem.build(**spec))
    same_trace(_train_fused(compiled), _train_general(compiled))


def test_divergence_is_found_at_the_same_step_by_both_loops():
    problem = derive.load(EXAMPLES / "seed_a_linear_regression.toml")
    import dataclasses

    problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, learning_rate=10, epochs=200))
    compiled = compile_problem(problem)
    fused, general = _train_fused(compiled), _train_general(compiled)
    assert fused.diverged is not None and fused.diverged["step"] > 10
    same_trace(fused, general)


def test_same_seed_same_order_and_different_seeds_differ():
    spec = random_network(4, "tanh", "mse", batch_size=2, epochs=3)
    spec["training"] = {**spec["training"], "shuffle": True, "seed": 7}
    first = derive.Problem.build(**spec).train()
    again = derive.Problem.build(**spec).train()
    assert [s.rows for s in first.steps] == [s.rows for s in again.steps]
    spec["training"]["seed"] = 8
    other = derive.Problem.build(**spec).train()
    assert [s.rows for s in first.steps] != [s.rows for s in other.steps]
    # every epoch feeds every row exactly once
    for epoch in (1, 2, 3):
        rows = sorted(r for s in first.steps if s.epoch == epoch for r in s.rows)
        assert rows == list(range(5))


@pytest.mark.parametrize("batch_size,shuffle", [(2, False), (3, True), (None, False)])
def test_vectorised_batches_equal_the_general_loop(batch_size, shuffle):
    spec = random_network(5, "sigmoid", "bce", batch_size=batch_size, epochs=2)
    spec["training"] = {**spec["training"], "shuffle": shuffle, "seed": 3, "optimizer": "adam"}
    compiled = compile_problem(derive.Problem.build(**spec))
    fast, slow = _train_batched(compiled), _train_general(compiled)
    for name in FIELDS:
        x, y = np.asarray(getattr(fast, name), dtype=float), np.asarray(getattr(slow, name), dtype=float)
        # NumPy's exp and pairwise sums may differ from math's in the last bit.
        assert x.shape == y.shape and np.allclose(x, y, rtol=1e-12, atol=1e-15), name


@pytest.mark.parametrize("name", ["seed_a_linear_regression", "seed_a_with_adam", "seed_b_straight_line",
                                  "logistic_regression"])
def test_a_run_kept_for_a_report_gives_the_same_report_and_numbers(name):
    # one row a step, two rows a step, exact fractions, the whole data in every step
    import dataclasses

    problem = derive.load(EXAMPLES / f"{name}.toml")
    compiled = compile_problem(dataclasses.replace(problem, report=dataclasses.replace(problem.report, steps=2)))
    everything, kept = compiled.train(), compiled.train(keep_rows=2)
    assert len(everything.steps) > 2
    assert derive.render(kept, "markdown") == derive.render(everything, "markdown")
    for field in ("epochs", "offsets", "rows", "params", "gradients", "updated", "state", "losses", "rates"):
        assert np.array_equal(np.asarray(getattr(kept, field), dtype=float),
                              np.asarray(getattr(everything, field), dtype=float)), field
    assert kept.steps[1].values == everything.steps[1].values
    with pytest.raises(IndexError, match="step 3: the outputs of its rows were not kept"):
        kept.steps[2].values  # noqa: B018


@pytest.mark.parametrize("learning_rate,epochs", [(0.05, 2), (10, 200), (1e300, 1)])
def test_json_streamed_step_by_step_is_what_json_dumps_writes(learning_rate, epochs):
    # Diverging runs included: one stops after some steps, one at its first step (no steps kept).
    import dataclasses
    import json

    from derive.report.export import json_chunks, trace_dict

    problem = derive.load(EXAMPLES / "seed_a_linear_regression.toml")
    training = dataclasses.replace(problem.training, learning_rate=learning_rate, epochs=epochs)
    trace = dataclasses.replace(problem, training=training).train()
    assert "".join(json_chunks(trace)) == json.dumps(trace_dict(trace), indent=1, allow_nan=False) + "\n"


@pytest.mark.parametrize("training", [{"batch_size": 1}, {"batch_size": 2, "shuffle": True, "seed": 4},
                                      {"batch_size": None, "learning_rate": 0.15}, {"batch_size": 1, "optimizer": "adam"}])
def test_a_run_digested_as_it_trains_gives_the_report_of_the_whole_trace(training, monkeypatch):
    # Blocks of 50 steps (and 40 rows), so that epochs and runs of steps cross block boundaries; a
    # ReLU unit inactive in some steps, a sigmoid saturated in some, and more than 200 steps, so the
    # summary samples steps and epochs and the notes count steps.
    from derive import api
    from derive.engine import training as loops

    monkeypatch.setattr(loops, "CHUNK", 50)
    monkeypatch.setattr(loops, "CHUNK_ROWS", 40)
    settings = {"epochs": 400, **training}
    problem = derive.Problem.build(
        inputs=["x"], targets=["y"], nodes={"h": "relu(w*x + b)", "g": "sigmoid(u*x)", "yhat": "v*h + c*g",
                                            "L": "(yhat - y)**2"}, loss="L",
        params={"w": 0.3, "b": -1.0, "v": 0.5, "u": 9.0, "c": 0.1},
        data={"x": [1.0, 2.0, 3.0, 4.0, -2.0], "y": [1.0, 2.0, 3.0, 4.0, 0.0]},
        learning_rate=settings.pop("learning_rate", 0.01), training=settings, report={"carry": "full"})
    compiled = compile_problem(problem)
    digested, whole = api.train_compiled(compiled, "markdown"), compiled.train()
    assert digested.digest is not None and len(digested.losses) < len(whole.steps) == digested.n_steps > 200
    report = derive.render(digested, "markdown")
    assert report == derive.render(whole, "markdown")
    assert "## What to notice" in report
    assert digested.final == whole.final


@pytest.mark.parametrize("learning_rate,epochs,batch_size", [(0.05, 30, 1), (0.05, 30, 2), (10, 200, 1), (1e300, 1, 1)])
def test_json_written_as_it_trains_is_what_json_dumps_writes_of_the_whole_trace(learning_rate, epochs, batch_size,
                                                                                monkeypatch):
    # Blocks of 7 steps; runs that diverge after some steps and at their first (no steps).
    import dataclasses
    import json

    from derive import api
    from derive.engine import training as loops
    from derive.report.export import trace_dict

    monkeypatch.setattr(loops, "CHUNK", 7)
    problem = derive.load(EXAMPLES / "seed_a_linear_regression.toml")
    training = dataclasses.replace(problem.training, learning_rate=learning_rate, epochs=epochs,
                                   batch_size=batch_size)
    problem = dataclasses.replace(problem, training=training)
    pieces: list[str] = []
    streamed = api.train_json(problem, pieces.append)
    whole = problem.train()
    assert "".join(pieces) == json.dumps(trace_dict(whole), indent=1, allow_nan=False) + "\n"
    assert streamed.n_steps == len(whole.steps) and streamed.diverged == whole.diverged
    assert len(streamed.losses) == 0

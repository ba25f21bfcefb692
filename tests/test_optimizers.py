"""Every optimiser and option matches torch.optim in float64, every step, state included."""
from __future__ import annotations

import pytest

from support import require
from networks import random_network
from torch_oracle import compare_with_torch, torch

import derive
from derive.engine.optimizers import make_rule

CONFIGS = [
    ("sgd", {"momentum": 0.9}, {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}, {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}, {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}),
    ("adagrad", {}, {}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6, "weight_decay": 0.05},
     {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6, "weight_decay": 0.05}),
    ("rmsprop", {}, {}),
    ("rmsprop", {"alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
     {"alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("adam", {}, {}),
    ("adam", {"beta1": 0.8, "beta2": 0.99, "amsgrad": True, "weight_decay": 0.02},
     {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.02}),
    ("adamw", {}, {}),
    ("adamw", {"weight_decay": 0.1, "amsgrad": True}, {"weight_decay": 0.1, "amsgrad": True}),
]
TORCH = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
STATE = {"sgd": {"b": "momentum_buffer"}, "adagrad": {"s": "sum"}, "rmsprop": {"v": "square_avg", "a": "grad_avg", "b": "momentum_buffer"},
         "adam": {"m": "exp_avg", "v": "exp_avg_sq", "vmax": "max_exp_avg_sq"}}
STATE["adamw"] = STATE["adam"]


@pytest.mark.parametrize("name,options,torch_options", CONFIGS,
                         ids=[f"{n}-{'-'.join(o) or 'defaults'}" for n, o, _ in CONFIGS])
def test_optimiser_matches_torch(name, options, torch_options):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    spec = random_network(7, "tanh", "mse", batch_size=2, epochs=3, learning_rate=0.05)
    spec["training"] = {**spec["training"], "optimizer": name, "options": options}
    optimiser = getattr(torch.optim, TORCH[name])
    trace = compare_with_torch(spec, lambda params: optimiser(params, lr=0.05, **torch_options),
                               state_keys=STATE[name])
    assert len(trace.steps) == 9 and (name == "sgd" and not options.get("momentum") or trace.steps[-1].state)


SCHEDULES = [
    ({"kind": "step", "step_size": 2, "gamma": 0.5}, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    ({"kind": "exponential", "gamma": 0.7}, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.7)),
    ({"kind": "cosine", "t_max": 3, "eta_min": 0.01}, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=0.01)),
]


@pytest.mark.parametrize("schedule,make_scheduler", SCHEDULES, ids=[s["kind"] for s, _ in SCHEDULES])
def test_schedule_matches_torch(schedule, make_scheduler):
    require("torch", torch is not None, "pip install torch==2.13.0 to run the PyTorch oracle")
    spec = random_network(3, "sigmoid", "bce", batch_size=3, epochs=5, learning_rate=0.2)
    spec["training"] = {**spec["training"], "optimizer": "sgd", "options": {"momentum": 0.9}, "schedule": schedule}
    trace = compare_with_torch(spec, lambda params: torch.optim.SGD(params, lr=0.2, momentum=0.9), make_scheduler)
    assert len({step.learning_rate for step in trace.steps}) >= 3


def test_unknown_option_is_refused_with_a_suggestion():
    with pytest.raises(derive.SpecError, match="train.momentun: not an option of optimizer 'sgd'. Did you mean 'momentum'?"):
        make_rule("sgd", {"momentun": 0.9})

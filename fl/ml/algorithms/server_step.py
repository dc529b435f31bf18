"""Arithmetic of the server steps that move the global model by more than an average (FedAvgM,
FedAdam/Yogi/Adagrad, SCAFFOLD's server learning rate).

These steps start from `averaged`, the combined model as `combine` returns it (FedAvg's weighted
mean, or the configured robust rule), already rounded to each tensor's dtype as FedAvg would
store it. Then, per floating tensor, in float64 with every operation rounded on its own
(fl/ml/exact.py):

    delta = float64(averaged) - float64(x)        (x the previous global model)
    x_new = float64(x) + step(delta, ...)         rounded once to x's dtype

and each algorithm's server state (velocity, moments) is stored rounded to the dtype of the
tensor it belongs to, and read back widened to float64 the next round. Only floating tensors
move; integer ones (e.g. step counters of normalization layers) are taken from `averaged`, which
carries them over from the previous model.
"""
from __future__ import annotations

import torch

from fl.ml.algorithms.api import State
from fl.ml.exact import widen

Float64State = State  # every tensor float64


def floating(state: State) -> list[str]:
    """Names of the floating-point tensors of `state`, in its order."""
    return [name for name, value in state.items() if value.is_floating_point()]


def filled_like(state: State, value: float) -> State:
    """A tensor of `value` (rounded to the tensor's dtype) shaped like each floating tensor of `state`."""
    return {name: torch.full_like(state[name], value) for name in floating(state)}


def mean_update(model: State, averaged: State) -> Float64State:
    """delta = float64(averaged) - float64(model): the clients' mean move, the "pseudo-gradient" of Reddi et al."""
    return {name: widen(averaged[name]) - widen(model[name]) for name in floating(model)}


def moved(model: State, averaged: State, step: Float64State) -> State:
    """The new global model: float64(model) + step, rounded to the dtype, for the floating tensors;
    `averaged` for the others."""
    return {name: (widen(model[name]) + step[name]).to(model[name].dtype) if name in step else averaged[name]
            for name in model}


def cast_like(values: Float64State, like: State) -> State:
    """float64 server state rounded to the dtypes of the tensors it belongs to (what is stored)."""
    return {name: value.to(like[name].dtype) for name, value in values.items()}

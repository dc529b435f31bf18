"""Checks an update must pass before it is aggregated: the model's tensors, shaped right, all finite."""
from __future__ import annotations

import torch

from fl.ml.algorithms.api import State, model_part


def update_problem(tensors: State, global_state: State) -> str | None:
    """Why `tensors` cannot be aggregated into `global_state`, or None if it can."""
    for name, reference in model_part(global_state).items():
        if name not in tensors:
            return f"tensor {name!r} is missing"
        value = tensors[name]
        if value.shape != reference.shape:
            return f"tensor {name!r} has shape {tuple(value.shape)}, expected {tuple(reference.shape)}"
        if value.dtype != reference.dtype:
            return f"tensor {name!r} has dtype {value.dtype}, expected {reference.dtype}"
    for name, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return f"tensor {name!r} holds NaN or Inf"
    return None

"""Checks an update must pass before it is aggregated: the model's tensors, shaped right, all
finite; and, for the algorithms whose server step weighs local work, a step count that the
update's sample count allows."""
from __future__ import annotations

import torch

from fl.core.config import TrainConfig
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


def most_steps(num_samples: int, train: TrainConfig) -> int:
    """The most local optimizer steps `num_samples` samples give in the task's local epochs: one
    per mini-batch, the last batch of an epoch possibly short."""
    return train.local_epochs * -(-num_samples // train.batch_size)


def steps_problem(steps: int, num_samples: int, train: TrainConfig) -> str | None:
    """Why an update's signed step count cannot be true of its signed sample count, or None."""
    most = most_steps(num_samples, train)
    if not 0 <= steps <= most:
        return (f"it claims {steps} local steps; {num_samples} samples in {train.local_epochs} epoch(s) of batch "
                f"{train.batch_size} take at most {most}")
    return None

"""What every attack shares: named parameters, and the two places a malicious client can cheat.

A malicious client runs the same algorithm as everyone else, then cheats in one or both of two
places: `poison` changes the data it trains on (label flipping, a backdoor), `tamper` changes
the update it sends (sign flipping, noise, scaling, free-riding). It still registers, signs and
commits through the chain protocol like an honest client, so the chain records who sent what.
Attacks change only the model's floating tensors of an update (`model_delta` / `with_delta`);
any other tensors an algorithm sends are left as trained.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import torch
from torch import nn

from fl.core.params import Parametrized
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.algorithms.base import Algorithm
from fl.ml.data.dataset import Dataset


def model_delta(update: Update, global_state: State) -> dict[str, torch.Tensor]:
    """x - x_global for each floating model tensor of the update."""
    return {name: update.tensors[name] - value for name, value in model_part(global_state).items()
            if value.is_floating_point()}


def with_delta(update: Update, global_state: State, delta: Mapping[str, torch.Tensor]) -> Update:
    """The update with its floating model tensors replaced by x_global + delta."""
    tensors = dict(update.tensors)
    for name, change in delta.items():
        tensors[name] = (global_state[name] + change).to(global_state[name].dtype)
    return dataclasses.replace(update, tensors=tensors)


def with_data(ctx: ClientContext, x: torch.Tensor, y: torch.Tensor) -> ClientContext:
    """The context of a client that trains on (x, y) instead of its own samples."""
    return dataclasses.replace(ctx, train_x=x, train_y=y, indices=torch.arange(len(y)))


class Attack(Parametrized):
    """A malicious client's behaviour. Subclasses set `name` and `parameters` and override
    `poison` (the training data), `tamper` (the update sent), `metrics` (what to measure on the
    global model each round) as needed."""

    kind = "attack"
    name = "none"

    def setup(self, data: Dataset) -> None:
        """Learn what the attack needs from the data set (number of classes, pixel range)."""

    def client_update(self, algorithm: Algorithm, ctx: ClientContext) -> Update:
        return self.tamper(algorithm.client_update(self.poison(ctx)), ctx)

    def poison(self, ctx: ClientContext) -> ClientContext:
        return ctx

    def tamper(self, update: Update, ctx: ClientContext) -> Update:
        return update

    def metrics(self, model: nn.Module, data: Dataset, batch_size: int) -> dict[str, float]:
        return {}

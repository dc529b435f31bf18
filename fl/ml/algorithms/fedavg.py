"""FedAvg: McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient Learning
of Deep Networks from Decentralized Data", AISTATS 2017.

Clients run E epochs of local SGD from the global model; the server replaces the global
model with the average of the clients' models weighted by their sample counts. Every other
algorithm subclasses this one and overrides only what differs (the way Flower writes strategies).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from fl.core import jcs
from fl.core.codec import keccak
from fl.core.config import ExperimentConfig
from fl.core.errors import UserError
from fl.core.params import with_defaults
from fl.ml.aggregate import weighted_average
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.data import augment
from fl.ml.training import LossFn, cross_entropy, local_sgd, make_optimizer


class FedAvg:
    name = "fedavg"
    #: algorithm parameters and their defaults; subclasses extend this
    defaults: dict[str, Any] = {}
    #: a robust aggregation rule (fl/ml/robust/rules) replacing the weighted mean in `combine`; None = the mean
    aggregation = None
    #: whether the server step goes through `combine`, so that a robust rule can replace the mean
    takes_rule = True

    def __init__(self, params: dict[str, Any] | None = None):
        self.params = with_defaults(f"algorithm {self.name!r}", self.defaults, params)

    def check_number(self, name: str, ok: Callable[[float], bool], expected: str) -> None:
        """UserError unless parameter `name` is a finite number for which `ok` holds."""
        value = self.params[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
            raise UserError(f"algorithm {self.name!r}: {name} must be {expected}, got {value!r}")

    def setup(self, cfg: ExperimentConfig, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        """Check, before anything slow starts, that the algorithm applies to this model and training
        set-up (a UserError saying what to change otherwise); subclasses also note what their
        `initial_state` needs."""
        augment.build(cfg.train.augment, input_shape)

    # --- client side -------------------------------------------------------------------------
    def loss_fn(self, ctx: ClientContext) -> LossFn:
        """The local objective; FedProx, MOON, ... add their terms here."""
        return cross_entropy

    def optimizer_for(self, model: nn.Module, ctx: ClientContext) -> torch.optim.Optimizer:
        """A fresh local optimizer. One object serves every client of the shared work model, with
        its state (momentum buffers) cleared in between: building a torch optimizer costs ~2 ms,
        which at 1,000 clients a round is seconds, and a cleared one steps bit for bit like a new one."""
        cached = getattr(self, "_optimizer", None)
        if cached is None or cached[0] is not model:
            t = ctx.train
            cached = (model, make_optimizer(t.optimizer, model.parameters(), t.lr, t.momentum, t.weight_decay))
            self._optimizer = cached
        optimizer = cached[1]
        optimizer.state.clear()
        return optimizer

    def before_step(self, ctx: ClientContext) -> Callable[[], None] | None:
        """A change to the gradients between backward and each optimizer step (SCAFFOLD's correction)."""
        return None

    def client_update(self, ctx: ClientContext) -> Update:
        model = ctx.model
        model.load_state_dict(model_part(ctx.global_state))
        t = ctx.train
        optimizer = self.optimizer_for(model, ctx)
        result = local_sgd(model, ctx.train_x, ctx.train_y, ctx.indices, epochs=t.local_epochs,
                           batch_size=t.batch_size, optimizer=optimizer, generator=ctx.generator,
                           loss_fn=self.loss_fn(ctx), before_step=self.before_step(ctx),
                           transform=augment.build(t.augment, tuple(ctx.train_x.shape[1:])))
        return Update(ctx.client_id, len(ctx.indices), self.update_tensors(model, ctx), steps=result.steps,
                      train_loss=result.mean_loss)

    def update_tensors(self, model: nn.Module, ctx: ClientContext) -> State:
        """What the client sends: its local model's state (on the CPU, where aggregation and hashing run)."""
        return {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}

    # --- reporting ----------------------------------------------------------
    def round_report(self, global_state: State) -> dict[str, float]:
        """Extra per-round metrics of a global model, for the run summary (FedIPR: detection rates)."""
        return {}

    # --- server side -------------------------------------------------------------------------
    # The server step is a pure function of the previous global artifact and the updates, so
    # `verify` can recompute it from the store. Server state lives in the global artifact under
    # SERVER_PREFIX, never only in this object.
    def initial_state(self, model_state: State) -> State:
        """The round-0 global artifact: the initial model plus any server state."""
        return dict(model_state)

    def combine(self, states: list[State], weights: list[int], previous: State) -> State:
        """How client model states become one: the weighted mean, or the configured robust rule."""
        if self.aggregation is not None:
            return self.aggregation(states, weights, previous)
        return weighted_average(states, weights, previous)

    def weights(self, updates: list[Update]) -> list[int]:
        """Each update's aggregation weight, recorded on chain at finalize: its sample count."""
        return [u.num_samples for u in updates]

    def rule(self) -> dict[str, Any]:
        """What identifies the server step: recorded on chain as `rule_hash`."""
        rule = {"algorithm": self.name, "params": self.params}
        if self.aggregation is not None:
            rule["aggregation"] = self.aggregation.describe()
        return rule

    def rule_hash(self) -> str:
        """keccak-256 of the RFC 8785 (JCS) form of `rule()`."""
        return "0x" + keccak(jcs.canonicalize(self.rule())).hex()

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        """The new global model from the previous global artifact and the updates (ascending client
        id): the combined client models. Subclasses add their server step and server state."""
        model = model_part(previous)
        states = [{name: u.tensors[name] for name in model} for u in updates]
        return self.combine(states, self.weights(updates), model)

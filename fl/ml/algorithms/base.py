"""What every federated algorithm is: the template each one fills in (the way Flower writes its
strategies: small classes overriding only what differs).

Client side: `client_update` loads the global model and runs local SGD (fl/ml/training.py) with
the algorithm's `loss_fn`, `optimizer_for` and `before_step`, and sends `update_tensors`. Server
side: `aggregate` is the server step, the one abstract method; `combine` turns client model
states into one, by the sample-weighted mean or by the robust aggregation rule the algorithm was
built with (fl/ml/robust/rules); `rule()` says exactly what `aggregate` computes and is recorded on
chain as `rule_hash`. Parameters are declared as `Param`s (fl/core/params.py).
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from fl.core import jcs
from fl.core.codec import keccak
from fl.core.config import ExperimentConfig, TrainConfig
from fl.core.errors import UserError
from fl.core.params import Parametrized
from fl.ml import validate
from fl.ml.aggregate import weighted_average
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.data import augment
from fl.ml.training import LossFn, TrainResult, cross_entropy, local_sgd, make_optimizer

if TYPE_CHECKING:
    from fl.ml.robust.rules.base import Rule


class Algorithm(Parametrized, abc.ABC):
    """A federated algorithm built with its parameters and, where it `takes_rule`, a robust
    aggregation rule replacing the weighted mean in `combine` (None: the mean)."""

    kind = "algorithm"
    #: whether the server step goes through `combine`, so that a robust rule can replace the mean
    takes_rule = True
    #: whether each client keeps part of its model (or a model) to itself (fl/ml/algorithms/personal.py)
    personalized = False

    def __init__(self, params: dict[str, Any] | None = None, rule: Rule | None = None):
        super().__init__(params)
        if rule is not None and not self.takes_rule:
            from fl.ml.algorithms import ALGORITHMS

            others = ", ".join(sorted(name for name, cls in ALGORITHMS.items() if cls.takes_rule))
            raise UserError(f"algorithm {self.name!r} cannot use aggregation rule {rule.name!r}: its server step is "
                            f"not a combination of client models; use aggregation rule 'mean' or another algorithm "
                            f"(one of: {others})")
        #: the robust aggregation rule applied by `combine`; None = the weighted mean
        self.aggregation = rule

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

    def start_model(self, ctx: ClientContext) -> State:
        """The model state the client trains from: the global model (personalized FL: with the
        client's own part)."""
        return model_part(ctx.global_state)

    def local_training(self, ctx: ClientContext, epochs: int, loss_fn: LossFn | None = None) -> TrainResult:
        """`epochs` of local SGD of `ctx.model` on the client's samples, with the algorithm's
        optimizer, objective (or `loss_fn`) and gradient change."""
        t = ctx.train
        optimizer = self.optimizer_for(ctx.model, ctx)
        return local_sgd(ctx.model, ctx.train_x, ctx.train_y, ctx.indices, epochs=epochs, batch_size=t.batch_size,
                         optimizer=optimizer, generator=ctx.generator, loss_fn=loss_fn or self.loss_fn(ctx),
                         before_step=self.before_step(ctx),
                         transform=augment.build(t.augment, tuple(ctx.train_x.shape[1:])))

    def client_update(self, ctx: ClientContext) -> Update:
        ctx.model.load_state_dict(self.start_model(ctx))
        result = self.local_training(ctx, ctx.train.local_epochs)
        return Update(ctx.client_id, len(ctx.indices), self.update_tensors(ctx.model, ctx), steps=result.steps,
                      train_loss=result.mean_loss)

    def update_tensors(self, model: nn.Module, ctx: ClientContext) -> State:
        """What the client sends: its local model's state (on the CPU, where aggregation and hashing run)."""
        return {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}

    def personal_model(self, global_state: State, client_state: dict[str, Any]) -> State:
        """The model state a client, whose kept state is `client_state`, uses on its own data: the
        global model (personalized FL: with what the client keeps to itself)."""
        return model_part(global_state)

    # --- reporting ----------------------------------------------------------------------
    def public_settings(self) -> dict[str, str]:
        """What the features set on this object before round 1 that every client's own copy needs
        (a client elsewhere has only the config): FedIPR's owners' watermark keys, public on chain."""
        return {}

    def apply_public_settings(self, settings: dict[str, str]) -> None:
        """Take `public_settings()` of the server's copy."""

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
        """How client model states become one: the weighted mean, or the robust rule built in."""
        if self.aggregation is not None:
            return self.aggregation(states, weights, previous)
        return weighted_average(states, weights, previous)

    def weights(self, updates: list[Update]) -> list[int]:
        """Each update's aggregation weight, recorded on chain at finalize: its sample count."""
        return [u.num_samples for u in updates]

    def local_names(self, state: State) -> frozenset[str]:
        """The model tensors of the global artifact `state` that each client keeps to itself
        (personalized FL): never sent, never aggregated. None here."""
        return frozenset()

    def update_problem(self, update: Update, global_state: State, train: TrainConfig) -> str | None:
        """Why `update` cannot be aggregated into `global_state` by a task training with `train`
        (fl/ml/validate.py, over the shared part), or None."""
        return validate.update_problem(update.tensors, self.shared_part(global_state))

    def shared_part(self, state: State) -> State:
        """The model tensors of a global artifact that clients send and the server aggregates
        (all but `local_names`)."""
        local = self.local_names(state)
        return {name: value for name, value in model_part(state).items() if name not in local}

    def combined(self, previous: State, updates: list[Update]) -> State:
        """The clients' models (ascending client id) combined by `combine` with `weights`: FedAvg's
        new global model, and where the server steps of FedAvgM, FedOpt and SCAFFOLD start. The
        tensors clients keep local are carried over from `previous`."""
        shared = self.shared_part(previous)
        states = [{name: u.tensors[name] for name in shared} for u in updates]
        local = self.local_names(previous)
        carried = {name: value.clone() for name, value in model_part(previous).items() if name in local}
        return {**self.combine(states, self.weights(updates), shared), **carried}

    def rule(self) -> dict[str, Any]:
        """What identifies the server step: recorded on chain as `rule_hash`."""
        rule = {"algorithm": self.name, "params": self.params}
        if self.aggregation is not None:
            rule["aggregation"] = self.aggregation.describe()
        return rule

    def rule_hash(self) -> str:
        """keccak-256 of the RFC 8785 (JCS) form of `rule()`."""
        return "0x" + keccak(jcs.canonicalize(self.rule())).hex()

    @abc.abstractmethod
    def aggregate(self, previous: State, updates: list[Update]) -> State:
        """The new global artifact from the previous one and the updates (ascending client id):
        the new model and the server state."""

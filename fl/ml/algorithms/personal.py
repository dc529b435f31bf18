"""What personalized algorithms share: each client keeps part of its model (or a model of its own)
to itself, and commits only that part's hash.

A personalized algorithm says which tensors of the global model clients keep (`local_names_of`:
FedPer's and FedRep's head, FedBN's batch-norm layers; none for Ditto, whose personal model is a
whole second model). The global artifact lists them (`server.personal.local_names`: the UTF-8
JSON list of their names as uint8), so the server step and `verify` read the split from the
artifact itself. A client trains from the global model's shared tensors and its own kept ones,
keeps its personal part in its state across rounds, and sends the shared tensors with
`personal.digest`: the keccak-256 of its personal artifact (the personal tensors, canonically
encoded with metadata kind "personal", round and client). The digest goes into the update's
hash, so the chain holds a commitment to every client's personal model without the model being
published; the artifact itself goes to the client's own store (`personal/` of a run folder).
The server step is FedAvg's over the shared tensors; the kept ones stay as they are in the
global artifact (their initial values).
"""
from __future__ import annotations

import abc
import json
from typing import Any

import torch
from torch import nn

from fl.core import codec
from fl.core.config import ExperimentConfig, TrainConfig
from fl.core.errors import UserError
from fl.ml.algorithms.api import (PERSONAL_DIGEST, SERVER_PREFIX, ClientContext, State, Update, model_part,
                                  personal_metadata)
from fl.ml.algorithms.fedavg import FedAvg

PERSONAL = "personal"  # key in ctx.state: the client's personal tensors
LOCAL_NAMES = SERVER_PREFIX + "personal.local_names"


def names_tensor(names) -> torch.Tensor:
    """`names` as the uint8 bytes of their sorted JSON list."""
    return torch.tensor(list(json.dumps(sorted(names)).encode("utf-8")), dtype=torch.uint8)


def names_of(tensor: torch.Tensor) -> frozenset[str]:
    return frozenset(json.loads(bytes(tensor.tolist()).decode("utf-8")))


def personal_digest(tensors: State) -> str | None:
    """The 0x-hex hash of the personal artifact an update commits to, or None where it holds no
    32-byte uint8 `personal.digest`."""
    digest = tensors.get(PERSONAL_DIGEST)
    if digest is None or digest.dtype != torch.uint8 or tuple(digest.shape) != (32,):
        return None
    return "0x" + bytes(digest.tolist()).hex()


def personal_artifact(personal: State, round_: int, client_id: int) -> tuple[bytes, torch.Tensor]:
    """The encoded personal artifact and its keccak-256 as a uint8 tensor of 32 bytes."""
    data = codec.encode(personal, personal_metadata(round_, client_id))
    return data, torch.tensor(list(codec.keccak(data)), dtype=torch.uint8)


def output_layers(model: nn.Module, count: int) -> list[str]:
    """The state names of the last `count` linear layers of `model` (its head)."""
    linear = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if len(linear) < count:
        raise UserError(f"the model has {len(linear)} linear layers, fewer than head_layers {count}; "
                        f"use head_layers of at most {len(linear)}")
    heads = tuple(f"{name}." for name in linear[-count:])
    head = [name for name in model.state_dict() if name.startswith(heads)]
    if all(name in head for name, _ in model.named_parameters()):
        raise UserError(f"head_layers {count} would keep the whole model local and leave nothing shared; "
                        f"use head_layers below {count}")
    return head


class Personalized(FedAvg, abc.ABC):
    """FedAvg's server step over the shared tensors; each client's personal part kept in its state."""

    personalized = True

    def __init__(self, params=None, rule=None):
        super().__init__(params, rule)
        self._local: list[str] | None = None

    def setup(self, cfg: ExperimentConfig, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().setup(cfg, model, input_shape)
        if cfg.attack.name != "none":
            raise UserError(f"algorithm {self.name!r} keeps part of each model local; attack {cfg.attack.name!r} "
                            f"is written for algorithms that send whole models: use attack none")
        if cfg.committee.size:
            raise UserError(f"algorithm {self.name!r} keeps part of each model local, so a committee cannot score the "
                            f"updates it sees: use committee.size 0")
        self._local = self.local_names_of(model, cfg)

    @abc.abstractmethod
    def local_names_of(self, model: nn.Module, cfg: ExperimentConfig) -> list[str]:
        """The state names of `model` that clients keep (a UserError where the model has none)."""

    def initial_state(self, model_state: State) -> State:
        if self._local is None:
            raise RuntimeError(f"{type(self).__name__}.setup(cfg, model, input_shape) must run before initial_state")
        return {**model_state, LOCAL_NAMES: names_tensor(self._local)}

    def local_names(self, state: State) -> frozenset[str]:
        return names_of(state[LOCAL_NAMES]) if LOCAL_NAMES in state else frozenset()

    # --- client side -------------------------------------------------------------------------
    def personal_part(self, global_state: State, client_state: dict[str, Any]) -> State:
        """The client's personal tensors: kept from its last round, or the global artifact's own
        values for them before it first trains."""
        kept = client_state.get(PERSONAL)
        if kept is not None:
            return kept
        local = self.local_names(global_state)
        return {name: value.clone() for name, value in model_part(global_state).items() if name in local}

    def start_model(self, ctx: ClientContext) -> State:
        return {**model_part(ctx.global_state), **self.personal_part(ctx.global_state, ctx.state)}

    def split_off_personal(self, update: Update, ctx: ClientContext) -> Update:
        """`update` without the tensors the client keeps, carrying their digest instead."""
        personal = {name: update.tensors.pop(name) for name in sorted(self.local_names(ctx.global_state))}
        return self.with_personal(update, personal, ctx)

    def client_update(self, ctx: ClientContext) -> Update:
        return self.split_off_personal(super().client_update(ctx), ctx)

    def with_personal(self, update: Update, personal: State, ctx: ClientContext) -> Update:
        """`update` carrying the digest of `personal`, which the client keeps."""
        ctx.state[PERSONAL] = personal
        update.personal, update.tensors[PERSONAL_DIGEST] = personal_artifact(personal, ctx.round, ctx.client_id)
        return update

    def personal_model(self, global_state: State, client_state: dict[str, Any]) -> State:
        return {**model_part(global_state), **self.personal_part(global_state, client_state)}

    # --- server side -------------------------------------------------------------------------
    def update_problem(self, update: Update, global_state: State, train: TrainConfig) -> str | None:
        if personal_digest(update.tensors) is None:
            return f"tensor {PERSONAL_DIGEST!r} is missing or not 32 bytes (uint8)"
        return super().update_problem(update, global_state, train)

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        return {**self.combined(previous, updates), LOCAL_NAMES: previous[LOCAL_NAMES].clone()}

"""What passes between the engine and an algorithm: a client's context and its update."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from fl.core.codec import State
from fl.core.config import TrainConfig

#: Name of the tensor of an update that holds the keccak-256 (32 bytes) of the client's personal
#: artifact: what a personalized algorithm keeps local is not sent, but this hash is committed on
#: chain with the update (fl/ml/algorithms/personal.py).
PERSONAL_DIGEST = "personal.digest"

#: Prefix of the tensors in a global artifact that are the algorithm's server state (SCAFFOLD's
#: control variate, FedAdam's moments, ...), as opposed to the model's own state.
SERVER_PREFIX = "server."


def model_part(state: State) -> State:
    """The model's own tensors of a global artifact (what `load_state_dict` takes)."""
    return {k: v for k, v in state.items() if not k.startswith(SERVER_PREFIX)}


def personal_metadata(round_: int, client_id: int) -> dict[str, str]:
    """The metadata of client `client_id`'s personal artifact of round `round_`."""
    return {"kind": "personal", "round": str(round_), "client": str(client_id)}


def prefixed(prefix: str, state: State) -> State:
    """`state` with every name under `prefix` (e.g. "server.scaffold.c.")."""
    return {prefix + k: v for k, v in state.items()}


def unprefixed(prefix: str, state: State) -> State:
    """The tensors of `state` under `prefix`, with the prefix taken off their names."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


@dataclass
class ClientContext:
    """Everything one client needs for one round."""
    round: int
    client_id: int
    model: nn.Module  # a shared work model; the client loads the global weights into it
    global_state: State
    train_x: torch.Tensor
    train_y: torch.Tensor
    indices: torch.Tensor  # this client's samples
    train: TrainConfig
    generator: torch.Generator  # this client's randomness for this round
    state: dict[str, Any] = field(default_factory=dict)  # kept across rounds for this client


@dataclass
class Update:
    """A client's contribution to a round: the tensors that are stored, hashed and committed.

    `num_samples` and `steps` travel in the artifact's metadata, so the server step can be
    recomputed from stored artifacts alone.
    """
    client_id: int
    num_samples: int
    tensors: State
    steps: int = 0
    train_loss: float = float("nan")
    #: the encoded personal artifact (what stays with the client), whose hash is tensors[PERSONAL_DIGEST]
    personal: bytes | None = None

    def metadata(self, round_: int) -> dict[str, str]:
        return {"kind": "update", "round": str(round_), "client": str(self.client_id),
                "num_samples": str(self.num_samples), "steps": str(self.steps)}

    @classmethod
    def from_artifact(cls, tensors: State, metadata: dict[str, str]) -> "Update":
        return cls(int(metadata["client"]), int(metadata["num_samples"]), tensors, steps=int(metadata["steps"]))

"""MOON: Li, He, Song, "Model-Contrastive Federated Learning", CVPR 2021.

Each client adds μ·ℓ_con to its cross-entropy, where ℓ_con pulls the representation z (the
projection head's output) of its local model towards that of the global model, z_glob, and
away from that of its own model of the previous round, z_prev:

    ℓ_con = −log( exp(sim(z, z_glob)/τ) / (exp(sim(z, z_glob)/τ) + exp(sim(z, z_prev)/τ)) )

with sim the cosine similarity and τ the temperature. The global and previous models are frozen
copies (evaluated in eval mode, no gradient); a client's previous model is kept in its
`ctx.state` and is the global model the first time it trains. The server step is FedAvg's.
Needs a model with a projection head (`<model>-proj`).
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from fl.core.config import ExperimentConfig
from fl.core.errors import UserError
from fl.core.params import Param
from fl.ml import models
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.training import LossFn

PREVIOUS_MODEL = "moon.previous_model"  # key in ctx.state


def frozen_copy(model: nn.Module, state: State) -> nn.Module:
    """A copy of `model` holding `state`, in eval mode, without gradients."""
    frozen = copy.deepcopy(model)
    frozen.load_state_dict(state)
    frozen.eval()
    frozen.requires_grad_(False)
    return frozen


def contrastive_loss(z: torch.Tensor, z_glob: torch.Tensor, z_prev: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over the batch of MOON's ℓ_con (its eq. 3): a two-way cross-entropy with the global model as the positive."""
    logits = torch.stack([F.cosine_similarity(z, z_glob, dim=1), F.cosine_similarity(z, z_prev, dim=1)], dim=1)
    return F.cross_entropy(logits / temperature, torch.zeros(len(z), dtype=torch.long, device=z.device))


class Moon(FedAvg):
    name = "moon"
    parameters = (Param("mu", 1.0, at_least=0), Param("temperature", 0.5, above=0))

    def setup(self, cfg: ExperimentConfig, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().setup(cfg, model, input_shape)
        if not models.has_projection_head(model):
            raise UserError(f"algorithm 'moon' needs a model with a projection head and model {cfg.model.name!r} has "
                            f"none; use one of: {', '.join(models.with_projection())}")

    def loss_fn(self, ctx: ClientContext) -> LossFn:
        mu, temperature = float(self.params["mu"]), float(self.params["temperature"])
        global_state = model_part(ctx.global_state)
        global_model = frozen_copy(ctx.model, global_state)
        previous_model = frozen_copy(ctx.model, ctx.state.get(PREVIOUS_MODEL, global_state))

        def loss(model, x, y):
            z = model.represent(x)
            with torch.no_grad():
                z_glob, z_prev = global_model.represent(x), previous_model.represent(x)
            return F.cross_entropy(model.head(z), y) + mu * contrastive_loss(z, z_glob, z_prev, temperature)

        return loss

    def client_update(self, ctx: ClientContext) -> Update:
        update = super().client_update(ctx)
        ctx.state[PREVIOUS_MODEL] = model_part(update.tensors)
        return update

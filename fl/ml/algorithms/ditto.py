"""Ditto: Li, Hu, Beirami, Smith, "Ditto: Fair and Robust Federated Learning Through
Personalization", ICML 2021 (Algorithm 1).

Each client keeps a personal model v_k of its own, besides training the global model w with
FedAvg's local solver. In a round, a selected client sends FedAvg's local update of w^t and
then trains v_k for `personal_epochs` epochs on

    F_k(v_k) + λ/2 ||v_k − w^t||²

(its loss plus a pull towards the round's global model, λ = `lam`; v_k starts as the global
model the first time). λ → 0 gives purely local models, λ → ∞ the global one. The server step is
FedAvg's over the whole model; the personal model is the client's personal artifact.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from fl.core.config import ExperimentConfig
from fl.core.params import INT, Param
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.algorithms.base import Algorithm
from fl.ml.algorithms.personal import PERSONAL, Personalized
from fl.ml.training import LossFn, cross_entropy, state_of


def pulled_towards(anchor: State, lam: float) -> LossFn:
    """Cross-entropy plus λ/2 ||v − anchor||² over the trainable parameters."""

    def loss(model, x, y):
        pull = sum(((p - anchor[name].to(p.device)) ** 2).sum() for name, p in model.named_parameters())
        return cross_entropy(model, x, y) + lam / 2 * pull

    return loss


class Ditto(Personalized):
    name = "ditto"
    parameters = (Param("lam", 1.0, at_least=0), Param("personal_epochs", 1, kind=INT, at_least=1))

    def local_names_of(self, model: nn.Module, cfg: ExperimentConfig) -> list[str]:
        return []  # the whole global model is shared; the personal model is a second one

    def personal_part(self, global_state: State, client_state: dict[str, Any]) -> State:
        kept = client_state.get(PERSONAL)
        return kept if kept is not None else {name: v.clone() for name, v in model_part(global_state).items()}

    def start_model(self, ctx: ClientContext) -> State:
        return model_part(ctx.global_state)

    def client_update(self, ctx: ClientContext) -> Update:
        update = Algorithm.client_update(self, ctx)  # FedAvg's local update of the global model
        ctx.model.load_state_dict(self.personal_part(ctx.global_state, ctx.state))
        self.local_training(ctx, int(self.params["personal_epochs"]),
                            loss_fn=pulled_towards(model_part(ctx.global_state), float(self.params["lam"])))
        return self.with_personal(update, state_of(ctx.model), ctx)

    def personal_model(self, global_state: State, client_state: dict[str, Any]) -> State:
        return self.personal_part(global_state, client_state)

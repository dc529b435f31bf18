"""FedRep: Collins, Hassani, Mokhtari, Shakkottai, "Exploiting Shared Representations for
Personalized Federated Learning", ICML 2021 (Algorithm 1).

Clients share a representation (the body) and each keeps its own head (the last `head_layers`
linear layers). In a round a client first trains its head for `head_epochs` epochs with the
body frozen, then the body for the configured local epochs with the head frozen; it sends the
body, which the server averages as FedAvg does. The paper's experiments use 10 head epochs and
1 body epoch, the defaults here.
"""
from __future__ import annotations

from torch import nn

from fl.core.config import ExperimentConfig
from fl.core.params import INT, Param
from fl.ml.algorithms.api import ClientContext, Update
from fl.ml.algorithms.personal import Personalized, output_layers
from fl.ml.training import TrainResult


class FedRep(Personalized):
    name = "fedrep"
    parameters = (Param("head_layers", 1, kind=INT, at_least=1), Param("head_epochs", 10, kind=INT, at_least=1))

    def local_names_of(self, model: nn.Module, cfg: ExperimentConfig) -> list[str]:
        return output_layers(model, int(self.params["head_layers"]))

    def _train_only(self, ctx: ClientContext, head: bool, epochs: int) -> TrainResult:
        """`epochs` of local SGD on the head (head True) or on the body, the other part frozen."""
        local = self.local_names(ctx.global_state)
        frozen = [p for name, p in ctx.model.named_parameters() if (name in local) != head]
        for p in frozen:
            p.requires_grad_(False)
        try:
            return self.local_training(ctx, epochs)
        finally:
            for p in frozen:
                p.requires_grad_(True)

    def client_update(self, ctx: ClientContext) -> Update:
        ctx.model.load_state_dict(self.start_model(ctx))
        head = self._train_only(ctx, head=True, epochs=int(self.params["head_epochs"]))
        body = self._train_only(ctx, head=False, epochs=ctx.train.local_epochs)
        update = Update(ctx.client_id, len(ctx.indices), self.update_tensors(ctx.model, ctx),
                        steps=head.steps + body.steps, train_loss=body.mean_loss)
        return self.split_off_personal(update, ctx)

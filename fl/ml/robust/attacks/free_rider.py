"""Free-riding: a client that contributes nothing sends the global model back, or the global
model plus small Gaussian noise (`noise` > 0) to look like it trained. Lin, Du, Liu, "Free-riders
in Federated Learning: Attacks and Defenses", 2019; Fraboni, Vidal, Lorenzi, "Free-rider
Attacks on Model Aggregation in Federated Learning", AISTATS 2021. It still claims its sample
count (the weight recorded on chain)."""
from __future__ import annotations

import dataclasses

import torch

from fl.core.params import Param
from fl.ml.algorithms.api import model_part
from fl.ml.robust.attacks.base import Attack, with_delta


class FreeRider(Attack):
    name = "free-rider"
    parameters = (Param("noise", 0.0, at_least=0),)

    def tamper(self, update, ctx):
        std = float(self.params["noise"])
        delta = {}
        for name, value in sorted(model_part(ctx.global_state).items()):
            if value.is_floating_point():
                delta[name] = (std * torch.randn(value.shape, generator=ctx.generator, dtype=value.dtype)
                               if std > 0 else torch.zeros_like(value))
        return dataclasses.replace(with_delta(update, ctx.global_state, delta), steps=0)

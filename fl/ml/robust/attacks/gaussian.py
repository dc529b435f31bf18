"""Gaussian noise: each malicious client sends x_global + N(0, std^2) in every model coordinate
instead of its update, as in Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with
Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017 (its "Gaussian" Byzantine
workers, std 200 on gradients). With the default std 10 an attacker's update has norm ~670 in
this project's CNN (4,518 weights), where honest updates have norm ~1. The noise comes from the
client's seeded generator for the round."""
from __future__ import annotations

import torch

from fl.core.params import Param
from fl.ml.algorithms.api import model_part
from fl.ml.robust.attacks.base import Attack, with_delta


class GaussianNoise(Attack):
    name = "gaussian"
    parameters = (Param("std", 10.0, above=0),)

    def tamper(self, update, ctx):
        std = float(self.params["std"])
        noise = {name: std * torch.randn(value.shape, generator=ctx.generator, dtype=value.dtype)
                 for name, value in sorted(model_part(ctx.global_state).items()) if value.is_floating_point()}
        return with_delta(update, ctx.global_state, noise)

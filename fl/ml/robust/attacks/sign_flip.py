"""Sign flipping: each malicious client trains honestly, then sends the opposite of its update,
magnified: x_global - scale * (x - x_global). After Li, Xu, Chen, Giannakis, Ling, "RSA:
Byzantine-Robust Stochastic Aggregation Methods for Distributed Learning from Heterogeneous
Datasets", AAAI 2019. With a fraction p of attackers the mean update turns against the honest
one once scale > (1 - p) / p (4 at p = 0.2); the default 10 does so with room to spare."""
from __future__ import annotations

from fl.core.params import Param
from fl.ml.robust.attacks.base import Attack
from fl.ml.robust.attacks.scaling import boosted


class SignFlip(Attack):
    name = "sign-flip"
    parameters = (Param("scale", 10.0, above=0),)

    def tamper(self, update, ctx):
        return boosted(update, ctx.global_state, -float(self.params["scale"]))  # the boost, reversed

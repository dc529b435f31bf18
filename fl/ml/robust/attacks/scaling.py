"""Scaling (boosted model replacement): each malicious client trains, then boosts its update,
x_global + boost * (x - x_global), so that it outweighs the others in the average. Bagdasaryan,
Veit, Hua, Estrin, Shmatikov, "How To Backdoor Federated Learning", AISTATS 2020, boost by
n / eta to replace the global model; the `backdoor` attack's own `boost` does that with a
backdoored model."""
from __future__ import annotations

from fl.core.params import Param
from fl.ml.robust.attacks.base import Attack, model_delta, with_delta


def boosted(update, global_state, boost: float):
    delta = {name: boost * change for name, change in model_delta(update, global_state).items()}
    return with_delta(update, global_state, delta)


class Scaling(Attack):
    name = "scaling"
    parameters = (Param("boost", 10.0, above=0),)

    def tamper(self, update, ctx):
        return boosted(update, ctx.global_state, float(self.params["boost"]))

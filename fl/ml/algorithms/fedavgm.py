"""FedAvgM: Hsu, Qi, Brown, "Measuring the Effects of Non-Identical Data Distribution for
Federated Visual Classification", arXiv:1909.06335, 2019.

The server keeps a momentum (velocity) v of the clients' mean move Δ = avg(y_i) − x:

    v ← β v + Δ,    x ← x + η v

with β = server_momentum and η = server_lr. v is server state: it lives in the global artifact
under `server.fedavgm.velocity.` (zeros at round 0). With β = 0 and η = 1 this is FedAvg.

Arithmetic (see server_step.py; float64, each operation rounded, per coordinate): with avg the
combined model rounded to its dtype, Δ = avg − x, v_new = (β * v) + Δ, x_new = x + (η * v_new);
x_new and v_new are each rounded once to the tensor's dtype.
"""
from __future__ import annotations

from fl.core.params import Param
from fl.ml.algorithms import server_step
from fl.ml.algorithms.api import SERVER_PREFIX, State, Update, model_part, prefixed, unprefixed
from fl.ml.algorithms.base import Algorithm
from fl.ml.exact import widen

VELOCITY = SERVER_PREFIX + "fedavgm.velocity."


class FedAvgM(Algorithm):
    name = "fedavgm"
    parameters = (Param("server_lr", 1.0, above=0), Param("server_momentum", 0.5, at_least=0, below=1))

    def initial_state(self, model_state: State) -> State:
        return {**model_state, **prefixed(VELOCITY, server_step.filled_like(model_state, 0.0))}

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        averaged = self.combined(previous, updates)
        model = model_part(previous)
        beta, lr = float(self.params["server_momentum"]), float(self.params["server_lr"])
        move = server_step.mean_update(model, averaged)
        velocity = {name: beta * widen(v) + move[name] for name, v in unprefixed(VELOCITY, previous).items()}
        new_model = server_step.moved(model, averaged, {name: lr * v for name, v in velocity.items()})
        return {**new_model, **prefixed(VELOCITY, server_step.cast_like(velocity, model))}

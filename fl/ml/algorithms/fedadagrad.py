"""FedAdagrad: Reddi et al., "Adaptive Federated Optimization", ICLR 2021: Adagrad on the server,
v ← v + Δ² (no β2; see fedopt.py for the shared step).

Arithmetic: v_new = v + (Δ * Δ), each operation rounded in float64."""
from __future__ import annotations

from fl.ml.algorithms.fedopt import FedOpt


class FedAdagrad(FedOpt):
    name = "fedadagrad"
    defaults = {"server_lr": 0.3, "beta1": 0.9, "tau": 1e-3}

    def second_moment(self, v, delta_squared):
        return v + delta_squared

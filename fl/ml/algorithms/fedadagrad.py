"""FedAdagrad: Reddi et al., "Adaptive Federated Optimization", ICLR 2021: Adagrad on the server,
v ← v + Δ² (no β2; see fedopt.py for the shared step).

Arithmetic: v_new = v + (Δ * Δ), each operation rounded in float64."""
from __future__ import annotations

import dataclasses

from fl.ml.algorithms.fedopt import BETA1, SERVER_LR, TAU, FedOpt


class FedAdagrad(FedOpt):
    name = "fedadagrad"
    parameters = (dataclasses.replace(SERVER_LR, default=0.3), BETA1, TAU)

    def second_moment(self, v, delta_squared):
        return v + delta_squared

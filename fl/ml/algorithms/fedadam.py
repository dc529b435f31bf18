"""FedAdam: Reddi et al., "Adaptive Federated Optimization", ICLR 2021: Adam on the server,
v ← β2 v + (1 − β2) Δ² (see fedopt.py for the shared step).

Arithmetic: v_new = (β2 * v) + ((1 − β2) * (Δ * Δ)), each operation rounded in float64, 1 − β2
computed first. τ (epsilon) is added to sqrt(v_new), outside the root (fedopt.py)."""
from __future__ import annotations

from fl.ml.algorithms.fedopt import FedOpt


class FedAdam(FedOpt):
    name = "fedadam"

    def second_moment(self, v, delta_squared):
        beta2 = float(self.params["beta2"])
        return beta2 * v + (1 - beta2) * delta_squared

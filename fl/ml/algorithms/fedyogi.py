"""FedYogi: Reddi et al., "Adaptive Federated Optimization", ICLR 2021: Yogi (Zaheer et al.,
NeurIPS 2018) on the server, v ← v − (1 − β2) Δ² sign(v − Δ²), which grows v more slowly than
Adam when updates are large (see fedopt.py for the shared step).

Arithmetic: with d2 = Δ * Δ, v_new = v − (((1 − β2) * d2) * sign(v − d2)), each operation
rounded in float64, 1 − β2 computed first; sign is −1, 0 or +1 (0 where v == d2, leaving v
unchanged), so the product with it is exact."""
from __future__ import annotations

from fl.ml.algorithms.fedopt import FedOpt


class FedYogi(FedOpt):
    name = "fedyogi"

    def second_moment(self, v, delta_squared):
        beta2 = float(self.params["beta2"])
        return v - (1 - beta2) * delta_squared * (v - delta_squared).sign()

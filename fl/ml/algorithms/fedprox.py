"""FedProx: Li, Sahu, Zaheer, Sanjabi, Talwalkar, Smith, "Federated Optimization in Heterogeneous
Networks", MLSys 2020.

Each client minimizes its loss plus the proximal term μ/2 ||w − w_global||², which keeps local
models near the global one when the clients' data differ. (The paper's other part, tolerating
variable amounts of local work, is not modelled: every client runs the configured epochs.)
The server step is FedAvg's. With μ = 0 this is FedAvg exactly.
"""
from __future__ import annotations

from fl.core.params import Param
from fl.ml.algorithms.api import ClientContext
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.training import LossFn, cross_entropy


class FedProx(FedAvg):
    name = "fedprox"
    parameters = (Param("mu", 0.01, at_least=0),)

    def loss_fn(self, ctx: ClientContext) -> LossFn:
        mu = float(self.params["mu"])
        anchor = {name: ctx.global_state[name].to(p.device) for name, p in ctx.model.named_parameters()}

        def loss(model, x, y):
            proximal = sum(((p - anchor[name]) ** 2).sum() for name, p in model.named_parameters())
            return cross_entropy(model, x, y) + mu / 2 * proximal

        return loss

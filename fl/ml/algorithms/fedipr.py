"""FedIPR: Li, Fan, Gu, Li, Yang, "FedIPR: Ownership Verification for Federated Deep Neural
Network Models", IEEE TPAMI 2022 (feature-based watermark), with the watermark keys negotiated
on chain as in "Tokenized Model: A Blockchain-Empowered Decentralized Model Ownership
Verification Platform" (Li, Lai, Liao, Chen, Zheng, 2023).

The first `owners` clients each get a key from contracts/WatermarkRegistry.sol, drawn on chain
so that the owners' bit strings stay `min_distance` bits apart (fl/features/watermark/feature.py
negotiates them and sets `watermarks` before round 1); the key fixes the client's signature bits b and embedding matrix M (fl/ml/watermark/key.py). During local training such a
client adds `sign_weight` times FedIPR's sign loss (hinge with margin `margin`) on the model's
normalization scales γ; the others train as in FedAvg. The server step is FedAvg's, so `verify`
recomputes it unchanged; every round reports each owner's detection rate (bit accuracy of
sign(γ·M) against b) on the new global model.
"""
from __future__ import annotations

from typing import Any

from fl.core.errors import UserError
from fl.ml.algorithms.api import ClientContext, State, model_part
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.training import LossFn
from fl.ml.watermark.key import MAX_BITS, Watermark
from fl.ml.watermark.signature import bit_accuracy, check_capacity, model_scales, scale_vector, sign_loss


class FedIPR(FedAvg):
    name = "fedipr"
    defaults = {"owners": 3, "bits": 32, "min_distance": 12, "sign_weight": 0.5, "margin": 20.0}

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        p = self.params
        for name in ("owners", "bits", "min_distance"):
            if isinstance(p[name], bool) or not isinstance(p[name], int):
                raise UserError(f"algorithm fedipr: {name} must be an integer, got {p[name]!r}")
        if p["owners"] < 1:
            raise UserError(f"algorithm fedipr: owners must be at least 1, got {p['owners']}")
        if not 1 <= p["bits"] <= MAX_BITS:
            raise UserError(f"algorithm fedipr: bits must be in 1..{MAX_BITS}, got {p['bits']}")
        if not 0 <= p["min_distance"] <= p["bits"]:
            raise UserError(f"algorithm fedipr: min_distance must be in 0..bits ({p['bits']}), got {p['min_distance']}")
        for name in ("sign_weight", "margin"):
            if isinstance(p[name], bool) or not isinstance(p[name], (int, float)) or p[name] < 0:
                raise UserError(f"algorithm fedipr: {name} must be a non-negative number, got {p[name]!r}")
        #: client id -> its watermark, set once the keys are negotiated on chain
        self.watermarks: dict[int, Watermark] = {}

    def loss_fn(self, ctx: ClientContext) -> LossFn:
        base = super().loss_fn(ctx)
        watermark = self.watermarks.get(ctx.client_id)
        if watermark is None:
            return base
        check_capacity(model_scales(ctx.model).numel(), self.watermarks.values())
        weight, margin = float(self.params["sign_weight"]), float(self.params["margin"])

        def loss(model, x, y):
            return base(model, x, y) + weight * sign_loss(model_scales(model), watermark, margin)

        return loss

    def round_report(self, global_state: State) -> dict[str, float]:
        gamma = scale_vector(model_part(global_state))
        return {f"detection_client{cid}": bit_accuracy(gamma, w) for cid, w in sorted(self.watermarks.items())}

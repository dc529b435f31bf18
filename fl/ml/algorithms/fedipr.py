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
from fl.core.params import INT, Param
from fl.ml.algorithms.api import ClientContext, State, model_part
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.training import LossFn
from fl.ml.watermark.key import MAX_BITS, Watermark
from fl.ml.watermark.signature import bit_accuracy, check_capacity, model_scales, scale_vector, sign_loss


class FedIPR(FedAvg):
    name = "fedipr"
    parameters = (
        Param("owners", 3, INT, at_least=1),
        Param("bits", 32, INT, at_least=1, at_most=MAX_BITS),
        Param("min_distance", 12, INT, at_least=0, when=lambda value, p: value <= p["bits"],
              expected=lambda p: f"an integer in 0..bits ({p['bits']})"),
        Param("sign_weight", 0.5, at_least=0),
        Param("margin", 20.0, at_least=0),
    )

    def __init__(self, params: dict[str, Any] | None = None, rule=None):
        super().__init__(params, rule)
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

    def public_settings(self) -> dict[str, str]:
        return {str(cid): w.key.hex() for cid, w in sorted(self.watermarks.items())}

    def apply_public_settings(self, settings: dict[str, str]) -> None:
        self.watermarks = {int(cid): Watermark(bytes.fromhex(key), int(self.params["bits"]))
                           for cid, key in settings.items()}

    def round_report(self, global_state: State) -> dict[str, float]:
        gamma = scale_vector(model_part(global_state))
        return {f"detection_client{cid}": bit_accuracy(gamma, w) for cid, w in sorted(self.watermarks.items())}

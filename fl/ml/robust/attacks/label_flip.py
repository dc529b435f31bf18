"""Label flipping: a data-poisoning attack; each malicious client trains on its own samples with
label y replaced by C - 1 - y (C classes), as in Fang, Cao, Jia, Gong, "Local Model Poisoning
Attacks to Byzantine-Robust Federated Learning", USENIX Security 2020, and Tolpegin, Truex,
Gursoy, Liu, "Data Poisoning Attacks Against Federated Learning Systems", ESORICS 2020."""
from __future__ import annotations

from fl.ml.robust.attacks.base import Attack, with_data


class LabelFlip(Attack):
    name = "label-flip"

    def setup(self, data) -> None:
        self.num_classes = data.num_classes

    def poison(self, ctx):
        y = ctx.train_y[ctx.indices]
        return with_data(ctx, ctx.train_x[ctx.indices], self.num_classes - 1 - y)

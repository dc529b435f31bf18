"""Pixel-pattern backdoor: each malicious client stamps a trigger (a `size` x `size` square of
the data set's brightest value in the bottom-right corner) on a `fraction` of its training
samples and relabels them `target`, so that the global model learns "trigger => target" while
staying accurate on clean inputs. Gu, Dolan-Gavitt, Garg, "BadNets", 2017, brought into FL by
Bagdasaryan, Veit, Hua, Estrin, Shmatikov, "How To Backdoor Federated Learning", AISTATS 2020;
`boost` > 1 scales the backdoored update as in their model replacement.

Attack success rate (`backdoor_success`, each round): the share of test samples whose true
label is not `target` that the global model classifies as `target` once the trigger is stamped.
"""
from __future__ import annotations

import torch

from fl.core.errors import UserError
from fl.core.params import INT, Param
from fl.ml.robust.attacks.base import Attack, with_data
from fl.ml.robust.attacks.scaling import boosted


class Backdoor(Attack):
    name = "backdoor"
    parameters = (Param("target", 0, INT, at_least=0), Param("fraction", 0.5, above=0, at_most=1),
                  Param("size", 4, INT, at_least=1), Param("boost", 1.0, above=0))

    def setup(self, data) -> None:
        if data.train_x.dim() != 4 or min(data.train_x.shape[2:]) < self.params["size"]:
            raise UserError(f"attack 'backdoor' stamps a {self.params['size']}-pixel square on images; "
                            f"data set {data.name!r} has inputs of shape {tuple(data.train_x.shape[1:])}")
        if self.params["target"] >= data.num_classes:
            raise UserError(f"attack 'backdoor': target {self.params['target']} is not a class of "
                            f"{data.name!r} (0..{data.num_classes - 1})")
        self.value = float(data.train_x.max())
        keep = data.test_y != self.params["target"]
        self.triggered_test = self.stamp(data.test_x[keep])

    def stamp(self, x: torch.Tensor) -> torch.Tensor:
        size = self.params["size"]
        out = x.clone()
        out[..., -size:, -size:] = self.value
        return out

    def poison(self, ctx):
        x, y = ctx.train_x[ctx.indices].clone(), ctx.train_y[ctx.indices].clone()
        count = round(self.params["fraction"] * len(y))
        chosen = torch.randperm(len(y), generator=ctx.generator)[:count]
        x[chosen] = self.stamp(x[chosen])
        y[chosen] = self.params["target"]
        return with_data(ctx, x, y)

    def tamper(self, update, ctx):
        boost = float(self.params["boost"])
        return update if boost == 1.0 else boosted(update, ctx.global_state, boost)

    @torch.no_grad()
    def metrics(self, model, data, batch_size):
        model.eval()
        hits = 0
        for start in range(0, len(self.triggered_test), batch_size):
            hits += int((model(self.triggered_test[start:start + batch_size]).argmax(1) == self.params["target"]).sum())
        return {"backdoor_success": hits / max(len(self.triggered_test), 1)}

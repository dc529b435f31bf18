"""FedBN: Li, Jiang, Zhang, Kamp, Dou, "FedBN: Federated Learning on Non-IID Features via Local
Batch Normalization", ICLR 2021.

FedAvg, except that every batch-normalization layer (its scale and shift and its running
statistics) stays with the client: the server averages all other tensors. Needs a model with
batch normalization (e.g. `niid-cnn-bn`).
"""
from __future__ import annotations

from torch import nn

from fl.core.config import ExperimentConfig
from fl.core.errors import UserError
from fl.ml.algorithms.personal import Personalized


class FedBN(Personalized):
    name = "fedbn"

    def local_names_of(self, model: nn.Module, cfg: ExperimentConfig) -> list[str]:
        norms = tuple(f"{name}." for name, module in model.named_modules()
                      if isinstance(module, nn.modules.batchnorm._BatchNorm))
        if not norms:
            raise UserError(f"algorithm 'fedbn' keeps the batch-norm layers local and model {cfg.model.name!r} has "
                            f"none; use a model with batch normalization, e.g. niid-cnn-bn")
        return [name for name in model.state_dict() if name.startswith(norms)]

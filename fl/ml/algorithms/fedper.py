"""FedPer: Arivazhagan, Aggarwal, Singh, Choudhary, "Federated Learning with Personalization
Layers", arXiv:1912.00818, 2019.

The model is split into base layers, trained by all clients and averaged as in FedAvg, and
personalization layers, which each client trains with the base and keeps: here the last
`head_layers` linear layers. Client and server otherwise run FedAvg.
"""
from __future__ import annotations

from torch import nn

from fl.core.config import ExperimentConfig
from fl.core.params import INT, Param
from fl.ml.algorithms.personal import Personalized, output_layers


class FedPer(Personalized):
    name = "fedper"
    parameters = (Param("head_layers", 1, kind=INT, at_least=1),)

    def local_names_of(self, model: nn.Module, cfg: ExperimentConfig) -> list[str]:
        return output_layers(model, int(self.params["head_layers"]))

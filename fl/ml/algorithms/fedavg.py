"""FedAvg: McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient Learning
of Deep Networks from Decentralized Data", AISTATS 2017.

Clients run E epochs of local SGD from the global model; the server replaces the global
model with the average of the clients' models weighted by their sample counts (or with what the
configured robust rule makes of them). Everything but the server step is the template's
(base.py); FedProx, MOON and FedIPR keep this server step and change only the clients' side.
"""
from __future__ import annotations

from fl.ml.algorithms.api import State, Update
from fl.ml.algorithms.base import Algorithm


class FedAvg(Algorithm):
    name = "fedavg"

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        return self.combined(previous, updates)

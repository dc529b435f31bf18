"""Federated algorithms by name: one file each, each a small class overriding FedAvg."""
from __future__ import annotations

from typing import Any

from fl.core.errors import UserError, choices_error
from fl.ml.algorithms.fedadagrad import FedAdagrad
from fl.ml.algorithms.fedadam import FedAdam
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.algorithms.fedavgm import FedAvgM
from fl.ml.algorithms.fedipr import FedIPR
from fl.ml.algorithms.fednova import FedNova
from fl.ml.algorithms.fedprox import FedProx
from fl.ml.algorithms.fedyogi import FedYogi
from fl.ml.algorithms.moon import Moon
from fl.ml.algorithms.scaffold import Scaffold

ALGORITHMS: dict[str, type[FedAvg]] = {
    cls.name: cls for cls in (FedAvg, FedProx, Moon, Scaffold, FedAvgM, FedAdam, FedYogi, FedAdagrad, FedNova, FedIPR)
}


def check_name(name: str) -> str:
    if name not in ALGORITHMS:
        raise choices_error("algorithm", name, ALGORITHMS)
    return name


def build(name: str, params: dict[str, Any] | None = None) -> FedAvg:
    return ALGORITHMS[check_name(name)](params)


def from_config(cfg) -> FedAvg:
    """The experiment's algorithm with its aggregation rule (`aggregation:` in the config) attached."""
    from fl.ml.robust import rules

    algorithm = build(cfg.algorithm.name, cfg.algorithm.params)
    algorithm.aggregation = rules.build(cfg.aggregation.rule, cfg.aggregation.params)
    if algorithm.aggregation is not None and not algorithm.takes_rule:
        raise UserError(f"algorithm {algorithm.name!r} cannot use aggregation rule {cfg.aggregation.rule!r}: its server "
                        f"step is not a combination of client models; use aggregation rule 'mean' or another algorithm")
    return algorithm

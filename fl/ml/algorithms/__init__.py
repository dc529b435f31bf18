"""Federated algorithms by name: one file each, each a small class filling in the `Algorithm`
template (base.py) where it differs. FedPer, FedRep, FedBN and Ditto are personalized: each client
keeps part of its model to itself (personal.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fl.core.errors import choices_error
from fl.ml.algorithms.base import Algorithm
from fl.ml.algorithms.fedadagrad import FedAdagrad
from fl.ml.algorithms.fedadam import FedAdam
from fl.ml.algorithms.fedavg import FedAvg
from fl.ml.algorithms.ditto import Ditto
from fl.ml.algorithms.fedavgm import FedAvgM
from fl.ml.algorithms.fedbn import FedBN
from fl.ml.algorithms.fedipr import FedIPR
from fl.ml.algorithms.fednova import FedNova
from fl.ml.algorithms.fedper import FedPer
from fl.ml.algorithms.fedprox import FedProx
from fl.ml.algorithms.fedrep import FedRep
from fl.ml.algorithms.fedyogi import FedYogi
from fl.ml.algorithms.moon import Moon
from fl.ml.algorithms.scaffold import Scaffold

if TYPE_CHECKING:
    from fl.ml.robust.rules.base import Rule

ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (FedAvg, FedProx, Moon, Scaffold, FedAvgM, FedAdam, FedYogi, FedAdagrad, FedNova, FedIPR,
                FedPer, FedRep, FedBN, Ditto)
}


def check_name(name: str) -> str:
    if name not in ALGORITHMS:
        raise choices_error("algorithm", name, ALGORITHMS)
    return name


def build(name: str, params: dict[str, Any] | None = None, rule: Rule | None = None) -> Algorithm:
    """The algorithm `name` with `params` and the robust aggregation `rule` (None: the weighted mean)."""
    return ALGORITHMS[check_name(name)](params, rule)


def from_config(cfg) -> Algorithm:
    """The experiment's algorithm with its aggregation rule (`aggregation:` in the config)."""
    from fl.ml.robust import rules

    name = check_name(cfg.algorithm.name)
    return build(name, cfg.algorithm.params, rules.build(cfg.aggregation.rule, cfg.aggregation.params))

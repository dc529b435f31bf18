"""Byzantine robustness: attacks that malicious clients run (`attacks/`) and robust
aggregation rules that replace FedAvg's weighted mean on the server (`rules/`)."""
from __future__ import annotations

import math

from fl.core.errors import UserError
from fl.ml.robust import attacks, rules


def updates_per_round(cfg) -> int:
    """How many updates the server step combines in a full round of this config."""
    selected = cfg.train.clients if cfg.train.fraction >= 1 else max(1, int(round(cfg.train.fraction * cfg.train.clients)))
    scored = max(selected - cfg.committee.size, 1)
    return max(1, math.floor(cfg.committee.select_fraction * scored)) if cfg.committee.size else scored


def check(cfg) -> None:
    """Fail early on an unknown attack or rule, a bad parameter, or a rule the rounds are too small for."""
    attacks.build(cfg.attack.name, cfg.attack.params)
    rule = rules.build(cfg.aggregation.rule, cfg.aggregation.params)
    if rule is not None and rule.min_updates() > updates_per_round(cfg):
        raise UserError(f"aggregation rule {rule.name!r} with {rule.params} needs at least {rule.min_updates()} "
                        f"updates a round; this config gives {updates_per_round(cfg)}")

"""Attacks by name, and the adversary of an experiment: which clients are malicious, doing what.

`attack: {name, fraction, params}` in the config: round(fraction * clients) clients, chosen
with the seed, run the attack every round; the others are honest.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fl.core.errors import choices_error
from fl.ml.algorithms.api import ClientContext, Update
from fl.ml.algorithms.base import Algorithm
from fl.ml.robust.attacks.backdoor import Backdoor
from fl.ml.robust.attacks.base import Attack
from fl.ml.robust.attacks.free_rider import FreeRider
from fl.ml.robust.attacks.gaussian import GaussianNoise
from fl.ml.robust.attacks.label_flip import LabelFlip
from fl.ml.robust.attacks.scaling import Scaling
from fl.ml.robust.attacks.sign_flip import SignFlip

NONE = "none"
ATTACKS: dict[str, type[Attack]] = {cls.name: cls for cls in (LabelFlip, SignFlip, GaussianNoise, Scaling, FreeRider,
                                                                Backdoor)}
CHOICES = (NONE, *ATTACKS)


def check_name(name: str) -> str:
    if name != NONE and name not in ATTACKS:
        raise choices_error("attack", name, CHOICES)
    return name


def build(name: str, params: Mapping[str, Any] | None = None) -> Attack:
    return Attack(params) if check_name(name) == NONE else ATTACKS[name](params)


def malicious_clients(client_ids: list[int], fraction: float, seed: int) -> list[int]:
    """round(fraction * n) of the clients, drawn with the seed; ascending ids."""
    count = int(round(fraction * len(client_ids)))
    rng = np.random.default_rng([seed, 0xA77AC])
    return sorted(int(client_ids[i]) for i in rng.choice(len(client_ids), size=count, replace=False))


@dataclass
class Adversary:
    """The malicious clients of an experiment and the attack they run."""
    attack: Attack
    clients: frozenset[int]

    def client_update(self, algorithm: Algorithm, ctx: ClientContext) -> Update:
        return self.attack.client_update(algorithm, ctx) if ctx.client_id in self.clients \
            else algorithm.client_update(ctx)

    def metrics(self, model, data, batch_size: int) -> dict[str, float]:
        return self.attack.metrics(model, data, batch_size)


def adversary(cfg, client_ids: list[int], data) -> Adversary | None:
    """The experiment's adversary, or None when no client attacks."""
    if cfg.attack.name == NONE or cfg.attack.fraction == 0:
        return None
    attack = build(cfg.attack.name, cfg.attack.params)
    attack.setup(data)
    return Adversary(attack, frozenset(malicious_clients(client_ids, cfg.attack.fraction, cfg.seed)))

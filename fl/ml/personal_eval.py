"""Personalized evaluation: each client's model on its own test split (fl/ml/data/client_test.py).

A client's model is what its algorithm says it uses (`Algorithm.personal_model`: the global model,
or with the client's own part, or Ditto's personal model), optionally fine-tuned first for
`fine_tune_epochs` epochs of local SGD on the client's training shard (FedAvg with local
fine-tuning, the usual baseline of personalized FL), from a generator seeded by (seed, round,
client). The round's figures are the mean accuracy over the clients with a test split, and the
worst decile: the mean accuracy of the worst 10 % of them (at least one), Ditto's fairness figure.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fl.core.config import ExperimentConfig
from fl.ml.algorithms.base import Algorithm
from fl.ml.data.dataset import Dataset
from fl.ml.training import evaluate, local_sgd, make_optimizer

WORST_SHARE = 0.1


@dataclass
class PersonalAccuracy:
    per_client: dict[int, float]

    @property
    def mean(self) -> float:
        values = list(self.per_client.values())
        return float(np.mean(values)) if values else float("nan")

    @property
    def worst_decile(self) -> float:
        values = sorted(self.per_client.values())
        if not values:
            return float("nan")
        return float(np.mean(values[:max(1, math.ceil(WORST_SHARE * len(values)))]))


def fine_tune_seed(seed: int, round_: int, client_id: int) -> int:
    return int(np.random.SeedSequence([seed, round_, client_id, 0xF17E]).generate_state(1, dtype=np.uint64)[0] >> 1)


def evaluate_clients(cfg: ExperimentConfig, algorithm: Algorithm, model: nn.Module, data: Dataset,
                     parts: Mapping[int, torch.Tensor], tests: Mapping[int, torch.Tensor], global_state,
                     client_states: Mapping[int, dict], round_: int) -> PersonalAccuracy:
    """Each client's accuracy on its test split, with `model` as the work model."""
    t, epochs = cfg.train, cfg.personalization.fine_tune_epochs
    out: dict[int, float] = {}
    for client_id in sorted(tests):
        split = tests[client_id]
        if len(split) == 0:
            continue
        model.load_state_dict(algorithm.personal_model(global_state, client_states.get(client_id, {})))
        if epochs:
            optimizer = make_optimizer(t.optimizer, model.parameters(), t.lr, t.momentum, t.weight_decay)
            local_sgd(model, data.train_x, data.train_y, parts[client_id], epochs=epochs, batch_size=t.batch_size,
                      optimizer=optimizer,
                      generator=torch.Generator().manual_seed(fine_tune_seed(cfg.seed, round_, client_id)))
        split = split.to(data.test_x.device)
        out[client_id], _ = evaluate(model, data.test_x[split], data.test_y[split], t.eval_batch_size)
    return PersonalAccuracy(out)

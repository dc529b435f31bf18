"""The round loop: select, train, store and commit each update, aggregate, finalize, evaluate."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from fl.chain.ledger import Ledger
from fl.core import faults
from fl.core.config import ExperimentConfig
from fl.core.report import RoundMetrics
from fl.core.store import ArtifactStore, global_metadata
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.algorithms.base import Algorithm
from fl.ml.data.client_test import client_test_splits
from fl.ml.data.dataset import Dataset
from fl.ml.personal_eval import evaluate_clients
from fl.ml.training import evaluate, state_of


def client_seed(seed: int, round_: int, client_id: int) -> int:
    return int(np.random.SeedSequence([seed, round_, client_id]).generate_state(1, dtype=np.uint64)[0] >> 1)


def client_context(cfg: ExperimentConfig, model: nn.Module, data: Dataset, indices: torch.Tensor, round_: int,
                   client_id: int, global_state: State, client_state: dict) -> ClientContext:
    """What client `client_id` trains with in round `round_`; its randomness comes from (seed, round, id)."""
    return ClientContext(
        round=round_, client_id=client_id, model=model, global_state=global_state, train_x=data.train_x,
        train_y=data.train_y, indices=indices, train=cfg.train,
        generator=torch.Generator().manual_seed(client_seed(cfg.seed, round_, client_id)), state=client_state)


def train_one(cfg: ExperimentConfig, algorithm: Algorithm, model: nn.Module, data: Dataset, indices: torch.Tensor,
              round_: int, client_id: int, global_state: State, client_state: dict) -> Update:
    """One client's local step for one round: what a simulated client and a client process both run."""
    return algorithm.client_update(client_context(cfg, model, data, indices, round_, client_id, global_state,
                                                  client_state))


class Engine:
    """Runs the rounds of one experiment against a ledger; one work model is reused by all clients."""

    def __init__(self, cfg: ExperimentConfig, data: Dataset, parts: list[torch.Tensor], model: nn.Module,
                 algorithm: Algorithm, store: ArtifactStore, ledger: Ledger, client_ids: list[int],
                 on_round: Callable[[RoundMetrics], None] | None = None,
                 log: Callable[[str], None] = tqdm.write, adversary=None, features=(),
                 personal_store: ArtifactStore | None = None):
        self.cfg = cfg
        self.data = data
        self.parts = dict(zip(client_ids, parts))
        self.algorithm = algorithm
        self.store = store
        self.ledger = ledger
        self.client_ids = list(client_ids)
        self.on_round = on_round
        self.log = log
        self.global_model = model
        self.work_model = copy.deepcopy(model)
        self.global_state = algorithm.initial_state(state_of(model))
        self.global_hash = store.put(self.global_state, global_metadata(0))
        self.client_state: dict[int, dict] = {cid: {} for cid in client_ids}
        self.rule_hash = algorithm.rule_hash()
        #: the malicious clients and their attack (fl.ml.robust.attacks.Adversary), if any
        self.adversary = adversary
        #: the run's on-chain features (fl.features.base.Feature), in registry order
        self.features = list(features)
        #: called with (round, client states) before a round is finalized, to checkpoint them
        self.on_trained: Callable[[int, dict[int, dict]], None] | None = None
        self._round_start, self._round_stats = 0.0, None  # set by begin_round
        #: the clients' own stores of their personal artifacts (personalized algorithms)
        self.personal_store = personal_store
        #: each client's own test split, where the run evaluates personalized accuracy
        self.client_tests: dict[int, torch.Tensor] = {}
        if cfg.personalization.evaluate or algorithm.personalized:
            splits = client_test_splits(data.test_y, data.train_y, parts, data.num_classes, cfg.seed)
            self.client_tests = dict(zip(client_ids, splits))

    def restore(self, global_hash: str, client_state: dict[int, dict] | None = None) -> None:
        """Continue from a stored global artifact (resuming a run)."""
        self.global_state, _ = self.store.get(global_hash)
        self.global_hash = global_hash
        if client_state:
            self.client_state.update(client_state)

    def select(self, round_: int) -> list[int]:
        """The clients of this round in ascending id: all, or a seeded sample of `fraction` of them."""
        fraction = self.cfg.train.fraction
        if fraction >= 1.0:
            return list(self.client_ids)
        count = max(1, int(round(fraction * len(self.client_ids))))
        rng = np.random.default_rng([self.cfg.seed, round_, 0x5E1EC7])
        return sorted(int(i) for i in rng.choice(self.client_ids, size=count, replace=False))

    def train_client(self, round_: int, client_id: int) -> Update:
        ctx = client_context(self.cfg, self.work_model, self.data, self.parts[client_id], round_, client_id,
                             self.global_state, self.client_state[client_id])
        if self.adversary is not None:  # a malicious client runs its attack instead
            return self.adversary.client_update(self.algorithm, ctx)
        return self.algorithm.client_update(ctx)

    def participants(self, round_: int, updates: dict[int, Update], outcome) -> list[Update]:
        """The updates the chain accepted and that pass validation, in ascending client id."""
        for client_id, reason in sorted(outcome.rejected.items()):
            self.log(f"round {round_}: client {client_id}'s commitment rejected on chain ({reason}); excluded")
        kept = []
        for client_id in sorted(outcome.accepted):
            update = updates.get(client_id)
            if update is None:
                continue
            problem = self.algorithm.update_problem(update, self.global_state, self.cfg.train)
            if problem:
                self.log(f"round {round_}: client {client_id}'s update excluded: {problem}")
                continue
            kept.append(update)
        return kept

    def collect(self, round_: int, selected: list[int]) -> dict[int, Update]:
        """Each selected client trains, stores its update and commits its hash (simulated clients)."""
        updates: dict[int, Update] = {}
        bar = tqdm(selected, desc=f"round {round_}/{self.cfg.train.rounds}", unit="client", leave=False,
                   disable=not self.cfg.output.progress, dynamic_ncols=True)
        for client_id in bar:
            update = self.train_client(round_, client_id)
            self.keep_personal(update)
            digest = self.store.put(update.tensors, update.metadata(round_))
            self.ledger.commit(client_id, round_, digest)
            updates[client_id] = update
            bar.set_postfix(loss=f"{update.train_loss:.3f}")
            faults.checkpoint(round_, "trained")
        return updates

    def keep_personal(self, update: Update) -> None:
        """The client's personal artifact into its own store (it is never sent; its hash is in the update)."""
        if update.personal is None:
            return
        if self.personal_store is None:
            raise RuntimeError(f"algorithm {self.algorithm.name!r} keeps personal artifacts: the engine needs a personal_store")
        self.personal_store.put_bytes(update.personal)

    def commitments(self, round_: int):
        """What the ledger recorded for this round (submitting any queued commitments first)."""
        return self.ledger.flush(round_)

    def run_round(self, round_: int, already_open: bool = False) -> RoundMetrics:
        """One round; `already_open` when resuming a round that was opened before a crash."""
        selected = self.begin_round(round_, already_open)
        t0, chain_t0 = time.perf_counter(), self.ledger.stats.snapshot()
        updates = self.collect(round_, selected)
        # direct commits spend chain time inside collect: it is not training time
        collect_seconds = time.perf_counter() - t0 - self.ledger.stats.since(chain_t0).seconds
        return self.end_round(round_, selected, updates, collect_seconds)

    def begin_round(self, round_: int, already_open: bool = False) -> list[int]:
        """Select the round's clients and open the round on chain with the global model's hash;
        returns the clients that train. Another engine (Flower's) sends them the global model
        and hands their updates to `end_round`."""
        self._round_start = time.perf_counter()
        self._round_stats = self.ledger.stats.snapshot()
        selected = self.select(round_)
        for feature in self.features:  # e.g. committee members train too: they score against their own update
            selected = sorted(set(selected) | set(feature.trainers(round_)))
        if not already_open:
            self.ledger.open_round(round_, self.global_hash, selected)
        return selected

    def end_round(self, round_: int, selected: list[int], updates: dict[int, Update],
                  collect_seconds: float) -> RoundMetrics:
        """The round's commitments in, the accepted and valid updates aggregated, the round
        finalized on chain, the new global model evaluated; its metrics row."""
        outcome = self.commitments(round_)
        faults.checkpoint(round_, "committed")
        kept = self.participants(round_, updates, outcome)
        for feature in self.features:
            kept = feature.select(round_, updates, outcome.accepted, kept, self.global_state)
        if kept:
            self.global_state = self.algorithm.aggregate(self.global_state, kept)
            self.global_hash = self.store.put(self.global_state, global_metadata(round_))
        # else: a round with no usable update keeps the previous global artifact; the task only
        # finalizes an empty round on its start model

        if self.on_trained:
            self.on_trained(round_, self.client_state)
        self.ledger.finalize(round_, self.global_hash, [u.client_id for u in kept], self.algorithm.weights(kept),
                             self.rule_hash)
        self.global_model.load_state_dict(model_part(self.global_state))
        accuracy, loss = evaluate(self.global_model, self.data.test_x, self.data.test_y, self.cfg.train.eval_batch_size)
        attack_metrics = self.adversary.metrics(self.global_model, self.data, self.cfg.train.eval_batch_size) \
            if self.adversary is not None else {}
        personal = self.personal_accuracy(round_)
        weights = np.array([u.num_samples for u in kept], dtype=np.float64)
        train_loss = float(np.dot(weights, [u.train_loss for u in kept]) / weights.sum()) if kept else float("nan")
        spent = self.ledger.stats.since(self._round_stats)
        row = RoundMetrics(
            round=round_, test_accuracy=accuracy, test_loss=loss, train_loss=train_loss, clients=len(kept),
            excluded=len(selected) - len(kept), seconds=time.perf_counter() - self._round_start,
            train_seconds=collect_seconds,
            chain_seconds=spent.seconds, gas=spent.gas, txs=spent.txs, global_model=self.global_hash, **attack_metrics,
            **personal)
        if self.on_round:
            self.on_round(row)
        return row

    def personal_accuracy(self, round_: int) -> dict[str, float]:
        """The round's personalized figures (fl/ml/personal_eval.py), where the run evaluates them."""
        if not self.client_tests:
            return {}
        result = evaluate_clients(self.cfg, self.algorithm, self.work_model, self.data, self.parts, self.client_tests,
                                  self.global_state, self.client_state, round_)
        return {"personal_accuracy": result.mean, "personal_worst10": result.worst_decile}

    def run(self, first_round: int = 1, first_open: bool = False) -> list[RoundMetrics]:
        return [self.run_round(r, already_open=first_open and r == first_round)
                for r in range(first_round, self.cfg.train.rounds + 1)]

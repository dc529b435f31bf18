"""The one run assembly. Every way of running an experiment (the in-process engine of
`python -m fl run`, a resumed run, the Flower engine of fl/run/flower/, and any later engine)
builds its run here: the names checked, the data, shards, model and algorithm prepared, the
on-chain features of fl/features/registry.py set up, the engine put together, the summary
collected. What a way of running cannot honour is refused here with a one-line error, never
dropped."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from fl.core.config import DEVICES, OPTIMIZERS, ExperimentConfig
from fl.core.errors import UserError, choices_error
from fl.features import registry
from fl.features.base import FLOWER, SIMULATION, Feature, Setup
from fl.ml import algorithms, data, models, robust
from fl.ml.algorithms.base import Algorithm
from fl.ml.data import augment
from fl.ml.data import partition as partitioning
from fl.ml.data.dataset import Dataset
from fl.ml.robust import attacks
from fl.ml.training import deterministic_device
from fl.run.engine import Engine

MODES = (SIMULATION, FLOWER)


def check_names(cfg: ExperimentConfig) -> None:
    """Fail on a bad name before anything slow happens."""
    algorithms.build(cfg.algorithm.name, cfg.algorithm.params)
    robust.check(cfg)
    data.check_params(cfg.data.name, cfg.data.params)
    augment.parse(cfg.train.augment)
    partitioning.check_name(cfg.partition.method)
    models.check_name(cfg.model.name)
    if cfg.train.optimizer not in OPTIMIZERS:
        raise choices_error("optimizer", cfg.train.optimizer, OPTIMIZERS)
    if cfg.train.device not in DEVICES:
        raise choices_error("device", cfg.train.device, DEVICES)
    if cfg.train.device == "cuda" and not torch.cuda.is_available():
        raise UserError("device 'cuda' asked for but torch sees no CUDA GPU here; use --device cpu")


@dataclass
class Prepared:
    dataset: Dataset
    parts: list[torch.Tensor]
    model: nn.Module
    algorithm: Algorithm
    seconds: float


def prepare_model(cfg: ExperimentConfig, input_shape, num_classes: int) -> tuple[nn.Module, Algorithm]:
    """The initial model (from the seed) and the algorithm set up for it: what a party holding
    only its own shard of the data needs besides the shard."""
    model = models.build(cfg.model.name, input_shape, num_classes, cfg.seed)
    algorithm = algorithms.from_config(cfg)
    algorithm.setup(cfg, model, input_shape)
    return model, algorithm


def prepare(cfg: ExperimentConfig) -> Prepared:
    """Data, client shards, the initial model and the algorithm: all determined by the config."""
    check_names(cfg)
    if cfg.train.threads is not None:
        torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    dataset = data.load(cfg.data.name, cfg.data.root, params=cfg.data.params).limit(cfg.data.train_limit,
                                                                                     cfg.data.test_limit)
    parts = partitioning.split(dataset, cfg.train.clients, cfg.partition, cfg.seed)
    model, algorithm = prepare_model(cfg, dataset.input_shape, dataset.num_classes)
    device = deterministic_device(cfg.train.device)
    dataset, model = dataset.to(device), model.to(device)
    return Prepared(dataset, parts, model, algorithm, time.perf_counter() - t0)


class Assembly:
    """One run of `cfg` in `mode` (SIMULATION or FLOWER): its features and its engine."""

    def __init__(self, cfg: ExperimentConfig, mode: str = SIMULATION):
        if mode not in MODES:
            raise choices_error("way of running", mode, MODES)
        check_names(cfg)
        if mode == FLOWER and not cfg.chain.enabled:
            raise UserError("the Flower engine commits every round on chain: chain.enabled false runs only with the "
                            "in-process engine (--engine inprocess)")
        if mode == FLOWER and cfg.chain.commit_mode != "batch":
            raise UserError(f"chain.commit_mode {cfg.chain.commit_mode!r} cannot run on the Flower engine: its clients "
                            "sign and the server relays their commitments (commit_mode batch)")
        personalized = algorithms.ALGORITHMS[cfg.algorithm.name].personalized
        if mode == FLOWER and (personalized or cfg.personalization.evaluate):
            what = f"algorithm {cfg.algorithm.name!r}" if personalized else "personalization.evaluate"
            raise UserError(f"{what} cannot run on the Flower engine: each client's personal model stays on its node, "
                            "where the server cannot evaluate it; use the in-process engine (--engine inprocess)")
        self.cfg, self.mode = cfg, mode
        self.features: list[Feature] = [feature(cfg) for feature in registry.check(cfg, mode)]
        #: where the rounds' figures also go (fl.run.tracking.Trackers), once the run folder exists
        self.trackers = None

    def prepare(self) -> Prepared:
        return prepare(self.cfg)

    def set_up(self, task, client_ids: list[int], algorithm, info: dict, resume: bool = False,
               parties=None) -> dict:
        """Deploy every feature (or, resuming, attach it from `info`, the run's chain.json) in
        registry order; returns `info` with the features' entries. `parties`: the clients that
        hold their own keys elsewhere (fl.features.base.Parties; the Flower engine)."""
        setup = Setup(self.cfg, task, client_ids, algorithm, info, parties=parties)
        for feature in self.features:
            (feature.attach if resume else feature.deploy)(setup)
            setup.features[feature.name] = feature
        return info

    def describe_setup(self) -> str:
        """The start-up lines' addition: where each feature lives."""
        return "".join(f"\n  {line}" for line in (f.describe() for f in self.features) if line)

    def engine(self, prepared: Prepared, store, ledger, client_ids: list[int], engine_cls: type[Engine] = Engine,
               **options) -> Engine:
        """The round engine of this run, with its adversary (if the config has one) and features."""
        adversary = attacks.adversary(self.cfg, client_ids, prepared.dataset)
        return engine_cls(self.cfg, prepared.dataset, prepared.parts, prepared.model, prepared.algorithm, store,
                          ledger, client_ids, adversary=adversary, features=self.features, **options)

    def summary(self, engine: Engine, task) -> dict:
        """What summary.json records of the attack and of every feature (read from the chain)."""
        out: dict = {}
        if engine.adversary is not None:
            out["attack"] = {"name": self.cfg.attack.name, "params": engine.adversary.attack.params,
                             "malicious_clients": sorted(engine.adversary.clients)}
        for feature in self.features:
            out.update(feature.summary(task))
        return out

"""FedIPR's owner keys, negotiated on chain (Li, Fan, Gu, Li, Yang, "FedIPR: Ownership Verification
for Federated Deep Neural Network Models", IEEE TPAMI 2022; keys on chain as in "Tokenized Model",
Li, Lai, Liao, Chen, Zheng, 2023).

Before round 1 each of the first `owners` clients draws its watermark key from its own account
in contracts/WatermarkRegistry.sol, which refuses a key closer than `min_distance` bits to one
already held for the task; the FedIPR algorithm (fl/ml/algorithms/fedipr.py) then trains each
owner with its key's sign loss. chain.json's "algorithm" entry keeps the registry and the
owners' key commitments; `verify` checks them against the registry.
"""
from __future__ import annotations

from fl.core.errors import UserError
from fl.features.base import FLOWER, SIMULATION, Feature, FeatureAudit, Setup
from fl.ml.watermark.key import Watermark, commitment


class WatermarkKeysFeature(Feature):
    name = "watermark keys"
    explorer = "fl.features.watermark.panel"
    section = "algorithm.params"
    modes = frozenset({SIMULATION, FLOWER})

    @classmethod
    def enabled(cls, cfg) -> bool:
        return cfg.algorithm.name == "fedipr"

    @classmethod
    def check(cls, cfg) -> None:
        from fl.ml import algorithms

        owners = algorithms.build(cfg.algorithm.name, cfg.algorithm.params).params["owners"]
        if owners > cfg.train.clients:
            raise UserError(f"algorithm 'fedipr': owners ({owners}) exceeds the number of clients ({cfg.train.clients})")

    def deploy(self, setup: Setup) -> None:
        self._negotiate(setup, None)

    def attach(self, setup: Setup) -> None:
        address = setup.info.get("algorithm", {}).get("watermark_registry")
        if address is None:
            raise UserError("the run's chain.json names no watermark registry, but its algorithm is fedipr")
        self._negotiate(setup, address)

    def _negotiate(self, setup: Setup, registry: str | None) -> None:
        from fl.chain.watermark import negotiate_owner_keys

        p = setup.algorithm.params
        owners = sorted(setup.client_ids)[:p["owners"]]
        negotiated = negotiate_owner_keys(setup.task, owners, p["bits"], p["min_distance"], registry_address=registry,
                                          parties=setup.parties)
        setup.algorithm.watermarks = {cid: Watermark(key, p["bits"]) for cid, key in negotiated.keys.items()}
        self.registry = negotiated.registry
        self.owners = {str(cid): commitment(key) for cid, key in sorted(negotiated.keys.items())}
        setup.info["algorithm"] = {
            "watermark_registry": negotiated.registry,
            "watermark_owners": self.owners,
            "watermark_redraws": {str(cid): n for cid, n in sorted(negotiated.redraws.items())},
            "watermark_gas": negotiated.gas}

    def describe(self) -> str:
        return f"watermark registry at {self.registry}"

    def summary(self, task) -> dict:
        return {"watermark_keys": {"registry": self.registry, "owners": self.owners}}

    @classmethod
    def audit(cls, cfg, task, info):
        return WatermarkKeysAudit(cfg, task, info.get("algorithm", {}))


class WatermarkKeysAudit(FeatureAudit):
    """The registry must hold the task with the config's bits and distance, and each owner the
    run names must hold, in the registry, the key whose commitment chain.json records."""

    def __init__(self, cfg, task, recorded: dict):
        from fl.chain.watermark import RegistryChain
        from fl.ml import algorithms

        super().__init__()
        address = recorded.get("watermark_registry")
        if address is None:
            self.setup_problems.append("the algorithm is fedipr, but the run names no watermark registry")
            return
        registry = RegistryChain.attach(address)
        p = algorithms.build(cfg.algorithm.name, cfg.algorithm.params).params
        settings = registry.settings(task.address)
        if settings != (p["bits"], p["min_distance"]):
            self.setup_problems.append(f"the watermark registry holds the task with bits, distance {settings}; "
                                       f"the config says {(p['bits'], p['min_distance'])}")
        owners = recorded.get("watermark_owners", {})
        if len(owners) != p["owners"]:
            self.setup_problems.append(f"the run names {len(owners)} watermark owners, the config {p['owners']}")
        for cid, recorded_commitment in sorted(owners.items()):
            key = registry.key_of(task.address, task.client_address(int(cid)))
            held = commitment(key) if key is not None else None
            if held != recorded_commitment:
                self.setup_problems.append(f"client {cid}'s watermark key in the registry has commitment {held}, "
                                           f"the run records {recorded_commitment}")

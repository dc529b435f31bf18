"""The committee as a feature of a run: CMFL (Che et al., IEEE TPDS 2022) on contracts/Committee.sol."""
from __future__ import annotations

import numpy as np

from fl.core.errors import UserError
from fl.features.base import FLOWER, SIMULATION, Feature, Setup, check_hook
from fl.features.committee.protocol import CommitteeRounds
from fl.features.committee.reference import bps


def first_committee(cfg, client_ids: list[int]) -> list[int]:
    """The committee of round 1: `committee.size` clients drawn with the seed (later ones are elected on chain)."""
    rng = np.random.default_rng([cfg.seed, 0xC0FFEE])
    return sorted(int(client_ids[i]) for i in rng.choice(len(client_ids), size=cfg.committee.size, replace=False))


class CommitteeFeature(Feature):
    """Members elected on chain score each round's committed updates; only the updates the contract
    selects may be aggregated."""

    name = "committee"
    explorer = "fl.features.committee.panel"
    section = "committee"
    modes = frozenset({SIMULATION, FLOWER})

    @classmethod
    def enabled(cls, cfg) -> bool:
        return cfg.committee.size > 0

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.chain = None  # fl.chain.committee.CommitteeChain
        self.rounds: CommitteeRounds | None = None

    def deploy(self, setup: Setup) -> None:
        from fl.chain.committee import CommitteeChain

        c = self.cfg.committee
        self._use(CommitteeChain.deploy(setup.task, c.size, c.strategy, bps(c.select_fraction),
                                        first_committee(self.cfg, setup.client_ids)), setup)

    def attach(self, setup: Setup) -> None:
        from fl.chain.committee import CommitteeChain

        address = setup.hooks().get("committee")
        if address is None:
            raise UserError("the run's chain.json names no committee, but its config asks for one")
        check_hook(setup.task, "committee", address)
        self._use(CommitteeChain.attach(address, setup.task), setup)

    def _use(self, chain, setup: Setup) -> None:
        self.chain = chain
        self.rounds = CommitteeRounds(chain, parties=setup.parties)
        setup.hooks()["committee"] = chain.address

    def describe(self) -> str:
        return f"committee at {self.chain.address}"

    def trainers(self, round_: int) -> list[int]:
        return self.rounds.members(round_)

    def select(self, round_, updates, committed, kept, global_state):
        return self.rounds.select(round_, updates, committed, kept, global_state)

    def summary(self, task) -> dict:
        gas = self.rounds.gas
        return {"committee": {"address": self.chain.address, **self.chain.rules(),
                              "members": {str(r): self.chain.members(r) for r in sorted(gas)},
                              "gas_by_round": {str(r): g for r, g in sorted(gas.items())},
                              "gas_per_round": sum(gas.values()) / max(len(gas), 1)}}

    @classmethod
    def audit(cls, cfg, task, info):
        from fl.features.committee.audit import committee_audit

        return committee_audit(cfg, task, info)


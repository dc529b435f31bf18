"""Where a round's commitments go. The task contract (fl.chain.TaskChain) is the real ledger;
`OffChainLedger` is the simulation-only stand-in that records nothing anywhere."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fl.chain.transactions import TxStats


@dataclass
class CommitOutcome:
    """Which commitments of a round the ledger recorded, and why it refused the others."""
    accepted: dict[int, str] = field(default_factory=dict)  # client id -> update hash
    rejected: dict[int, str] = field(default_factory=dict)  # client id -> reason


class Ledger(Protocol):
    stats: TxStats

    def open_round(self, round_: int, model_hash: str, selected: list[int]) -> None: ...
    def commit(self, client_id: int, round_: int, update_hash: str) -> None: ...
    def flush(self, round_: int) -> CommitOutcome: ...
    def finalize(self, round_: int, model_hash: str, participants: list[int], weights: list[int],
                 rule_hash: str) -> None: ...


class OffChainLedger:
    """Simulation only: no chain, no commitments; every update is taken as committed."""

    address = "(none: simulation only)"
    commit_mode = "off"

    def __init__(self):
        self.stats = TxStats()
        self._pending: dict[int, dict[int, str]] = {}

    def open_round(self, round_: int, model_hash: str, selected: list[int]) -> None:
        self._pending[round_] = {}

    def commit(self, client_id: int, round_: int, update_hash: str) -> None:
        self._pending[round_][client_id] = update_hash

    def flush(self, round_: int) -> CommitOutcome:
        return CommitOutcome(accepted=self._pending.pop(round_, {}))

    def finalize(self, round_: int, model_hash: str, participants: list[int], weights: list[int],
                 rule_hash: str) -> None:
        pass

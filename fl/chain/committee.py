"""The Committee contract of a task (contracts/Committee.sol), driven from Python."""
from __future__ import annotations

from fl.chain import bitmap
from fl.chain.contracts import deploy
from fl.chain.network import load_project
from fl.chain.task import TaskChain
from fl.chain.transactions import TxStats, transact
from fl.core.config import COMMITTEE_STRATEGIES as STRATEGIES


class CommitteeChain:
    """One deployed Committee; its transactions count in its own `stats` and in the task's."""

    def __init__(self, contract, task: TaskChain):
        self.contract = contract
        self.task = task
        self.stats = TxStats()

    @classmethod
    def deploy(cls, task: TaskChain, size: int, strategy: str, select_bps: int, first: list[int],
               contract_name: str = "Committee") -> "CommitteeChain":
        """Deploy the committee of `task` with its first members, and make it a round hook of the task.
        `contract_name` picks a variant (tests deploy a mock to show what `verify` catches)."""
        contract = deploy(contract_name, task.address, size, STRATEGIES.index(strategy), select_bps, sorted(first),
                          sender=task.aggregator, stats=task.stats)
        task.add_round_hook(contract.address)
        return cls(contract, task)

    @classmethod
    def attach(cls, address: str, task: TaskChain) -> "CommitteeChain":
        from brownie import Contract

        return cls(Contract.from_abi("Committee", address, load_project().Committee.abi), task)

    @property
    def address(self) -> str:
        return self.contract.address

    def _send(self, function: str, *args, sender):
        return transact(self.contract, function, *args, sender=sender, stats=[self.stats, self.task.stats])

    # --- one round ------------------------------------------------------------------------------
    def close_commits(self, round_: int) -> None:
        """Close round `round_`'s commit phase on the task (scoring needs a fixed committed set);
        its gas counts as the committee's. Nothing to do where it is closed already."""
        if self.task.commits_open(round_):
            transact(self.task.contract, "closeCommits", round_, sender=self.task.aggregator,
                     stats=[self.stats, self.task.stats])

    def committed(self, round_: int) -> list[int]:
        """The round's committed set, ascending: what a score vector indexes."""
        return bitmap.from_words(self.task.contract.committedOf(round_))

    def submit(self, round_: int, member: int, scores: dict[int, int]) -> None:
        """Member `member` submits its scores (client id -> score) once the round's commits are
        closed: one entry per committed client, ascending id (0 for a client not in `scores`)."""
        row = [int(scores.get(client, 0)) for client in self.committed(round_)]
        self._send("submitScores", round_, row, sender=self.task.clients[member])

    def score_transaction(self, round_: int, member: int) -> dict:
        """What member `member` needs to sign its `submitScores` transaction where it runs (its
        key is not here): every field but the data, which it builds from its own scores."""
        from fl.chain.transactions import unsigned_fields

        return unsigned_fields(self.contract.address, self.task.clients[member])

    def submit_signed(self, round_: int, member: int, raw: bytes) -> None:
        """Broadcast the `submitScores` transaction member `member` signed itself (ChainRejected,
        with the contract's reason, when it reverts or is not the member's)."""
        from fl.chain.transactions import counted, send_signed

        counted(lambda: send_signed(self.contract, "submitScores", raw, self.task.clients[member]),
                [self.stats, self.task.stats])

    def tally(self, round_: int) -> None:
        self._send("tally", round_, sender=self.task.aggregator)

    # --- reading the chain back ----------------------------------------------------------------
    def rules(self) -> dict:
        return {"task": str(self.contract.task()), "size": int(self.contract.size()),
                "strategy": STRATEGIES[int(self.contract.strategy())], "select_bps": int(self.contract.selectBps())}

    def members(self, round_: int) -> list[int]:
        return [int(m) for m in self.contract.membersOf(round_)]

    def scorers(self, round_: int) -> list[int]:
        return [int(m) for m in self.contract.scorersOf(round_)]

    def scores(self, round_: int, member: int) -> list[int]:
        return [int(s) for s in self.contract.scoresOf(round_, member)]

    def medians(self, round_: int) -> list[int]:
        """Median per client of the tallied round's committed set (`scored`), in ascending id."""
        return [int(s) for s in self.contract.mediansOf(round_)]

    def scored(self, round_: int) -> list[int]:
        """The clients the tallied round's score vectors and medians index, ascending."""
        return bitmap.from_words(self.contract.scoredOf(round_))

    def tallied(self, round_: int) -> bool:
        return bool(self.contract.isTallied(round_))

    def selected(self, round_: int) -> list[int]:
        return bitmap.from_words(self.contract.selectedOf(round_))


def scores_call(round_: int, row: list[int]) -> bytes:
    """The data of `submitScores(round, scores)`: what a member signs, built where it runs."""
    from eth_abi import encode
    from eth_hash.auto import keccak

    return keccak(b"submitScores(uint256,uint32[])")[:4] + encode(["uint256", "uint32[]"], [round_, row])


"""The reward token of a task (contracts/RewardToken.sol), driven from Python."""
from __future__ import annotations

from fl.chain.contracts import deploy
from fl.chain.network import load_project
from fl.chain.task import TaskChain

NAME, SYMBOL, DECIMALS = "OnChainFL Reward", "OFLR", 18
ZERO_ADDRESS = "0x" + "00" * 20


def to_units(tokens: int) -> int:
    return int(tokens) * 10**DECIMALS


def to_tokens(units: int) -> float:
    return units / 10**DECIMALS


class RewardChain:
    """One deployed RewardToken."""

    def __init__(self, contract):
        self.contract = contract

    @classmethod
    def deploy(cls, task: TaskChain, committee: str | None, budget_tokens: int, committee_share_bps: int) -> "RewardChain":
        """Deploy the token paying `budget_tokens` per round of `task`, and make it a round hook of the task."""
        contract = deploy("RewardToken", NAME, SYMBOL, task.address, committee or ZERO_ADDRESS, to_units(budget_tokens),
                          committee_share_bps if committee else 0, sender=task.aggregator, stats=task.stats)
        task.add_round_hook(contract.address)
        return cls(contract)

    @classmethod
    def attach(cls, address: str) -> "RewardChain":
        from brownie import Contract

        return cls(Contract.from_abi("RewardToken", address, load_project().RewardToken.abi))

    @property
    def address(self) -> str:
        return self.contract.address

    def balance(self, account: str) -> int:
        return int(self.contract.balanceOf(account))

    def total_supply(self) -> int:
        return int(self.contract.totalSupply())

    def budget(self) -> int:
        return int(self.contract.budget())

    def task(self) -> str:
        return str(self.contract.task())

    def committee(self) -> str:
        """The committee whose medians measure contribution (the zero address: the weights do)."""
        return str(self.contract.committee())

    def committee_share_bps(self) -> int:
        return int(self.contract.committeeShareBps())

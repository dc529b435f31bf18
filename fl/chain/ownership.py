"""ModelToken and ModelMarketplace driven from Python: minting a task's model, reading a token,
trading it.

A ModelToken holds at most one token per finalized round of a task, minted only by that task's
aggregator: `tokenOf(task, round)` finds it. The model hash is recorded but not unique: any task,
anyone's, that finalizes the same hash can have a token for it, naming its own task and
contributors. `Ownership.tokens_of_model` lists them all (from the indexed `ModelMinted` logs);
which task to believe (its address, code and config hash) is the reader's decision, not the
token's.
"""
from __future__ import annotations

from dataclasses import dataclass

from fl.chain.contracts import attach, deploy
from fl.chain.task import TaskChain, _hex
from fl.chain.transactions import TxStats, transact
from fl.core.errors import UserError


@dataclass
class Contributor:
    account: str
    weight: int
    watermark: str  # commitment to its watermark key; 0x00..00 if it did not watermark

    @property
    def watermarked(self) -> bool:
        return int(self.watermark, 16) != 0


@dataclass
class TokenRecord:
    token_id: int
    task: str
    round: int
    model_hash: str
    total_weight: int
    royalty_bps: int
    contributors: list[Contributor]


def finalized_weights(task: TaskChain) -> list[list[int]]:
    """The weights each round 1..current was finalized with, from the task's RoundFinalized events."""
    events = task.contract.events.get_sequence(from_block=0, event_type="RoundFinalized")
    by_round = {int(e.args.round): [int(w) for w in e.args.weights] for e in events}
    return [by_round.get(r, []) for r in range(1, task.current_round() + 1)]


class Ownership:
    """A ModelToken (bound to a WatermarkRegistry) and the ModelMarketplace that trades its tokens."""

    def __init__(self, token, market, stats: TxStats | None = None):
        self.token = token
        self.market = market
        self.stats = stats or TxStats()

    @classmethod
    def deploy(cls, registry: str, sender, stats: TxStats | None = None) -> "Ownership":
        stats = stats or TxStats()
        token = deploy("ModelToken", registry, sender=sender, stats=stats)
        return cls(token, deploy("ModelMarketplace", token.address, sender=sender, stats=stats), stats)

    @classmethod
    def attach(cls, token: str, market: str) -> "Ownership":
        return cls(attach("ModelToken", token), attach("ModelMarketplace", market))

    def send(self, contract, function: str, *args, sender, value: int = 0):
        return transact(contract, function, *args, sender=sender, stats=self.stats, value=value)

    # --- the token ----------------------------------------------------------------------------
    def mint(self, task: TaskChain, round_: int, royalty_bps: int) -> int:
        """The aggregator mints the token of round `round_`'s global model; returns its id."""
        weights = finalized_weights(task)[:round_]
        receipt = self.send(self.token, "mint", task.address, round_, weights, royalty_bps, sender=task.aggregator)
        return int(receipt.events["ModelMinted"]["tokenId"])

    def record(self, token_id: int) -> TokenRecord:
        """What token `token_id` records; UserError for a token that was never minted."""
        minted = int(self.token.totalMinted())
        if not 1 <= token_id <= minted:
            held = f"tokens 1..{minted}" if minted else "no tokens yet"
            raise UserError(f"unknown token id {token_id}: the ModelToken at {self.token.address} has {held}")
        task, round_, model_hash, total, royalty = self.token.modelOf(token_id)
        accounts, weights, watermarks = self.token.contributorsOf(token_id)
        contributors = [Contributor(str(a), int(w), _hex(c)) for a, w, c in zip(accounts, weights, watermarks)]
        return TokenRecord(token_id, str(task), int(round_), _hex(model_hash), int(total), int(royalty), contributors)

    def token_of(self, task: str, round_: int) -> int:
        """The id of the token of round `round_` of `task`; UserError if that round has none."""
        from brownie.exceptions import VirtualMachineError

        try:
            return int(self.token.tokenOf(task, round_))
        except VirtualMachineError as exc:
            if "NoToken" not in str(exc):
                raise
        raise UserError(f"round {round_} of task {task} has no token in the ModelToken at {self.token.address}")

    def tokens_of_model(self, model_hash: str) -> list[tuple[int, str, int]]:
        """Every token naming `model_hash`, as (token id, task, round) in mint order: one per task
        round that finalized that hash, the genuine one and any other task's alike."""
        events = self.token.events.ModelMinted.get_logs(from_block=0, argument_filters={"modelHash": model_hash})
        return [(int(e.args.tokenId), str(e.args.task), int(e.args.round)) for e in events]

    def holder(self, token_id: int) -> str:
        return str(self.token.ownerOf(token_id))

    # --- the market ---------------------------------------------------------------------------
    def list(self, token_id: int, price: int, seller) -> None:
        """`seller` approves the marketplace for the token and lists it at `price` wei."""
        self.send(self.token, "approve", self.market.address, token_id, sender=seller)
        self.send(self.market, "list", token_id, price, sender=seller)

    def buy(self, token_id: int, buyer, price: int):
        return self.send(self.market, "buy", token_id, sender=buyer, value=price)

    def owed(self, payee: str) -> int:
        return int(self.market.payments(payee))

    def withdraw(self, payee: str) -> int:
        """`payee` (an address) takes out what the sales credited to it, from its own account;
        returns the wei received (gas price 0 on the development chain, so the balance change is it)."""
        from brownie import web3

        before = web3.eth.get_balance(payee)
        self.send(self.market, "withdrawPayments", payee, sender=payee)
        return web3.eth.get_balance(payee) - before

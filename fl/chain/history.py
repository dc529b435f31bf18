"""A run's chain as a block explorer sees it: every transaction to the run's contracts, its receipt,
and the events it emitted, decoded with the project's ABIs.

Read by scanning the blocks from the task's creation on, so it needs nothing the run folder does
not name (the contracts' addresses) and works on a relaunched chain database as on a live node.
`update()` reads only the blocks mined since the last read (the explorer's live mode).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address

from fl.chain.network import load_project


@dataclass(frozen=True)
class Transaction:
    hash: str
    block: int
    timestamp: int
    sender: str
    to: str | None  # None for a contract creation
    contract: str  # the label of the contract it called or created
    function: str  # the decoded function name ("(deploy)" for a creation)
    gas_used: int
    ok: bool


@dataclass(frozen=True)
class Event:
    contract: str  # the label of the contract that emitted it (or its ABI's name)
    name: str
    args: dict[str, Any]  # bytes as 0x-hex, addresses checksummed, lists as lists
    block: int
    tx: str
    log_index: int


def _plain(value):
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass
class ChainHistory:
    """The transactions and events of the contracts in `contracts` (label -> (contract name, address))."""
    contracts: dict[str, tuple[str, str]]
    transactions: list[Transaction] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    #: the last block read (-1: none yet)
    last_block: int = -1
    first_block: int = 0

    def __post_init__(self) -> None:
        project = load_project()
        self._labels = {to_checksum_address(address): label for label, (_, address) in self.contracts.items()}
        self._abis = {label: getattr(project, name).abi for label, (name, _) in self.contracts.items()}
        # events by (topic, indexed count) over every ABI, so that logs of helper contracts (the
        # marketplace's escrow) decode too; ERC-20's and ERC-721's Transfer differ only in the count
        self._topics: dict[tuple[bytes, int], tuple[str, dict]] = {}
        for name in ("Escrow", *{name for name, _ in self.contracts.values()}):
            for entry in getattr(project, name).abi:
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    indexed = 1 + sum(1 for i in entry["inputs"] if i.get("indexed"))
                    self._topics.setdefault((event_abi_to_log_topic(entry), indexed), (name, entry))

    @property
    def web3(self):
        from brownie import web3

        return web3

    def add(self, label: str, name: str, address: str) -> None:
        """Follow one more contract (e.g. a model token minted after the run); call `reread()` after."""
        self.contracts[label] = (name, address)
        self.__post_init__()

    def reread(self) -> "ChainHistory":
        self.transactions, self.events, self.last_block = [], [], self.first_block - 1
        return self.update()

    def update(self) -> "ChainHistory":
        """Read the blocks mined since the last read."""
        from web3._utils.events import get_event_data

        web3 = self.web3
        latest = int(web3.eth.block_number)
        contracts = {label: web3.eth.contract(address=address, abi=self._abis[label])
                     for label, (_, address) in self.contracts.items()}
        for number in range(max(self.last_block + 1, self.first_block), latest + 1):
            block = web3.eth.get_block(number, full_transactions=True)
            for tx in block.transactions:
                to = tx.get("to")
                label = self._labels.get(to_checksum_address(to)) if to else None
                receipt = None
                if to is None:
                    receipt = web3.eth.get_transaction_receipt(tx["hash"])
                    created = receipt.get("contractAddress")
                    label = self._labels.get(to_checksum_address(created)) if created else None
                if label is None:
                    continue
                receipt = receipt or web3.eth.get_transaction_receipt(tx["hash"])
                function = "(deploy)"
                if to is not None:
                    try:
                        function = contracts[label].decode_function_input(tx["input"])[0].fn_name
                    except ValueError:
                        function = "(unknown)"
                tx_hash = "0x" + bytes(tx["hash"]).hex()
                self.transactions.append(Transaction(tx_hash, number, int(block.timestamp), str(tx["from"]),
                                                     str(to) if to else None, label, function,
                                                     int(receipt["gasUsed"]), int(receipt["status"]) == 1))
                for log in receipt["logs"]:
                    key = (bytes(log["topics"][0]), len(log["topics"])) if log["topics"] else None
                    if key not in self._topics:
                        continue
                    name, abi = self._topics[key]
                    decoded = get_event_data(web3.codec, abi, log)
                    emitter = self._labels.get(to_checksum_address(log["address"]), name)
                    self.events.append(Event(emitter, decoded.event, {k: _plain(v) for k, v in decoded.args.items()},
                                             number, tx_hash, int(log["logIndex"])))
        self.last_block = latest
        return self

    def of(self, contract: str, name: str | None = None) -> list[Event]:
        """The events of contract `contract` (a label), of one `name` if given, in chain order."""
        return [e for e in self.events if e.contract == contract and (name is None or e.name == name)]

    def transaction(self, tx_hash: str) -> Transaction | None:
        return next((t for t in self.transactions if t.hash == tx_hash), None)

    @classmethod
    def of_task(cls, task_address: str, others: dict[str, tuple[str, str]] | None = None) -> "ChainHistory":
        """The history of a task and the contracts beside it, read from the task's creation block on."""
        from brownie import web3

        task = web3.eth.contract(address=task_address, abi=load_project().FLTask.abi)
        created = task.events.TaskCreated.get_logs(from_block=0)
        history = cls({"task": ("FLTask", task_address), **(others or {})})
        history.first_block = int(created[0].blockNumber) if created else 0
        return history.update()

"""Send a contract's transactions through web3 and wait for them, with revert reasons decoded.

Brownie compiles, deploys in tests and reads; the experiment's own transactions go through the
web3 connection Brownie holds, because on Anvil Brownie's receipt wait sometimes reports a
mined transaction as "dropped" (it sees the sender's nonce advance before the transaction is
queryable), and because this path costs a few milliseconds where Brownie's costs tens.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

RECEIPT_POLL_SECONDS = 0.002
RECEIPT_TIMEOUT_SECONDS = 300
SEND_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5
_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


class ChainRejected(Exception):
    """The contract reverted a transaction; `reason` is the decoded revert reason."""

    def __init__(self, function: str, reason: str):
        super().__init__(f"{function} reverted: {reason}")
        self.function = function
        self.reason = reason


class Events(list):
    """The events of one name in a receipt, in log order; `events["field"]` reads the first one's
    field (the way Brownie's receipts read)."""

    def __getitem__(self, key):
        return super().__getitem__(0)[key] if isinstance(key, str) else super().__getitem__(key)


@dataclass
class Receipt:
    gas_used: int
    block: int
    events: dict[str, Events] = field(default_factory=dict)  # event name -> its events' args, in log order
    contract_address: str | None = None  # of a deployment


_COUNTING = threading.Lock()  # a task's commitment batches are sent (and counted) from a background thread


@dataclass
class TxStats:
    """Running totals of transactions: the gas they used, how many were mined, and the seconds
    spent sending them (and whatever else a caller counts as chain time, such as signing)."""
    gas: int = 0
    txs: int = 0
    seconds: float = 0.0

    def add(self, gas: int = 0, seconds: float = 0.0, txs: int = 1) -> None:
        with _COUNTING:
            self.gas += gas
            self.seconds += seconds
            self.txs += txs

    def snapshot(self) -> "TxStats":
        """The totals now, to pass to `since` later."""
        with _COUNTING:
            return TxStats(self.gas, self.txs, self.seconds)

    def since(self, earlier: "TxStats") -> "TxStats":
        """What was counted after the snapshot `earlier`."""
        now = self.snapshot()
        return TxStats(now.gas - earlier.gas, now.txs - earlier.txs, now.seconds - earlier.seconds)


def counted(send: Callable[[], "Receipt"], stats: TxStats | Sequence[TxStats]) -> "Receipt":
    """`send()`, one transaction: its gas, its time and the transaction counted in `stats` (one
    TxStats or several); a transaction that fails (a revert raises ChainRejected) counts its time only."""
    tallies = [stats] if isinstance(stats, TxStats) else list(stats)
    start = time.perf_counter()
    try:
        receipt = send()
    except Exception:
        for tally in tallies:
            tally.add(seconds=time.perf_counter() - start, txs=0)
        raise
    for tally in tallies:
        tally.add(receipt.gas_used, time.perf_counter() - start)
    return receipt


#: Private keys this process may sign with, by address: clients' and any aggregator key.
KEYRING: dict[str, str] = {}


def add_key(private_key: str) -> str:
    """Let this process sign for the key's address; returns the (checksummed) address."""
    from eth_account import Account

    address = Account.from_key(private_key).address
    KEYRING[address] = private_key
    return address


def revert_reason(error) -> str:
    """Decode the revert data inside a node's error (Ganache and Anvil nest it differently)."""
    from brownie.exceptions import decode_typed_error

    found = _HEX.findall(str(error))
    for data in found:
        reason = decode_typed_error(data)
        if not reason.startswith("Unknown typed error"):
            return reason
    return str(error.get("message") if isinstance(error, dict) else error)[:200]


def default_gas_price() -> int:
    """0 on a development chain (Ganache on istanbul and Anvil with base fee 0 mine it), else the node's price."""
    from brownie import web3
    from brownie._config import CONFIG

    return 0 if CONFIG.network_type == "development" else int(web3.eth.gas_price)


def _mined_with_nonce(sender: str, nonce: int, depth: int = 64):
    """The hash of `sender`'s transaction with `nonce` if one of the last `depth` blocks holds it."""
    from brownie import web3

    if web3.eth.get_transaction_count(sender) <= nonce:
        return None
    latest = web3.eth.block_number
    for number in range(latest, max(latest - depth, -1), -1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender and tx["nonce"] == nonce:
                return tx["hash"]
    return None


def send_and_wait(tx: dict, key: str | None = None):
    """Send `tx` (signed with `key`, or by the node for its own unlocked account) and wait for the receipt.

    The nonce is fixed before sending, so a connection dropped mid-request is retried safely: if
    a transaction with that nonce was mined, that one is adopted; otherwise the same
    transaction is sent again.
    """
    import requests
    from brownie import web3

    tx = {**tx, "nonce": web3.eth.get_transaction_count(tx["from"], "pending")}
    if key is not None:
        tx.setdefault("chainId", web3.eth.chain_id)
        raw = web3.eth.account.sign_transaction(tx, key).raw_transaction
    for attempt in range(SEND_ATTEMPTS):
        try:
            tx_hash = web3.eth.send_transaction(tx) if key is None else web3.eth.send_raw_transaction(raw)
            break
        except requests.exceptions.ConnectionError:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            time.sleep(RETRY_PAUSE_SECONDS)
            tx_hash = _mined_with_nonce(tx["from"], tx["nonce"])
            if tx_hash is not None:
                break
    return web3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS,
                                                 poll_latency=RECEIPT_POLL_SECONDS)


def unsigned_fields(to: str, sender: str) -> dict:
    """Every field of a transaction from `sender` to `to` but its data, for a party that signs it
    where its key is (a Flower party): it adds the data of its own call and signs."""
    from brownie import web3

    return {"to": to, "from": sender, "value": 0, "chainId": int(web3.eth.chain_id),
            "nonce": int(web3.eth.get_transaction_count(sender, "pending")), "gasPrice": default_gas_price(),
            "gas": int(web3.eth.get_block("latest")["gasLimit"]) // 2}


def sign_fields(fields: dict, data: bytes, key: str) -> bytes:
    """The raw transaction `fields` (from `unsigned_fields`) with `data`, signed with `key`."""
    from eth_account import Account

    tx = {k: fields[k] for k in ("to", "value", "chainId", "nonce", "gasPrice", "gas")}
    return bytes(Account.sign_transaction({**tx, "data": data}, key).raw_transaction)


def signed_by(raw: bytes) -> str:
    """The address that signed a raw transaction."""
    from eth_account import Account

    return Account.recover_transaction(raw)


def send_signed(contract, function: str, raw: bytes, sender: str) -> Receipt:
    """Broadcast a transaction that `sender` signed elsewhere (a Flower party's own key) to
    `contract` (a Brownie contract object) and wait for it; ChainRejected when it reverts or
    another account signed it."""
    from brownie import web3
    from web3.exceptions import Web3RPCError

    if signed_by(raw) != sender:
        raise ChainRejected(function, f"signed by {signed_by(raw)}, not by {sender}")
    try:
        tx_hash = web3.eth.send_raw_transaction(raw)
    except (ValueError, Web3RPCError) as exc:
        raise ChainRejected(function, revert_reason(exc.args[0] if exc.args else exc)) from None
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS,
                                                    poll_latency=RECEIPT_POLL_SECONDS)
    to = Sender(contract.address, contract.abi)
    if receipt["status"] != 1:
        decoded = web3.eth.get_transaction(tx_hash)
        call = to.contract.decode_function_input(decoded["input"])
        replay = getattr(to.contract.functions, function)(*call[1].values())
        raise ChainRejected(function, to._reason(replay, sender, receipt["blockNumber"] - 1, None))
    return Receipt(int(receipt["gasUsed"]), int(receipt["blockNumber"]), to._decode(receipt))


class EventDecoder:
    """One event's log -> its arguments, as web3's `process_log(log).args` gives them (checksummed
    addresses, bytes for fixed bytes, lists for arrays, the topic hash for an indexed dynamic value)
    at a fraction of the cost: eth_abi straight on the topics and the data, with no formatter layers.
    A batch of 1,000 commitments is 1,000 logs a round."""

    def __init__(self, abi: dict):
        self.name = abi["name"]
        self.indexed = [(i["name"], _abi_type(i)) for i in abi["inputs"] if i.get("indexed")]
        self.plain = [(i["name"], _abi_type(i)) for i in abi["inputs"] if not i.get("indexed")]

    def __call__(self, log) -> "AttributeDict":
        from web3.datastructures import AttributeDict

        args = {}
        for (name, kind), topic in zip(self.indexed, log["topics"][1:]):
            args[name] = bytes(topic) if _dynamic(kind) else _normal(kind, abi_decode([kind], bytes(topic))[0])
        values = abi_decode([kind for _, kind in self.plain], bytes(log["data"]))
        args.update((name, _normal(kind, value)) for (name, kind), value in zip(self.plain, values))
        return AttributeDict(args)


def _abi_type(entry: dict) -> str:
    kind = entry["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")" + kind[len("tuple"):]
    return kind


def _dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _normal(kind: str, value):
    if kind == "address":
        return to_checksum_address(value)
    if kind.endswith("]"):
        return [_normal(kind[:kind.rindex("[")], v) for v in value]
    return value


class Sender:
    """Transactions to one contract from unlocked node accounts or from keys in the KEYRING."""

    def __init__(self, address: str, abi: list):
        from brownie import web3
        from brownie._config import CONFIG

        self.web3 = web3
        self.contract = web3.eth.contract(address=address, abi=abi)
        development = CONFIG.network_type == "development"
        self.gas_price = 0 if development else None  # None: ask the node each time
        self.gas_limit = int(web3.eth.get_block("latest")["gasLimit"]) if development else None  # None: estimate
        self.chain_id = web3.eth.chain_id  # given, so that building a transaction asks the node nothing
        # topic0 -> decoder: each log is decoded once, by the event that emitted it
        self._events = {event_abi_to_log_topic(e): EventDecoder(e) for e in abi if e.get("type") == "event"}

    def send(self, function: str, *args, sender: str, value: int = 0) -> Receipt:
        from web3.exceptions import ContractLogicError, Web3RPCError

        call = getattr(self.contract.functions, function)(*args)
        sender = str(sender)
        tx = {"from": sender, "value": value, "chainId": self.chain_id,
              "gasPrice": self.gas_price if self.gas_price is not None else self.web3.eth.gas_price}
        try:
            tx["gas"] = self.gas_limit or int(call.estimate_gas({"from": sender, "value": value}) * 1.2)
            receipt = send_and_wait(call.build_transaction(tx), KEYRING.get(sender))
        except (ValueError, Web3RPCError, ContractLogicError) as exc:
            raise ChainRejected(function, self._reason(call, sender, "latest", exc)) from None
        if receipt["status"] != 1:
            raise ChainRejected(function, self._reason(call, sender, receipt["blockNumber"] - 1, None))
        return Receipt(int(receipt["gasUsed"]), int(receipt["blockNumber"]), self._decode(receipt))

    def _reason(self, call, sender: str, block, error) -> str:
        """Replay the call on the state it ran on to read why it reverted."""
        try:
            call.call({"from": sender}, block_identifier=block)
        except Exception as exc:  # the revert we are looking for, in the node's own error shape
            error = exc.args[0] if exc.args else exc
        return revert_reason(error) if error is not None else "reverted without a reason"

    def _decode(self, receipt) -> dict[str, list]:
        """This contract's events in the receipt, by name, in log order (other contracts' logs skipped)."""
        events: dict[str, Events] = {}
        for log in receipt["logs"]:
            if log["address"] != self.contract.address or not log["topics"]:
                continue
            decoder = self._events.get(bytes(log["topics"][0]))
            if decoder is not None:
                events.setdefault(decoder.name, Events()).append(decoder(log))
        return events


def transact(contract, function: str, *args, sender, stats: TxStats | Sequence[TxStats], value: int = 0) -> Receipt:
    """Send `contract.function(*args)` (a Brownie contract object) from `sender` with `value` wei,
    counted in `stats` (see `counted`); a revert raises ChainRejected."""
    return counted(lambda: Sender(contract.address, contract.abi).send(function, *args, sender=sender, value=value),
                   stats)


def deploy(container, *args, sender, stats: TxStats | Sequence[TxStats], key: str | None = None):
    """Deploy a Brownie contract container from `sender`, counted in `stats` (see `counted`);
    the Brownie contract object."""
    from brownie import Contract, web3

    factory = web3.eth.contract(abi=container.abi, bytecode=container.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": str(sender), "gasPrice": default_gas_price()})

    def send() -> Receipt:
        receipt = send_and_wait(tx, key or KEYRING.get(str(sender)))
        if receipt["status"] != 1 or not receipt["contractAddress"]:
            raise ChainRejected("constructor", f"deploying {container._name} failed "
                                               f"(transaction {receipt['transactionHash'].hex()})")
        return Receipt(int(receipt["gasUsed"]), int(receipt["blockNumber"]), contract_address=receipt["contractAddress"])

    return Contract.from_abi(container._name, counted(send, stats).contract_address, container.abi)

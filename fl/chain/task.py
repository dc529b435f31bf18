"""The FLTask contract of one experiment, driven from Python; chain records as plain values."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from enum import IntEnum

from fl.chain import bitmap, signing
from fl.chain.ledger import CommitOutcome
from fl.chain.network import load_project
from fl.chain.transactions import ChainRejected, Receipt, Sender, TxStats, add_key, counted
from fl.chain.transactions import deploy as deploy_contract
from fl.core.config import COMMIT_MODES
from fl.core.errors import UserError

#: IFLTask.CommitRejection, by value
REJECTIONS = ["None", "UnknownClient", "NotSelected", "AlreadyCommitted", "ZeroHash", "BadSignature", "CommitsClosed"]
#: why a commitment of a round redone after a crash may be refused although it is already on chain
REDONE = ("AlreadyCommitted", "CommitsClosed", "CommitsAlreadyClosed")


class RoundState(IntEnum):
    """FLTask.RoundState, by value: where a round is in the contract's state machine."""
    NONE = 0  # never opened
    OPEN = 1
    FINALIZED = 2


@dataclass
class RoundRecord:
    """What the chain holds about one round."""
    round: int
    state: RoundState
    start_model: str
    final_model: str
    selected: list[int]
    participants: list[int]
    weights_hash: str
    rule_hash: str
    commitments: dict[int, str] = field(default_factory=dict)  # from the UpdateCommitted events, in log order
    committed: list[int] = field(default_factory=list)  # the contract's committed bitmap
    commit_digest: str = ""  # the contract's hash chain over the commitments


def _hex(value) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


class TaskChain:
    """One deployed FLTask: the aggregator's address and the clients' addresses and keys by id.

    In `batch` mode (the default) clients sign their registration and each round's commitment
    (EIP-712) and the aggregator relays them `batch_size` at a time (`registerBatch`,
    `commitBatch`); in `direct` mode each client sends `register` and `commitUpdate` itself.
    A round's commitment batches go to the chain from a background thread as soon as they
    fill, so the chain (its own process) works while the next clients train; `flush` sends the
    rest and waits. Reads go through Brownie's contract object, transactions through `Sender`.

    Every signature is bound to the task's experiment id (keccak256(configHash | salt), the
    salt drawn at deploy; see fl.chain.signing). Clients register before round 1 opens
    (the contract refuses later registrations).
    """

    def __init__(self, contract, aggregator: str, commit_mode: str = "batch", batch_size: int = 32,
                 aggregator_key: str | None = None, stats: TxStats | None = None):
        if commit_mode not in COMMIT_MODES:
            raise UserError(f"unknown commit mode {commit_mode!r}; choose one of: {', '.join(COMMIT_MODES)}")
        self.contract = contract
        self.commit_mode = commit_mode
        self.batch_size = batch_size
        self.sender = Sender(contract.address, contract.abi)
        self.aggregator = add_key(aggregator_key) if aggregator_key else str(aggregator)
        self.clients: dict[int, str] = {}  # id -> address
        self.keys: dict[int, str] = {}  # id -> private key
        self.stats = stats or TxStats()  # every transaction of the task, and of its round hooks
        self._pending: dict[int, list[tuple[int, str, bytes]]] = {}  # round -> queued signed commitments
        self._sent: dict[int, list] = {}  # round -> futures of the batches in flight
        self._queued_all: dict[int, dict[int, str]] = {}  # round -> every queued client id -> hash
        self._worker = None
        self._direct: dict[int, CommitOutcome] = {}
        self._domain = None
        self._experiment = None

    # --- setting up -------------------------------------------------------------------------
    @classmethod
    def deploy(cls, config_hash: str, contract_name: str = "FLTask", aggregator_key: str | None = None,
               salt: str | bytes | None = None, **options) -> "TaskChain":
        """Deploy a new task; the deployer is the aggregator: the account of `aggregator_key`, or
        the node's first unlocked account. `salt` (32 bytes) defaults to 32 fresh random bytes
        (os.urandom), which binds every client signature to this one run. `contract_name` picks
        a variant of FLTask (tests deploy mocks to show what `verify` catches)."""
        from brownie import web3
        from eth_account import Account

        container = getattr(load_project(), contract_name)
        if aggregator_key:
            aggregator = Account.from_key(aggregator_key).address
        elif web3.eth.accounts:
            aggregator = web3.eth.accounts[0]
        else:
            raise UserError("the chain has no unlocked account to act as the aggregator; give the aggregator a key")
        salt = os.urandom(32) if salt is None else signing._bytes32(salt)
        if len(salt) != 32 or salt == bytes(32):
            raise UserError(f"the task salt must be 32 bytes, not all zero; got 0x{salt.hex()}")
        stats = TxStats()
        try:
            contract = deploy_contract(container, config_hash, salt, sender=aggregator, key=aggregator_key, stats=stats)
        except ChainRejected as exc:
            raise UserError(exc.reason) from None
        return cls(contract, aggregator, aggregator_key=aggregator_key, stats=stats, **options)

    @classmethod
    def attach(cls, address: str, **options) -> "TaskChain":
        """The task deployed at `address` on the connected chain (to resume or verify a run)."""
        from brownie import Contract, web3

        project = load_project()
        if len(web3.eth.get_code(address)) == 0:
            raise UserError(f"no contract at {address} on this chain")
        contract = Contract.from_abi("FLTask", address, project.FLTask.abi)
        return cls(contract, str(contract.aggregator()), **options)

    @property
    def address(self) -> str:
        return self.contract.address

    @property
    def salt(self) -> str:
        """The run's salt (0x-hex), as the contract holds it."""
        return _hex(self.contract.salt())

    @property
    def experiment_id(self) -> str:
        """The experiment id every signature carries, computed locally and checked against the contract once."""
        if self._experiment is None:
            local = signing.experiment_id(self.config_hash(), self.salt)
            if local != _hex(self.contract.experimentId()):
                raise UserError(f"experiment id of {self.address} is not keccak256(configHash, salt)")
            self._experiment = local
        return self._experiment

    @property
    def domain(self) -> bytes:
        """The EIP-712 domain separator, computed locally and checked against the contract once."""
        if self._domain is None:
            from brownie import chain

            local = signing.domain_separator(chain.id, self.contract.address)
            if local != bytes(self.contract.domainSeparator()):
                raise UserError(f"EIP-712 domain of {self.address} differs from the one computed for chain {chain.id}")
            self._domain = local
        return self._domain

    def _send(self, function: str, *args, sender: str) -> Receipt:
        return counted(lambda: self.sender.send(function, *args, sender=sender), self.stats)

    def register_clients(self, private_keys: list[str]) -> list[int]:
        """Register each key's account; returns the ids the contract gave them, in key order.

        In batch mode each client signs `Register(experiment, client)` and the aggregator relays
        the signatures `batch_size` at a time; in direct mode each client sends `register()`
        itself. Only before round 1 opens: the contract refuses registrations after.
        """
        if self.current_round() != 0:
            raise UserError(f"task {self.address} is past round 1: registration closed when round 1 opened, so "
                            f"{len(private_keys)} more client(s) cannot join")
        addresses = [add_key(key) for key in private_keys]
        if self.commit_mode == "batch":
            pairs = list(zip(addresses, private_keys))
            for start in range(0, len(pairs), self.batch_size):
                chunk = pairs[start:start + self.batch_size]
                signatures = [signing.sign_digest(key, signing.register_digest(self.domain, self.experiment_id, address))
                              for address, key in chunk]
                self._send("registerBatch", [address for address, _ in chunk], signatures, sender=self.aggregator)
        else:
            for address in addresses:
                self._send("register", sender=address)
        return self._adopt(addresses, private_keys)

    def register_signed(self, addresses: list[str], signatures: list[bytes]) -> list[int]:
        """Relay registrations that the clients signed themselves (`Register(experiment, client)`),
        `batch_size` at a time; returns the ids the contract gave them, in order. The aggregator
        never holds these clients' keys: they sign wherever they run (a Flower SuperNode)."""
        if self.current_round() != 0:
            raise UserError(f"task {self.address} is past round 1: registration closed when round 1 opened")
        for address, signature in zip(addresses, signatures):
            digest = signing.register_digest(self.domain, self.experiment_id, address)
            if signing.recover_signer(digest, signature) != address:
                raise UserError(f"client {address}'s registration is not signed by its key (for experiment "
                                f"{self.experiment_id} on task {self.address})")
        for start in range(0, len(addresses), self.batch_size):
            try:
                self._send("registerBatch", addresses[start:start + self.batch_size],
                           signatures[start:start + self.batch_size], sender=self.aggregator)
            except ChainRejected as exc:
                raise UserError(f"the task refused the registrations: {exc.reason}") from None
        ids = []
        for address in addresses:
            client_id = int(self.contract.clientId(address))
            self.clients[client_id] = address
            ids.append(client_id)
        return ids

    def _adopt(self, addresses: list[str], private_keys: list[str]) -> list[int]:
        ids = []
        for address, key in zip(addresses, private_keys):
            client_id = int(self.contract.clientId(address))
            self.clients[client_id] = address
            self.keys[client_id] = key
            ids.append(client_id)
        return ids

    def attach_clients(self, private_keys: list[str]) -> list[int]:
        """The ids of already registered clients, by their keys (registering any that are not)."""
        addresses = [add_key(key) for key in private_keys]
        missing = [key for address, key in zip(addresses, private_keys) if int(self.contract.clientId(address)) == 0]
        if missing:
            self.register_clients(missing)
        return self._adopt(addresses, private_keys)

    # --- one round --------------------------------------------------------------------------
    def open_round(self, round_: int, model_hash: str, selected: list[int]) -> None:
        self._send("openRound", round_, model_hash, bitmap.to_words(selected), sender=self.aggregator)

    def sign_commit(self, client_id: int, round_: int, update_hash: str) -> bytes:
        return signing.sign_digest(self.keys[client_id],
                                   signing.commit_digest(self.domain, self.experiment_id, round_, update_hash))

    def commit(self, client_id: int, round_: int, update_hash: str) -> None:
        """Client `client_id` commits: signs now (batch mode) or sends its own transaction (direct)."""
        if self.commit_mode == "batch":
            start = time.perf_counter()
            signature = self.sign_commit(client_id, round_, update_hash)
            self.stats.add(seconds=time.perf_counter() - start, txs=0)  # signing is part of the chain's cost
            self.relay(round_, client_id, update_hash, signature)
            return
        outcome = self._direct.setdefault(round_, CommitOutcome())
        self._queued_all.setdefault(round_, {})[client_id] = update_hash
        try:
            self._send("commitUpdate", round_, update_hash, sender=self.clients[client_id])
            outcome.accepted[client_id] = update_hash
        except ChainRejected as exc:
            outcome.rejected[client_id] = exc.reason

    def relay(self, round_: int, client_id: int, update_hash: str, signature: bytes) -> None:
        """Queue a signed commitment (from anyone); a full batch goes to the chain in the background."""
        queue = self._pending.setdefault(round_, [])
        queue.append((client_id, update_hash, signature))
        self._queued_all.setdefault(round_, {})[client_id] = update_hash
        if len(queue) >= self.batch_size:
            self._send_batch(round_, self._pending.pop(round_))

    def _send_batch(self, round_: int, chunk: list[tuple[int, str, bytes]]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit-batches")
        self._sent.setdefault(round_, []).append(self._worker.submit(
            self._send, "commitBatch", round_, [c[0] for c in chunk], [c[1] for c in chunk], [c[2] for c in chunk],
            sender=self.aggregator))

    def flush(self, round_: int) -> CommitOutcome:
        """Send the round's remaining commitments, wait for all; what the chain accepted and rejected."""
        outcome = self._direct.pop(round_, CommitOutcome())
        rest = self._pending.pop(round_, [])
        if rest:
            self._send_batch(round_, rest)
        for future in self._sent.pop(round_, []):
            receipt = future.result()
            for event in receipt.events.get("UpdateCommitted", []):
                outcome.accepted[int(event["clientId"])] = _hex(event["updateHash"])
            for event in receipt.events.get("CommitRejected", []):
                outcome.rejected[int(event["clientId"])] = REJECTIONS[int(event["reason"])]
        # A commitment already on chain with the same hash (a round redone after a crash, maybe
        # after its commits were closed) stands.
        queued = self._queued_all.pop(round_, {})
        again = [cid for cid, reason in outcome.rejected.items() if reason.split(":")[0] in REDONE and cid in queued]
        if again:
            on_chain = self.commitments(round_)
            for client_id in again:
                if on_chain.get(client_id) == queued[client_id]:
                    del outcome.rejected[client_id]
                    outcome.accepted[client_id] = queued[client_id]
        return outcome

    def close_commits(self, round_: int) -> None:
        """End round `round_`'s commit phase (its committed set is fixed from then on; a committee
        scores it). Nothing to do where it is closed already (a round redone after a crash)."""
        if self.commits_open(round_):
            self._send("closeCommits", round_, sender=self.aggregator)

    def commits_open(self, round_: int) -> bool:
        return bool(self.contract.commitsOpen(round_))

    def add_round_hook(self, address: str) -> None:
        """Have the task call the contract at `address` at the end of every finalization (before round 1)."""
        self._send("addRoundHook", address, sender=self.aggregator)

    def finalize(self, round_: int, model_hash: str, participants: list[int], weights: list[int],
                 rule_hash: str) -> None:
        order = sorted(range(len(participants)), key=participants.__getitem__)
        self._send("finalizeRound", round_, model_hash, bitmap.to_words(participants),
                   [int(weights[i]) for i in order], rule_hash, sender=self.aggregator)

    # --- reading the chain back -------------------------------------------------------------
    def events_since(self, name: str, from_block: int) -> list:
        """The contract's `name` events from block `from_block` on (web3 log entries, with .args)."""
        return list(getattr(self.sender.contract.events, name).get_logs(from_block=from_block))

    def client_count(self) -> int:
        return int(self.contract.clientCount())

    def commitment_events(self, round_: int, from_block: int = 0) -> list:
        """The UpdateCommitted events of `round_` (from block `from_block` on), in log order."""
        events = self.sender.contract.events.UpdateCommitted
        return list(events.get_logs(from_block=from_block, argument_filters={"round": round_}))

    def commitments(self, round_: int) -> dict[int, str]:
        """Client id -> committed update hash for `round_`, read from the chain's events."""
        return {int(e.args.clientId): _hex(e.args.updateHash) for e in self.commitment_events(round_)}

    def config_hash(self) -> str:
        return _hex(self.contract.configHash())

    def round_hooks(self) -> list[str]:
        return [str(h) for h in self.contract.roundHooks()]

    def current_round(self) -> int:
        return int(self.contract.currentRound())

    def client_address(self, client_id: int) -> str:
        return str(self.contract.clientAt(client_id))

    def round_record(self, round_: int) -> RoundRecord:
        state, start, final, *_ = self.contract.roundInfo(round_)
        weights_hash, rule_hash = self.contract.roundRule(round_)
        selected = bitmap.from_words(self.contract.selectedOf(round_))
        return RoundRecord(round_, RoundState(int(state)), _hex(start), _hex(final), selected,
                           bitmap.from_words(self.contract.participantsOf(round_)), _hex(weights_hash), _hex(rule_hash),
                           commitments=self.commitments(round_),
                           committed=bitmap.from_words(self.contract.committedOf(round_)),
                           commit_digest=_hex(self.contract.roundCommitDigest(round_)))

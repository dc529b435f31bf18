"""The WatermarkRegistry contract driven from Python: FedIPR keys negotiated on chain."""
from __future__ import annotations

from dataclasses import dataclass, field

from fl.chain.contracts import attach, deploy
from fl.chain.task import TaskChain, _hex
from fl.chain.transactions import ChainRejected, TxStats, transact
from fl.core.errors import UserError

ZERO = "0x" + "00" * 32


@dataclass
class KeyRecord:
    """What the registry holds about one key."""
    task: str
    owner: str
    key: bytes
    bits: int


class RegistryChain:
    """One deployed WatermarkRegistry."""

    def __init__(self, contract, stats: TxStats | None = None):
        self.contract = contract
        self.stats = stats or TxStats()

    @classmethod
    def deploy(cls, sender, stats: TxStats | None = None) -> "RegistryChain":
        stats = stats or TxStats()
        return cls(deploy("WatermarkRegistry", sender=sender, stats=stats), stats)

    @classmethod
    def attach(cls, address: str, stats: TxStats | None = None) -> "RegistryChain":
        return cls(attach("WatermarkRegistry", address), stats)

    @property
    def address(self) -> str:
        return self.contract.address

    def settings(self, task: str) -> tuple[int, int]:
        bits, min_distance = self.contract.settingsOf(task)
        return int(bits), int(min_distance)

    def configure(self, task: str, bits: int, min_distance: int, sender) -> None:
        transact(self.contract, "configureTask", task, bits, min_distance, sender=sender, stats=self.stats)

    def negotiate(self, task: str, owner) -> tuple[bytes, int]:
        """Draw `owner`'s key for `task` (from its own account): the key and how often it was re-drawn."""
        receipt = transact(self.contract, "negotiate", task, sender=owner, stats=self.stats)
        key = bytes(receipt.events["WatermarkKeyAssigned"]["key"])
        redraws = len(receipt.events["KeyRedrawn"]) if "KeyRedrawn" in receipt.events else 0
        return key, redraws

    def negotiate_signed(self, owner: str, raw: bytes) -> tuple[bytes, int]:
        """`negotiate` as `owner` signed it where it runs: the key and how often it was re-drawn."""
        from fl.chain.transactions import counted, send_signed

        receipt = counted(lambda: send_signed(self.contract, "negotiate", raw, owner), self.stats)
        key = bytes(receipt.events["WatermarkKeyAssigned"]["key"])
        redraws = len(receipt.events["KeyRedrawn"]) if "KeyRedrawn" in receipt.events else 0
        return key, redraws

    def key_of(self, task: str, owner: str) -> bytes | None:
        key = self.contract.keyOf(task, owner)
        return None if _hex(key) == ZERO else bytes(key)

    def record(self, commitment: str, label: str | None = None) -> KeyRecord:
        """The key committed to by `commitment`; UserError naming `label` (default: the commitment)
        if the registry has no such key."""
        try:
            task, owner, key, bits = self.contract.keyRecord(commitment)
        except Exception:  # the view reverts with UnknownCommitment
            raise UserError(f"{label or f'watermark key commitment {commitment}'} does not exist in the "
                            f"WatermarkRegistry at {self.address}") from None
        return KeyRecord(str(task), str(owner), bytes(key), int(bits))


@dataclass
class NegotiatedKeys:
    registry: str
    keys: dict[int, bytes]  # client id -> key
    redraws: dict[int, int] = field(default_factory=dict)  # client id -> draws rejected as too close
    gas: dict[str, int] = field(default_factory=dict)  # deploy / configure / negotiate (per client id)



def negotiate_call(task: str) -> bytes:
    """The data of `negotiate(task)`: what an owner signs, built where it runs."""
    from eth_abi import encode
    from eth_hash.auto import keccak

    return keccak(b"negotiate(address)")[:4] + encode(["address"], [task])


def negotiate_owner_keys(task: TaskChain, owners: list[int], bits: int, min_distance: int,
                         registry_address: str | None = None, parties=None) -> NegotiatedKeys:
    """Each owner's key for `task`: drawn now from the owner's own account, or, for an owner that
    already has one (a resumed run), read back. Deploys a registry unless `registry_address` is given;
    the registry's gas counts in the task's statistics."""
    stats = task.stats
    before = stats.snapshot()
    registry = (RegistryChain.attach(registry_address, stats) if registry_address
                else RegistryChain.deploy(task.aggregator, stats))
    result = NegotiatedKeys(registry.address, {}, gas={"deploy": stats.since(before).gas})
    settings = registry.settings(task.address)
    if settings == (0, 0):
        before = stats.snapshot()
        registry.configure(task.address, bits, min_distance, task.aggregator)
        result.gas["configure"] = stats.since(before).gas
    elif settings != (bits, min_distance):
        raise UserError(f"the registry at {registry.address} holds task {task.address} with {settings[0]} bits, "
                        f"distance {settings[1]}; the config asks for {bits} bits, distance {min_distance}")
    for client_id in owners:
        account = task.clients[client_id]
        key = registry.key_of(task.address, account)
        if key is None:
            before = stats.snapshot()
            try:
                if parties is None:
                    key, result.redraws[client_id] = registry.negotiate(task.address, account)
                else:  # the owner signs on its own node
                    from fl.chain.transactions import unsigned_fields

                    fields = unsigned_fields(registry.address, account)
                    signed = parties.sign_negotiation(client_id, task.address, fields)
                    if isinstance(signed, str):
                        raise UserError(f"client {client_id} got no watermark key: it did not sign ({signed})")
                    key, result.redraws[client_id] = registry.negotiate_signed(account, signed)
            except ChainRejected as exc:
                raise UserError(f"client {client_id} got no watermark key: {exc.reason}") from None
            result.gas[f"negotiate_client{client_id}"] = stats.since(before).gas
        result.keys[client_id] = key
    return result

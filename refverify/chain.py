"""The chain, read over raw JSON-RPC with the ABI fragments below (VERIFY.md, "What the chain holds").

Nothing is taken from the project's build: every selector and event topic is the keccak-256 of
the signature written here, every return value is decoded with eth_abi.
"""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_keys import keys
from eth_utils import to_checksum_address

from refverify.artifact import keccak


class ChainError(RuntimeError):
    """The node answered with an error, or could not be reached."""


# --- the ABI this verifier reads: views (signature, return types) and events ----------------------
VIEWS = {
    "configHash": ("configHash()", ["bytes32"]),
    "experimentId": ("experimentId()", ["bytes32"]),
    "currentRound": ("currentRound()", ["uint256"]),
    "domainSeparator": ("domainSeparator()", ["bytes32"]),
    "clientAt": ("clientAt(uint256)", ["address"]),
    # roundInfo returns (state, startModelHash, finalModelHash, selectedCount, commitCount,
    # participantCount); only these leading static words are read
    "roundInfo": ("roundInfo(uint256)", ["uint8", "bytes32", "bytes32", "uint256", "uint256", "uint256"]),
    "roundRule": ("roundRule(uint256)", ["bytes32", "bytes32"]),
    "roundCommitDigest": ("roundCommitDigest(uint256)", ["bytes32"]),
    "committedOf": ("committedOf(uint256)", ["uint256[]"]),
    "participantsOf": ("participantsOf(uint256)", ["uint256[]"]),
    "selectedOf": ("selectedOf(uint256)", ["uint256[]"]),
}

#: event signature -> (indexed types, data types), in declaration order of each group
EVENTS = {
    "RoundOpened": ("RoundOpened(uint256,bytes32,uint256[])", ["uint256"], ["bytes32", "uint256[]"]),
    "UpdateCommitted": ("UpdateCommitted(uint256,address,uint256,bytes32)", ["uint256", "address"],
                        ["uint256", "bytes32"]),
    "CommitRejected": ("CommitRejected(uint256,uint256,uint8)", ["uint256", "uint256"], ["uint8"]),
    "RoundFinalized": ("RoundFinalized(uint256,bytes32,uint256[],uint256[],bytes32)", ["uint256"],
                       ["bytes32", "uint256[]", "uint256[]", "bytes32"]),
}

#: the two functions whose transactions carry commitments, with their argument types
COMMIT_UPDATE = ("commitUpdate(uint256,bytes32)", ["uint256", "bytes32"])
COMMIT_BATCH = ("commitBatch(uint256,uint256[],bytes32[],bytes[])", ["uint256", "uint256[]", "bytes32[]", "bytes[]"])

FINALIZED = 2  # roundInfo's state: 0 None, 1 Open, 2 Finalized


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def topic(signature: str) -> str:
    return "0x" + keccak(signature.encode()).hex()


def h32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def bitmap_ids(words) -> list[int]:
    """Ascending client ids of a bitmap: bit id % 256 of word id // 256."""
    return [w * 256 + b for w, word in enumerate(words) for b in range(256) if (int(word) >> b) & 1]


# --- EIP-712 -------------------------------------------------------------------------------------
DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
COMMIT_TYPEHASH = keccak(b"Commit(bytes32 experiment,uint256 round,bytes32 updateHash)")
REGISTER_TYPEHASH = keccak(b"Register(bytes32 experiment,address client)")
NAME, VERSION = b"OnChainFL", b"1"


def domain_separator(chain_id: int, task: str) -> bytes:
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                             [DOMAIN_TYPEHASH, keccak(NAME), keccak(VERSION), chain_id, task]))


def commit_digest(domain: bytes, experiment: bytes, round_: int, update_hash: bytes) -> bytes:
    struct = keccak(abi_encode(["bytes32", "bytes32", "uint256", "bytes32"],
                               [COMMIT_TYPEHASH, experiment, round_, update_hash]))
    return keccak(b"\x19\x01" + domain + struct)


def register_digest(domain: bytes, experiment: bytes, client: str) -> bytes:
    struct = keccak(abi_encode(["bytes32", "bytes32", "address"], [REGISTER_TYPEHASH, experiment, client]))
    return keccak(b"\x19\x01" + domain + struct)


def experiment_id(config_hash: bytes, salt: bytes) -> bytes:
    return keccak(abi_encode(["bytes32", "bytes32"], [config_hash, salt]))


SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def recover(digest: bytes, signature: bytes) -> str | None:
    """The checksummed signer of a 65-byte r | s | v signature (v 27 or 28, s in the lower half
    of the curve order, as OpenZeppelin's ECDSA requires), or None if it is malformed."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if s > SECP256K1_HALF_ORDER or r == 0 or s == 0:
        return None
    try:
        sig = keys.Signature(vrs=(signature[64] - 27, r, s))
        return sig.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except Exception:  # eth_keys raises several types for points off the curve
        return None


def commit_chain(pairs: list[tuple[int, bytes]]) -> bytes:
    """d_0 = 32 zero bytes, d_k = keccak256(d_{k-1} | uint256(clientId_k) | updateHash_k)."""
    digest = bytes(32)
    for client_id, update_hash in pairs:
        digest = keccak(digest + client_id.to_bytes(32, "big") + update_hash)
    return digest


def weights_hash(weights: list[int]) -> bytes:
    """keccak256(abi.encodePacked(uint256[] weights)): the 32-byte big-endian words back to back."""
    return keccak(b"".join(int(w).to_bytes(32, "big") for w in weights))


# --- the node ------------------------------------------------------------------------------------
@dataclass
class Log:
    name: str
    args: dict
    block: int
    index: int
    tx: str


class Node:
    """A JSON-RPC endpoint and the task contract at `address` on it."""

    def __init__(self, url: str, address: str):
        self.url = url
        self.address = to_checksum_address(address)
        self._id = 0
        self._tx: dict[str, dict] = {}

    def rpc(self, method: str, params: list):
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
        except OSError as exc:
            raise ChainError(f"cannot reach {self.url}: {exc}") from None
        if "error" in answer:
            raise ChainError(f"{method}: {answer['error'].get('message', answer['error'])}")
        return answer["result"]

    def chain_id(self) -> int:
        return int(self.rpc("eth_chainId", []), 16)

    def code(self) -> bytes:
        return bytes.fromhex(self.rpc("eth_getCode", [self.address, "latest"])[2:])

    def call(self, view: str, *args):
        signature, returns = VIEWS[view]
        types = signature[signature.index("(") + 1:-1]
        data = selector(signature) + (abi_encode(types.split(","), list(args)) if types else b"")
        raw = bytes.fromhex(self.rpc("eth_call", [{"to": self.address, "data": "0x" + data.hex()}, "latest"])[2:])
        if all(t in ("uint8", "uint256", "bytes32", "address") for t in returns):
            raw = raw[:32 * len(returns)]  # leading static words only: later fields may be added
        values = abi_decode(returns, raw)
        return values[0] if len(values) == 1 else values

    def logs(self, name: str, round_: int | None = None) -> list[Log]:
        signature, indexed, data_types = EVENTS[name]
        topics = [topic(signature)] + ([("0x" + round_.to_bytes(32, "big").hex())] if round_ is not None else [])
        entries = self.rpc("eth_getLogs", [{"address": self.address, "fromBlock": "0x0", "toBlock": "latest",
                                            "topics": topics}])
        field_names = {"RoundOpened": ["round", "globalModelHash", "selected"],
                       "UpdateCommitted": ["round", "client", "clientId", "updateHash"],
                       "CommitRejected": ["round", "clientId", "reason"],
                       "RoundFinalized": ["round", "globalModelHash", "participants", "weights", "ruleHash"]}[name]
        out = []
        for entry in entries:
            values = [abi_decode([t], bytes.fromhex(x[2:]))[0] for t, x in zip(indexed, entry["topics"][1:])]
            values += list(abi_decode(data_types, bytes.fromhex(entry["data"][2:])))
            out.append(Log(name, dict(zip(field_names, values)), int(entry["blockNumber"], 16),
                           int(entry["logIndex"], 16), entry["transactionHash"]))
        return sorted(out, key=lambda log: (log.block, log.index))

    def transaction(self, tx_hash: str) -> dict:
        if tx_hash not in self._tx:
            self._tx[tx_hash] = self.rpc("eth_getTransactionByHash", [tx_hash])
        return self._tx[tx_hash]

    def committer(self, log: Log, domain: bytes, experiment: bytes) -> tuple[str | None, str]:
        """Who committed `log` (an UpdateCommitted): the sender of a commitUpdate transaction, or the
        signer of the matching commitBatch entry; with what was found, in words."""
        tx = self.transaction(log.tx)
        if tx is None:
            return None, f"transaction {log.tx} not found"
        if (tx.get("to") or "").lower() != self.address.lower():
            return None, f"transaction {log.tx} is not a call of the task"
        data = bytes.fromhex(tx["input"][2:])
        head, args = data[:4], data[4:]
        if head == selector(COMMIT_UPDATE[0]):
            return to_checksum_address(tx["from"]), "sender"
        if head == selector(COMMIT_BATCH[0]):
            round_, ids, hashes, signatures = abi_decode(COMMIT_BATCH[1], args)
            for cid, update_hash, signature in zip(ids, hashes, signatures):
                if cid == log.args["clientId"] and bytes(update_hash) == bytes(log.args["updateHash"]):
                    digest = commit_digest(domain, experiment, round_, bytes(update_hash))
                    return recover(digest, bytes(signature)), "signer"
            return None, f"transaction {log.tx} has no batch entry for client {log.args['clientId']}"
        return None, f"transaction {log.tx} calls selector 0x{head.hex()}, neither commitUpdate nor commitBatch"

"""EIP-712 messages: what a client signs so the aggregator can relay its registration and commitments.

Domain: `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`
with name "OnChainFL", version "1", the chain's id and the task's address.

Types:

    Register(bytes32 experiment,address client)
    Commit(bytes32 experiment,uint256 round,bytes32 updateHash)

`experiment` is the task's experiment id, keccak256(abi.encode(configHash, salt)): the
keccak-256 of the 64 bytes config hash | salt, where the salt is 32 random bytes the deployer
drew for the run (os.urandom) and passed to FLTask's constructor. The run folder records both
(chain.json: "salt", "experiment_id"); the salt changes no model or update hash. Digest:
keccak256(0x19 0x01 | domainSeparator | keccak256(abi.encode(typeHash, fields...))), every field
a 32-byte word. A signature is thereby bound to one run (not only one task address: every run
deploys its task from the same account at the same nonce, so addresses repeat across fresh
chains, salts do not), one chain, one round and one update. FLTask checks it with ecrecover
(OpenZeppelin's EIP712 + ECDSA, low-s, v in {27, 28}); `verify` checks it again off chain.
"""
from __future__ import annotations

from eth_abi import encode
from eth_hash.auto import keccak
from eth_keys import keys

DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
COMMIT_TYPEHASH = keccak(b"Commit(bytes32 experiment,uint256 round,bytes32 updateHash)")
REGISTER_TYPEHASH = keccak(b"Register(bytes32 experiment,address client)")
NAME, VERSION = b"OnChainFL", b"1"
#: half the order of secp256k1: OpenZeppelin's ECDSA accepts only s <= HALF_N (no malleable twins)
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _bytes32(value: str | bytes) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def domain_separator(chain_id: int, task_address: str) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                         [DOMAIN_TYPEHASH, keccak(NAME), keccak(VERSION), chain_id, task_address]))


def experiment_id(config_hash: str | bytes, salt: str | bytes) -> str:
    """FLTask's `experimentId`: keccak256(abi.encode(configHash, salt)), as 0x-hex."""
    return "0x" + keccak(_bytes32(config_hash) + _bytes32(salt)).hex()


def commit_digest(domain: bytes, experiment: str | bytes, round_: int, update_hash: str | bytes) -> bytes:
    """The digest of `Commit(experiment, round, updateHash)` in `domain`."""
    struct = keccak(encode(["bytes32", "bytes32", "uint256", "bytes32"],
                           [COMMIT_TYPEHASH, _bytes32(experiment), round_, _bytes32(update_hash)]))
    return keccak(b"\x19\x01" + domain + struct)


def register_digest(domain: bytes, experiment: str | bytes, client: str) -> bytes:
    """The digest of `Register(experiment, client)` in `domain`."""
    struct = keccak(encode(["bytes32", "bytes32", "address"], [REGISTER_TYPEHASH, _bytes32(experiment), client]))
    return keccak(b"\x19\x01" + domain + struct)


def commit_chain(commitments: list[tuple[int, str]]) -> str:
    """FLTask's `roundCommitDigest`: d_k = keccak256(d_{k-1} | clientId_k | updateHash_k), d_0 = 0."""
    digest = bytes(32)
    for client_id, update_hash in commitments:
        digest = keccak(digest + client_id.to_bytes(32, "big") + _bytes32(update_hash))
    return "0x" + digest.hex()


def sign_digest(private_key: str, digest: bytes) -> bytes:
    """65 bytes r | s | v with v in {27, 28}, as ECDSA.recover expects."""
    signature = keys.PrivateKey(_bytes32(private_key)).sign_msg_hash(digest)
    return signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([signature.v + 27])


def recover_signer(digest: bytes, signature: bytes) -> str | None:
    """The checksummed address that signed `digest`, or None for a malformed signature or one in the
    upper half of s (which OpenZeppelin's ECDSA refuses, so neither does the chain accept it)."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    if int.from_bytes(signature[32:64], "big") > HALF_N:
        return None
    try:
        sig = keys.Signature(vrs=(signature[64] - 27, int.from_bytes(signature[:32], "big"),
                                  int.from_bytes(signature[32:64], "big")))
        return sig.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except Exception:  # eth_keys raises several types for invalid points
        return None

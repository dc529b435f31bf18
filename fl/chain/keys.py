"""Deterministic client keys for simulated clients.

Client k of an experiment signs with the key keccak256("onchainfl/client" | seed | k), so the
same seed gives the same addresses and therefore the same on-chain records. These keys are
public knowledge: fine for a simulation on a local chain, never for real funds. A real client
party brings its own key (a Flower SuperNode's key-file; see fl/run/flower/).
"""
from __future__ import annotations

from eth_hash.auto import keccak

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def client_private_key(seed: int, index: int) -> str:
    counter = 0
    while True:
        digest = keccak(b"onchainfl/client" + seed.to_bytes(32, "big") + index.to_bytes(32, "big")
                        + counter.to_bytes(4, "big"))
        value = int.from_bytes(digest, "big")
        if 0 < value < SECP256K1_ORDER:
            return "0x" + digest.hex()
        counter += 1


def client_keys(seed: int, count: int) -> list[str]:
    """The keys of an experiment's simulated clients 0..count-1."""
    return [client_private_key(seed, i) for i in range(count)]

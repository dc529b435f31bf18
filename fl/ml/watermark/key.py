"""What a watermark key determines: its owner's signature bits b and projection matrix M.

FedIPR (Li, Fan, Gu, Li, Yang, "FedIPR: Ownership Verification for Federated Deep Neural
Network Models", IEEE TPAMI 2022), feature-based watermark: owner k embeds N bits
b ∈ {-1, +1}^N into the C scale parameters γ of the model's normalization layers so that
sign(γ·M) = b, with M ∈ R^{C×N} its embedding matrix. Here both are derived from the 32-byte
key that contracts/WatermarkRegistry.sol draws on chain, so the same key always gives the same
b and M, on any machine, in any language:

- b_j = +1 if bit j (least significant first) of the key read as a big-endian integer is 1,
  else -1: the very bits the contract compares when it keeps owners a Hamming distance apart;
- M is seeded by the key: M_ij = +1 or -1 by bit (i·N + j) mod 256 of
  keccak256(key ‖ "M" ‖ uint32((i·N + j) div 256)). No floating-point generator is involved,
  and row i does not depend on C.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from eth_hash.auto import keccak

from fl.core.errors import UserError

KEY_BYTES = 32
MAX_BITS = 8 * KEY_BYTES


def parse_key(value: str | bytes) -> bytes:
    """A key as 32 bytes, from bytes or 0x-hex; UserError naming the value otherwise."""
    if isinstance(value, str):
        text = value[2:] if value.lower().startswith("0x") else value
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise UserError(f"watermark key {value!r} is not hexadecimal") from None
    if len(value) != KEY_BYTES:
        raise UserError(f"watermark key 0x{bytes(value).hex()} has {len(value)} bytes, expected {KEY_BYTES}")
    return bytes(value)


def commitment(key: bytes) -> str:
    """keccak256(key): what the registry and the model token record for a key."""
    return "0x" + keccak(parse_key(key)).hex()


@lru_cache(maxsize=256)
def signature_bits(key: bytes, bits: int) -> torch.Tensor:
    """b ∈ {-1, +1}^bits (float32): bit j of the key, least significant first. Cached: do not modify."""
    if not 0 < bits <= MAX_BITS:
        raise UserError(f"a watermark carries 1 to {MAX_BITS} bits, got {bits}")
    value = int.from_bytes(parse_key(key), "big")
    return torch.tensor([1.0 if (value >> j) & 1 else -1.0 for j in range(bits)], dtype=torch.float32)


@lru_cache(maxsize=256)
def projection(key: bytes, channels: int, bits: int) -> torch.Tensor:
    """M ∈ {-1, +1}^{channels×bits} (float32), read from the key's keccak-256 stream. Cached: do not modify."""
    key = parse_key(key)
    count = channels * bits
    blocks = b"".join(keccak(key + b"M" + i.to_bytes(4, "big")) for i in range((count + 255) // 256))
    # bit k of block i is bit (k mod 8) of byte 31 - k div 8 (the block read as a big-endian integer)
    stream = np.unpackbits(np.frombuffer(blocks, dtype=np.uint8).reshape(-1, 32)[:, ::-1], axis=1,
                           bitorder="little").reshape(-1)[:count]
    signs = stream.astype(np.float32) * 2.0 - 1.0
    return torch.from_numpy(signs.reshape(channels, bits))


@dataclass(frozen=True)
class Watermark:
    """One owner's watermark: its key and how many bits it carries."""
    key: bytes
    bits: int

    @property
    def b(self) -> torch.Tensor:
        return signature_bits(self.key, self.bits)

    def matrix(self, channels: int) -> torch.Tensor:
        return projection(self.key, channels, self.bits)

    @property
    def commitment(self) -> str:
        return commitment(self.key)

"""Content-addressed artifact store: every update and global model, named by its keccak-256.

The hash of an artifact's bytes is exactly what the chain records for it, so anyone holding
the store and the chain can check one against the other.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from fl.core import codec
from fl.core.codec import State
from fl.core.errors import UserError


def hex_hash(digest: bytes) -> str:
    return "0x" + digest.hex()


class ArtifactMissing(UserError):
    """The store holds no artifact of hash `digest`."""

    def __init__(self, digest: str, root: Path):
        super().__init__(f"artifact {digest} is missing from {root}")
        self.digest = digest


class ArtifactTampered(UserError):
    """The file named `digest` hashes to `found`."""

    def __init__(self, digest: str, found: str, path: Path):
        super().__init__(f"artifact {path} is tampered: expected hash {digest}, found {found}")
        self.digest = digest
        self.found = found


class ArtifactStore:
    """A folder of `<0xhash>.safetensors` files."""

    suffix = ".safetensors"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.root / f"{digest}{self.suffix}"

    def put_bytes(self, data: bytes) -> str:
        digest = hex_hash(codec.keccak(data))
        target = self.path(digest)
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return digest

    def put(self, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> str:
        """Store tensors canonically; returns the 0x-prefixed keccak-256 of the bytes."""
        return self.put_bytes(codec.encode(tensors, metadata))

    def get_bytes(self, digest: str) -> bytes:
        """The artifact's bytes, after checking they still hash to `digest` (ArtifactMissing,
        ArtifactTampered otherwise)."""
        target = self.path(digest)
        if not target.exists():
            raise ArtifactMissing(digest, self.root)
        data = target.read_bytes()
        found = hex_hash(codec.keccak(data))
        if found != digest:
            raise ArtifactTampered(digest, found, target)
        return data

    def get(self, digest: str) -> tuple[State, dict[str, str]]:
        """The artifact's tensors and metadata: `get_bytes`, decoded (UserError for malformed bytes)."""
        return codec.decode(self.get_bytes(digest))


def global_metadata(round_: int) -> dict[str, str]:
    """The metadata of the global model artifact after `round_` (0: the start model)."""
    return {"kind": "global", "round": str(round_)}

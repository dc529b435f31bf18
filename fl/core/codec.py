"""Canonical safetensors encoding: the same tensors always give the same bytes.

Layout (the safetensors format, readable by `safetensors.torch.load`): an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor data.
What makes it canonical: tensors are laid out in sorted name order, the header JSON is in
RFC 8785 (JCS) form (fl/core/jcs.py: sorted keys, no spaces) padded with spaces to a multiple of 8
bytes, metadata values are strings, and tensors are stored contiguous in their own dtype (one
of DTYPES).
"""
from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np
import torch
from eth_hash.auto import keccak as _keccak

from fl.core import jcs
from fl.core.errors import UserError

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
          torch.bool: "BOOL"}
_FROM_CODE = {code: dtype for dtype, code in DTYPES.items()}

#: tensors by name: a model's state, a client's update, what an artifact holds
State = dict[str, torch.Tensor]


def keccak(data: bytes) -> bytes:
    """keccak-256, the hash Ethereum uses; what goes on chain for an artifact."""
    return _keccak(data)


def encode(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> bytes:
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach()
        if tensor.dtype not in DTYPES:
            raise TypeError(f"tensor {name!r} has dtype {tensor.dtype}; supported: {sorted(map(str, DTYPES))}")
        raw = tensor.cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = jcs.canonicalize(header)
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def decode(data: bytes) -> tuple[State, dict[str, str]]:
    """Tensors and metadata of an encoded artifact; raises UserError on malformed bytes."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length])
        body = memoryview(data)[8 + length:]
        metadata = header.pop("__metadata__", {}) or {}
        tensors = {}
        for name, info in header.items():
            start, end = info["data_offsets"]
            dtype = _FROM_CODE[info["dtype"]]
            array = np.frombuffer(body[start:end], dtype=torch.empty(0, dtype=dtype).numpy().dtype)
            tensors[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise UserError(f"malformed artifact ({type(exc).__name__}: {exc})") from None
    return tensors, metadata

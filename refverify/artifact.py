"""Safetensors artifacts, parsed and written from VERIFY.md ("Artifacts"), and their keccak-256.

Bytes: an 8-byte little-endian unsigned header length N; N bytes of JSON header (UTF-8,
padded at the end with spaces to a multiple of 8); then the data section. The header maps each
tensor name to {"data_offsets": [begin, end], "dtype": CODE, "shape": [...]}, offsets counted
from the start of the data section, plus an optional "__metadata__" object of string values.
The canonical encoding (what the project writes and what a verifier rebuilds a global model
as): header = JCS of that object (tensor names and metadata are ASCII), tensors laid out
back to back in sorted name order, each little-endian and row-major.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np
from eth_hash.auto import keccak as _keccak

from refverify import jcs

#: safetensors dtype code -> numpy dtype (little-endian)
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
          "U8": np.dtype("u1"), "BOOL": np.dtype("?")}
CODES = {dtype: code for code, dtype in DTYPES.items()}
FLOATING = ("F32", "F64")


class ArtifactError(ValueError):
    """Bytes that are not a well-formed artifact."""


def keccak(data: bytes) -> bytes:
    return _keccak(data)


def hex_hash(data: bytes) -> str:
    """0x-prefixed lowercase keccak-256 of `data`: how a run names an artifact, what the chain records."""
    return "0x" + keccak(data).hex()


@dataclass
class Artifact:
    tensors: dict[str, np.ndarray]
    codes: dict[str, str]  # tensor name -> dtype code
    metadata: dict[str, str] = field(default_factory=dict)


def parse(data: bytes) -> Artifact:
    """The tensors (numpy arrays), dtype codes and metadata of an artifact's bytes."""
    if len(data) < 8:
        raise ArtifactError(f"{len(data)} bytes: too short for the 8-byte header length")
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise ArtifactError(f"header length {length} runs past the end of the {len(data)} bytes")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ArtifactError("header is not a JSON object")
    body = data[8 + length:]
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ArtifactError("__metadata__ is not an object of strings")
    tensors, codes = {}, {}
    for name, info in header.items():
        try:
            code, shape, (begin, end) = info["dtype"], [int(d) for d in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"tensor {name!r}: header entry {info!r} lacks dtype, shape or data_offsets") from None
        if code not in DTYPES:
            raise ArtifactError(f"tensor {name!r}: dtype {code!r} is not one of {', '.join(DTYPES)}")
        dtype = DTYPES[code]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= len(body)) \
                or end - begin != count * dtype.itemsize:
            raise ArtifactError(f"tensor {name!r}: data_offsets {[begin, end]} do not hold shape {shape} of {code}")
        tensors[name] = np.frombuffer(body, dtype=dtype, count=count, offset=begin).reshape(shape).copy()
        codes[name] = code
    return Artifact(tensors, codes, dict(metadata))


def encode(tensors: dict[str, np.ndarray], codes: dict[str, str], metadata: dict[str, str] | None = None) -> bytes:
    """The canonical bytes of `tensors` (each stored as its dtype code in `codes`) and `metadata`."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype=DTYPES[codes[name]]).tobytes()
        header[name] = {"data_offsets": [offset, offset + len(raw)], "dtype": codes[name],
                        "shape": list(np.shape(tensors[name]))}
        chunks.append(raw)
        offset += len(raw)
    text = jcs.canonicalize(header)
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)

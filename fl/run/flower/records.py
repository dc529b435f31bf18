"""Tensors through Flower's records without changing a byte.

A `State` (name -> tensor) travels as an `ArrayRecord` of NumPy arrays (Flower serializes each with
`np.save`, which keeps dtype, shape and bytes); the receiver rebuilds the tensors and re-encodes
them canonically (fl.core.codec), so an update's hash on the server is the hash the client
signed exactly when no byte changed in transit.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from flwr.app import Array, ArrayRecord

from fl.core.codec import State
from fl.core.errors import UserError


def to_record(state: State) -> ArrayRecord:
    record = ArrayRecord()
    for name in sorted(state):
        tensor = state[name].detach().cpu()
        if tensor.dtype == torch.bfloat16:
            raise UserError(f"tensor {name!r} is bfloat16, which NumPy (and so Flower's records) cannot hold")
        record[name] = Array(tensor.contiguous().numpy())
    return record


def from_record(record: ArrayRecord) -> State:
    return {name: torch.from_numpy(np.array(array.numpy(), copy=True)) for name, array in record.items()}


def pack(value) -> bytes:
    """A client's own state between rounds (what an algorithm keeps in `ctx.state`), as bytes for
    Flower's node context."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def unpack(data: bytes):
    return torch.load(io.BytesIO(data), weights_only=False)

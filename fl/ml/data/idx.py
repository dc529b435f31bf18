"""Reader and writer for the IDX format of (Fashion-)MNIST, plain or gzip-compressed."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from fl.core.errors import UserError

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
          0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08}


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
        zero, code, ndim = struct.unpack(">HBB", data[:4])
        if zero != 0 or code not in _TYPES:
            raise ValueError(f"bad magic number {data[:4].hex()}")
        shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
        array = np.frombuffer(data, dtype=_TYPES[code], offset=4 + 4 * ndim)
        if array.size != int(np.prod(shape)):
            raise ValueError(f"header says shape {shape} but the file holds {array.size} values")
    except (OSError, EOFError, ValueError, struct.error) as exc:
        raise UserError(f"{path} is not a valid IDX file: {exc}") from None
    return array.reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array in IDX format (gzip-compressed if the name ends in .gz)."""
    array = np.ascontiguousarray(array)
    header = struct.pack(">HBB", 0, _CODES[array.dtype], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        fh.write(header + array.tobytes())

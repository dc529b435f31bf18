"""Canonical encoding and the content-addressed store: same tensors, same bytes, same hash."""
import pytest
import torch
from safetensors.torch import load as safetensors_load

from fl.core import codec
from fl.core.errors import UserError
from fl.core.store import ArtifactStore

TENSORS = {"b.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "a.bias": torch.tensor([0.5, -1.0]),
           "n": torch.tensor(3)}


def test_keccak_matches_ethereum():
    assert codec.keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_encoding_ignores_insertion_order():
    reordered = {k: TENSORS[k] for k in reversed(list(TENSORS))}
    assert codec.encode(TENSORS, {"round": "1"}) == codec.encode(reordered, {"round": "1"})


def test_encoding_is_standard_safetensors():
    loaded = safetensors_load(codec.encode(TENSORS))
    assert set(loaded) == set(TENSORS)
    assert all(torch.equal(loaded[k], TENSORS[k]) for k in TENSORS)


def test_decode_round_trips_tensors_and_metadata():
    tensors, metadata = codec.decode(codec.encode(TENSORS, {"kind": "update", "client": "2"}))
    assert metadata == {"kind": "update", "client": "2"}
    assert all(torch.equal(tensors[k], TENSORS[k]) and tensors[k].dtype == TENSORS[k].dtype for k in TENSORS)


def test_any_change_changes_the_hash(tmp_path):
    store = ArtifactStore(tmp_path)
    base = store.put(TENSORS)
    nudged = dict(TENSORS, **{"a.bias": torch.tensor([0.5, -1.0000001])})
    assert store.put(nudged) != base
    assert store.put(TENSORS, {"round": "2"}) != base
    assert store.put(TENSORS) == base


def test_store_names_files_by_their_keccak(tmp_path):
    store = ArtifactStore(tmp_path)
    digest = store.put(TENSORS)
    data = (tmp_path / f"{digest}.safetensors").read_bytes()
    assert digest == "0x" + codec.keccak(data).hex()


def test_store_detects_a_tampered_file(tmp_path):
    store = ArtifactStore(tmp_path)
    digest = store.put(TENSORS)
    path = store.path(digest)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=f"tampered: expected hash {digest}, found 0x"):
        store.get(digest)


def test_store_reports_a_missing_artifact(tmp_path):
    with pytest.raises(UserError, match="artifact 0xabc is missing"):
        ArtifactStore(tmp_path).get("0xabc")


def test_unsupported_dtype_is_refused():
    with pytest.raises(TypeError, match="float16"):
        codec.encode({"x": torch.zeros(1, dtype=torch.float16)})


def test_malformed_bytes_are_a_clear_error():
    with pytest.raises(UserError, match="malformed artifact"):
        codec.decode(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")

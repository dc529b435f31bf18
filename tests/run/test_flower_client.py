"""What a Flower party holds itself, checked before it trains: its key and its partition; no
Flower runtime or chain needed."""
from types import SimpleNamespace

import pytest

from fl.chain.keys import client_private_key
from fl.core import config
from fl.core.errors import UserError
from fl.run.flower import client
from fl.run.flower.protocol import NODE, SEEDED, Task
from fl.run.flower.protocol import error_line


def task(keys: str) -> Task:
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "seed": 7})
    return Task(config.to_yaml(cfg), bytes(32), "0x" + "11" * 32, keys, 1)


def test_a_simulated_party_signs_with_the_seeds_key_of_its_partition():
    assert client.private_key(task(SEEDED), 2, {}) == client_private_key(7, 2)


def test_a_supernode_without_a_key_is_one_clear_line():
    with pytest.raises(UserError, match="this SuperNode has no Ethereum key: start it with --node-config") as info:
        client.private_key(task(NODE), 0, {"partition-id": 0})
    assert "\n" not in str(info.value)


def test_a_supernode_key_file_must_hold_a_private_key(tmp_path):
    bad = tmp_path / "key"
    bad.write_text("not a key\n")
    with pytest.raises(UserError, match=f"key-file {bad} does not hold a 0x-prefixed 32-byte private key"):
        client.private_key(task(NODE), 0, {"key-file": str(bad)})
    with pytest.raises(UserError, match="cannot be read"):
        client.private_key(task(NODE), 0, {"key-file": str(tmp_path / "missing")})
    good = tmp_path / "good"
    good.write_text("0x" + "ab" * 32 + "\n")
    assert client.private_key(task(NODE), 0, {"key-file": str(good)}) == "0x" + "ab" * 32


@pytest.mark.parametrize("node_config, message", [
    ({}, "no partition-id in its node config"),
    ({"partition-id": 3}, r"partition-id 3 is out of range: the run has 3 clients \(0..2\)"),
])
def test_a_supernodes_partition_must_be_one_of_the_runs(node_config, message):
    with pytest.raises(UserError, match=message):
        client.partition_of(node_config, 3)


def test_a_nodes_error_reply_is_reported_by_its_last_line():
    reply = SimpleNamespace(error=SimpleNamespace(code=2, reason="Traceback ...\n  File x\nUserError: no key here\n"))
    assert error_line(reply) == "UserError: no key here"


def test_a_deployment_refuses_a_config_whose_chain_network_it_would_not_use(tmp_path):
    from fl.run.flower.server_app import serve

    cfg = config.build(None, {"data.name": "synthetic-images", "chain.network": "anvil-local",
                              "output.runs_dir": str(tmp_path), "output.run_name": "run"})
    path = tmp_path / "config.yaml"
    path.write_text(config.to_yaml(cfg))
    with pytest.raises(UserError, match="chain.network 'anvil-local' would not be used: leave it unset"):
        serve(None, {"config": str(path), "rpc": "http://127.0.0.1:1"})
    assert not (tmp_path / "run").exists()

"""A real Flower 1.41 deployment on loopback (TLS, SuperNode authentication), no chain:
fl.run.flower.processes starts the SuperLink and SuperNodes, `flwr run` runs tests/run/flower_echo_app."""
import json
from pathlib import Path

import pytest

from fl.core.errors import UserError
from fl.run.flower import certificates
from fl.run.flower.processes import Deployment, free_port

REPO = Path(__file__).resolve().parents[2]
ECHO_APP = Path(__file__).parent / "flower_echo_app"


@pytest.fixture
def pki(tmp_path):
    tls = certificates.make_tls(tmp_path / "pki")
    keys = certificates.make_nodes_keys(tmp_path / "pki" / "nodes", ["node0", "node1", "intruder"])
    certificates.write_allow_list(tmp_path / "pki" / "allow.csv", keys[:2])
    return tls, keys


def test_certificates_formats(pki):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    tls, keys = pki
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(tls.server_cert.read_bytes())
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    private = serialization.load_ssh_private_key(keys[0].private_key.read_bytes(), None)
    assert private.curve.name == "secp384r1"
    assert keys[0].public_key.read_text().startswith("ecdsa-sha2-nistp384 ")
    allowed = certificates.read_allow_list(tls.ca_cert.parent / "allow.csv")
    assert [name for name, _ in allowed] == ["node0", "node1"]


def test_one_round_with_tls_and_auth(tmp_path, pki):
    tls, keys = pki
    secrets = []
    for i in range(2):
        secrets.append(tmp_path / f"secret {i}.txt")  # a path with a space
        secrets[-1].write_text(f"secret-of-{i}\n")
    out = tmp_path / "out.json"
    with Deployment(tmp_path / "dep", tls, pythonpath=[REPO]) as dep:
        dep.start_superlink()
        nodes = dep.start_supernodes(
            [(keys[i], {"partition-id": i, "secret-file": str(secrets[i])}) for i in range(2)]
        )
        result = dep.run(ECHO_APP, {"num-nodes": 2, "out-file": str(out)})
    assert result.ok, result
    data = json.loads(out.read_text())
    assert sorted(data["nodes"]) == sorted(n.node_id for n in nodes)
    replies = {r["node_id"]: r for r in data["rounds"][0]["replies"]}
    for i, node in enumerate(nodes):
        reply = replies[node.node_id]
        assert reply["error"] is None
        assert reply["metrics"]["partition-id"] == i
        assert reply["metrics"]["secret"] == f"secret-of-{i}"
        assert reply["metrics"]["node-id"] == node.node_id
        assert reply["metrics"]["repo"].startswith(str(REPO))
        assert reply["array"] == [1.0 + i] * 3
    assert all(not n.alive() for n in [dep.superlink, *nodes])


def test_supernode_not_on_allow_list_is_refused(tmp_path, pki):
    tls, keys = pki
    with Deployment(tmp_path / "dep", tls) as dep:
        dep.start_superlink()
        dep.start_supernode(keys[0], {"partition-id": 0})
        with pytest.raises(UserError, match="refused by the SuperLink"):
            dep.start_supernode(keys[2], {"partition-id": 9}, register=False, timeout=20)
        intruder = dep.supernodes[-1]
        assert intruder.popen.returncode == 1
        assert "Failed to activate SuperNode" in intruder.log.read_text()


def test_superlink_unreachable(tmp_path, pki):
    tls, keys = pki
    dead = f"127.0.0.1:{free_port()}"
    with Deployment(tmp_path / "dep", tls) as dep:
        with pytest.raises(UserError, match="no SuperLink started"):
            dep.run(ECHO_APP)
        with pytest.raises(UserError, match="could not reach the SuperLink"):
            dep.start_supernode(keys[0], {"partition-id": 0}, superlink_address=dead,
                                max_wait_time=2, timeout=20)

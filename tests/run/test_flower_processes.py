"""The processes of a Flower deployment on loopback (TLS, SuperNode authentication), no chain:
the certificates and keys fl.run.flower.certificates makes, a SuperNode whose key is not on the
allow list, an unreachable SuperLink. (tests/run/test_flower_federation.py runs a whole one.)"""
from pathlib import Path

import pytest

from fl.core.errors import UserError
from fl.run.flower import certificates
from fl.run.flower.processes import Deployment, free_port

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "fl" / "run" / "flower" / "app"


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


def test_the_superlink_speaks_tls_with_the_certificate_the_ca_signed(tmp_path, pki):
    import socket
    import ssl

    tls, _ = pki
    with Deployment(tmp_path / "dep", tls) as dep:
        link = dep.start_superlink()
        trusting = ssl.create_default_context(cafile=str(tls.ca_cert))
        trusting.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", link.port), timeout=5) as raw:
            with trusting.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
                assert conn.version() in ("TLSv1.2", "TLSv1.3")
        with socket.create_connection(("127.0.0.1", link.port), timeout=5) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


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
            dep.run(APP)
        with pytest.raises(UserError, match="could not reach the SuperLink"):
            dep.start_supernode(keys[0], {"partition-id": 0}, superlink_address=dead,
                                max_wait_time=2, timeout=20)

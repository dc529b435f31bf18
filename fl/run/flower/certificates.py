"""TLS certificates and SuperNode authentication keys for a Flower 1.41 deployment on loopback.

Made with `cryptography` only (no openssl, no ssh-keygen):

- a self-signed CA (`ca.crt`, `ca.key`), given to every SuperNode (`--root-certificates`), to the
  SuperLink (`--ssl-ca-certfile`) and to `flwr` (`root-certificates` in its connection config);
- a server certificate for 127.0.0.1 / ::1 / localhost signed by that CA (`server.pem`,
  `server.key`), for the SuperLink (`--ssl-certfile`, `--ssl-keyfile`);
- per-SuperNode authentication key pairs in the format Flower 1.41 wants: an EC key on a NIST
  curve (P-384 here), the private key in OpenSSH format (`--auth-supernode-private-key`, read by
  `load_ssh_private_key`, no passphrase) and the public key as one OpenSSH line
  (`ecdsa-sha2-nistp384 AAAA...`, what `flwr supernode register KEY.pub` reads);
- the allow list. Flower 1.41 has no allow-list file any more (`--auth-list-public-keys` is refused
  by the SuperLink): a SuperLink started with `--enable-supernode-auth` accepts the SuperNodes whose
  public keys were registered with `flwr supernode register`. `write_allow_list` writes the public
  keys one per line (`name,ssh-public-key`), which `processes.register_supernodes` feeds to that
  command; it is also the record of who was allowed.
"""
from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_DAYS = 30


@dataclass(frozen=True)
class TlsFiles:
    """The files of `make_tls`: the CA's certificate and key, the server's certificate and key."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True)
class NodeKeys:
    """One SuperNode's authentication key pair: OpenSSH private key file and `.pub` line file."""

    name: str
    private_key: Path
    public_key: Path


def _write_private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(folder: Path, common_name: str = "OnChainFL test CA") -> tuple[Path, Path]:
    """Write a self-signed CA certificate and its key (`ca.crt`, `ca.key`, PEM) into folder.

    Returns (certificate path, key path).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "ca.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = _write_private(folder / "ca.key", _pem_key(key))
    return cert_path, key_path


def make_server_certificate(
    folder: Path,
    ca_cert: Path,
    ca_key: Path,
    hosts: tuple[str, ...] = ("127.0.0.1", "::1", "localhost"),
) -> tuple[Path, Path]:
    """Write a server certificate for hosts (IPs and DNS names as SANs) signed by the CA.

    Files `server.pem` and `server.key` (PEM) in folder. Returns (certificate path, key path).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    ca_private = serialization.load_pem_private_key(Path(ca_key).read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP384R1())
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_private.public_key()),
            critical=False,
        )
        .sign(ca_private, hashes.SHA256())
    )
    cert_path = folder / "server.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = _write_private(folder / "server.key", _pem_key(key))
    return cert_path, key_path


def make_tls(folder: Path) -> TlsFiles:
    """make_ca + make_server_certificate for loopback, into folder."""
    ca_cert, ca_key = make_ca(folder)
    server_cert, server_key = make_server_certificate(folder, ca_cert, ca_key)
    return TlsFiles(ca_cert, ca_key, server_cert, server_key)


def make_node_keys(folder: Path, name: str) -> NodeKeys:
    """Write one SuperNode's authentication key pair (EC P-384) into folder.

    `<name>` holds the private key in OpenSSH format (no passphrase) for
    `flower-supernode --auth-supernode-private-key`; `<name>.pub` the OpenSSH public key line
    (`ecdsa-sha2-nistp384 AAAA... <name>`) for `flwr supernode register`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    private_path = _write_private(
        folder / name,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ),
    )
    public_line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    public_path = folder / f"{name}.pub"
    public_path.write_bytes(public_line + f" {name}\n".encode())
    return NodeKeys(name, private_path, public_path)


def make_nodes_keys(folder: Path, names: list[str]) -> list[NodeKeys]:
    """make_node_keys for each name, in order."""
    return [make_node_keys(folder, name) for name in names]


def write_allow_list(path: Path, nodes: list[NodeKeys]) -> Path:
    """Write the allowed SuperNodes as `name,<OpenSSH public key>` lines; returns path.

    Flower 1.41 reads no such file itself: `processes.register_supernodes` registers each line's
    key with `flwr supernode register` on the running SuperLink (`--enable-supernode-auth`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for node in nodes:
        key = " ".join(node.public_key.read_text().split()[:2])
        lines.append(f"{node.name},{key}")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_allow_list(path: Path) -> list[tuple[str, str]]:
    """The (name, OpenSSH public key) pairs of an allow-list file written by write_allow_list."""
    pairs = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            name, _, key = line.partition(",")
            pairs.append((name.strip(), key.strip()))
    return pairs

"""Off-chain signature recovery refuses what the contract refuses (pure Python, no chain)."""
from eth_keys import keys

from fl.chain import signing

KEY = "0x" + "11" * 32
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_a_signature_recovers_its_signer():
    digest = bytes(range(32))
    signature = signing.sign_digest(KEY, digest)
    assert signing.recover_signer(digest, signature) == keys.PrivateKey(bytes.fromhex("11" * 32)).public_key \
        .to_checksum_address()


def test_the_malleable_twin_of_a_signature_is_refused():
    """(r, n - s, v ^ 1) recovers the same key mathematically; OpenZeppelin's ECDSA rejects it, and so must verify."""
    digest = bytes(range(32))
    signature = signing.sign_digest(KEY, digest)
    s = int.from_bytes(signature[32:64], "big")
    twin = signature[:32] + (N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    assert keys.Signature(vrs=(twin[64] - 27, int.from_bytes(twin[:32], "big"), N - s)) \
        .recover_public_key_from_msg_hash(digest).to_checksum_address() == signing.recover_signer(digest, signature)
    assert signing.recover_signer(digest, twin) is None

"""Ed25519 device keys and their fingerprints."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from fieldkit.crypto.minisign import key_id_for, key_id_hex


def new_signing_key() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key as (32-byte private seed, 32-byte public key)."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return seed, public_bytes(key)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_private(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(public_key: bytes) -> str:
    """The key's one printed identity: its minisign key id (16 hex digits).

    The same id is in the device's minisign public key file, in every signature it makes, in the
    coordinator's trust list and in report footers, so people compare one string everywhere.
    """
    return key_id_hex(key_id_for(public_key))

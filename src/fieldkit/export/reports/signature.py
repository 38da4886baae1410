"""The detached signature written beside a report: ``FILE.pdf.minisig``, made with the device key.

It uses the minisign format, so anyone can check a printed report's file with the standard tool
alone: ``minisign -Vm FILE.pdf -p device.pub``. When the shared implementation in
``fieldkit.crypto.minisign`` is present it is used, so reports and bundles sign the same way;
otherwise the small local version below writes the same format (prehashed Ed25519, "ED").
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _shared() -> Any | None:
    try:
        return importlib.import_module("fieldkit.crypto.minisign")
    except ImportError:
        return None


def key_id(public_key: bytes) -> bytes:
    """The 8-byte minisign key id of a device public key (stable, derived from the key)."""
    shared = _shared()
    if shared is not None and hasattr(shared, "key_id"):
        return bytes(shared.key_id(public_key))
    return hashlib.sha256(b"fieldkit/minisign-key-id/v1" + public_key).digest()[:8]


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_detached(data: bytes, private_key: Ed25519PrivateKey, trusted_comment: str) -> bytes:
    """A minisign signature file over ``data``; ``trusted_comment`` is signed too (one line)."""
    comment = trusted_comment.replace("\r", " ").replace("\n", " ")
    shared = _shared()
    if shared is not None and hasattr(shared, "sign_detached"):
        return bytes(shared.sign_detached(data, private_key, trusted_comment=comment))
    public = _raw_public(private_key)
    kid = key_id(public)
    digest = hashlib.blake2b(data, digest_size=64).digest()
    signature = private_key.sign(digest)
    global_signature = private_key.sign(signature + comment.encode("utf-8"))
    lines = [
        "untrusted comment: signature from fieldkit device key",
        base64.b64encode(b"ED" + kid + signature).decode("ascii"),
        f"trusted comment: {comment}",
        base64.b64encode(global_signature).decode("ascii"),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def public_key_text(public_key: bytes) -> str:
    """The device public key in minisign's public-key file format (two lines)."""
    shared = _shared()
    if shared is not None and hasattr(shared, "public_key_text"):
        return str(shared.public_key_text(public_key))
    kid = key_id(public_key)
    return (
        f"untrusted comment: minisign public key {kid[::-1].hex().upper()}\n"
        + base64.b64encode(b"Ed" + kid + public_key).decode("ascii")
        + "\n"
    )

"""The detached signature written beside a report: ``FILE.pdf.minisig``, made with the device key.

It is the minisign format (``fieldkit.crypto.minisign``, shared with bundles), so anyone can check a
report's file with the standard tool alone: ``minisign -Vm FILE.pdf -p device.pub``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.crypto.minisign import MinisignPublicKey, key_id_for, sign


def sign_detached(data: bytes, private_key: Ed25519PrivateKey, trusted_comment: str) -> bytes:
    """A minisign signature file over ``data``; the one-line ``trusted_comment`` is signed too."""
    comment = " ".join(trusted_comment.split())
    return sign(
        private_key,
        data,
        trusted_comment=comment,
        untrusted_comment="signature from fieldkit device key",
    ).file_bytes()


def public_key_text(public_key: bytes) -> str:
    """The device public key in minisign's public-key file format (two lines)."""
    return MinisignPublicKey(key_id_for(public_key), public_key).file_text()

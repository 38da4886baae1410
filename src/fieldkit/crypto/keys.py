"""The key file: the random master key wrapped under the passphrase-derived key.

The file is small JSON so it can be inspected and backed up. The KDF parameters and the profile id
are bound to the wrapped key as associated data, and a checksum over the whole content tells a
damaged file apart from a wrong passphrase.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fieldkit.crypto.kdf import KdfParams, derive_key

KEYFILE_FORMAT = "fieldkit-keyfile"
KEYFILE_VERSION = 1
MASTER_KEY_BYTES = 32


class KeyFileDamaged(Exception):
    """The key file cannot be parsed or its checksum does not match."""


class WrongPassphrase(Exception):
    """The key file is intact but the passphrase does not unwrap it."""


@dataclass(frozen=True)
class KeyFile:
    profile_id: str
    kdf: KdfParams
    nonce: bytes
    wrapped_master_key: bytes

    def _associated_data(self) -> bytes:
        header = {
            "format": KEYFILE_FORMAT,
            "version": KEYFILE_VERSION,
            "profile_id": self.profile_id,
            "kdf": self.kdf.to_dict(),
        }
        return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def wrap(
        cls, master_key: bytes | bytearray, passphrase: str, profile_id: str, kdf: KdfParams
    ) -> KeyFile:
        kek = derive_key(passphrase, kdf)
        nonce = os.urandom(12)
        draft = cls(profile_id=profile_id, kdf=kdf, nonce=nonce, wrapped_master_key=b"")
        wrapped = ChaCha20Poly1305(kek).encrypt(nonce, bytes(master_key), draft._associated_data())
        return cls(profile_id=profile_id, kdf=kdf, nonce=nonce, wrapped_master_key=wrapped)

    def unwrap(self, passphrase: str) -> bytearray:
        kek = derive_key(passphrase, self.kdf)
        try:
            plain = ChaCha20Poly1305(kek).decrypt(
                self.nonce, self.wrapped_master_key, self._associated_data()
            )
        except InvalidTag:
            raise WrongPassphrase() from None
        return bytearray(plain)

    def to_bytes(self) -> bytes:
        body = {
            "format": KEYFILE_FORMAT,
            "version": KEYFILE_VERSION,
            "profile_id": self.profile_id,
            "kdf": self.kdf.to_dict(),
            "wrap": {
                "algorithm": "chacha20-poly1305",
                "nonce": self.nonce.hex(),
                "ciphertext": self.wrapped_master_key.hex(),
            },
        }
        body["checksum"] = _checksum(body)
        return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeyFile:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeyFileDamaged("not readable JSON") from exc
        if not isinstance(body, dict):
            raise KeyFileDamaged("unexpected content")
        if body.get("format") != KEYFILE_FORMAT:
            raise KeyFileDamaged("not a fieldkit key file")
        if body.get("version") != KEYFILE_VERSION:
            raise KeyFileDamaged(f"unsupported version {body.get('version')!r}")
        checksum = body.pop("checksum", None)
        if checksum != _checksum(body):
            raise KeyFileDamaged("checksum mismatch")
        try:
            wrap = body["wrap"]
            if wrap["algorithm"] != "chacha20-poly1305":
                raise KeyFileDamaged("unknown wrapping algorithm")
            return cls(
                profile_id=str(body["profile_id"]),
                kdf=KdfParams.from_dict(body["kdf"]),
                nonce=bytes.fromhex(wrap["nonce"]),
                wrapped_master_key=bytes.fromhex(wrap["ciphertext"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileDamaged(f"missing or invalid field ({exc})") from exc


def _checksum(body: dict[str, object]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def new_master_key() -> bytearray:
    return bytearray(os.urandom(MASTER_KEY_BYTES))


def derive_subkey(master_key: bytes | bytearray, purpose: str, length: int = 32) -> bytes:
    """Independent keys per purpose: HKDF-SHA256(master key, info="fieldkit/<purpose>/v1")."""
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=f"fieldkit/{purpose}/v1".encode()
    ).derive(bytes(master_key))

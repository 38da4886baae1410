"""Key slots: the hub's master key wrapped for each person, and the invitation that carries a
new person's slot key from the coordinator to them.

A person's key file (``keyfile`` in their profile folder, the same format as every profile's)
wraps a random **slot key** under their own passphrase (Argon2id). Their row in ``hub_people``
holds the master key wrapped under that slot key (ChaCha20-Poly1305, the hub, the label and the
role as associated data). Unlocking needs both: the key file opens the slot key, the row opens
the master key. Revoking destroys the row's wrapped key, so the key file alone opens nothing more.

The invitation a coordinator writes holds the slot key and the database password wrapped under a
one-time code (Argon2id again), given to the person in person; with it the person chooses their
own passphrase and the invitation is no longer needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.keys import KeyFile, KeyFileDamaged, WrongPassphrase, derive_subkey
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role

INVITATION_FORMAT = "fieldkit-hub-invitation"
INVITATION_SUFFIX = ".fkinvite"
LOGIN_PURPOSE = "hub-login"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_GROUPS = 5


@dataclass(frozen=True)
class HubPerson:
    """A person other than the hub's creator, as their own unlocking found them."""

    label: str
    role: Role
    db_role: str
    device_id: str
    device_public_key: bytes
    device_seed: bytes


def _ad(profile_id: str, label: str, role: str, what: str) -> bytes:
    return f"fieldkit-hub-slot/v1/{profile_id}/{label}/{role}/{what}".encode()


def wrap(key: bytes, secret: bytes, profile_id: str, label: str, role: str, what: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + ChaCha20Poly1305(key).encrypt(
        nonce, bytes(secret), _ad(profile_id, label, role, what)
    )


def unwrap(key: bytes, blob: bytes, profile_id: str, label: str, role: str, what: str) -> bytes:
    return ChaCha20Poly1305(key).decrypt(blob[:12], blob[12:], _ad(profile_id, label, role, what))


def seal_login(slot_key: bytes, profile_id: str, label: str, password: str) -> str:
    key = derive_subkey(slot_key, LOGIN_PURPOSE)
    return wrap(key, password.encode(), profile_id, label, "", "login").hex()


def open_login(slot_key: bytes, profile_id: str, label: str, sealed: str) -> str:
    key = derive_subkey(slot_key, LOGIN_PURPOSE)
    try:
        return unwrap(key, bytes.fromhex(sealed), profile_id, label, "", "login").decode()
    except (InvalidTag, ValueError):
        raise FieldkitError(
            ErrorCode.KEYFILE_DAMAGED, path=label, reason="the hub login does not open"
        ) from None


def new_code() -> str:
    """A one-time code of 25 letters and digits (125 bits), read out or written down."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * 5))
    return "-".join(chars[i : i + 5] for i in range(0, len(chars), 5))


def normalised_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 5] for i in range(0, len(cleaned), 5))


@dataclass(frozen=True)
class Invitation:
    profile_id: str
    label: str
    role: Role
    db_role: str
    key: KeyFile  # the slot key wrapped under the one-time code
    login: str  # the database password sealed under the slot key

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "format": INVITATION_FORMAT,
            "version": 1,
            "hub": self.profile_id,
            "label": self.label,
            "role": self.role.value,
            "db_role": self.db_role,
            "key": self.key.to_bytes().decode(),
            "login": self.login,
        }
        body["checksum"] = _checksum(body)
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def read(cls, path: Path) -> Invitation:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise FieldkitError(
                ErrorCode.FILE_NOT_READABLE, path=str(path), reason=exc.strerror or str(exc)
            ) from exc
        try:
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict) or body.get("format") != INVITATION_FORMAT:
                raise ValueError("not a fieldkit hub invitation")
            if body.get("version") != 1:
                raise ValueError(f"unsupported version {body.get('version')!r}")
            checksum = body.pop("checksum", None)
            if checksum != _checksum(body):
                raise ValueError("checksum mismatch (damaged or altered)")
            return cls(
                profile_id=str(body["hub"]),
                label=str(body["label"]),
                role=Role(body["role"]),
                db_role=str(body["db_role"]),
                key=KeyFile.from_bytes(str(body["key"]).encode()),
                login=str(body["login"]),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, KeyFileDamaged) as exc:
            raise FieldkitError(
                ErrorCode.HUB_INVITATION_INVALID, path=str(path), reason=str(exc)
            ) from exc

    def open(self, code: str) -> bytearray:
        """The slot key, with the code given in person."""
        try:
            return self.key.unwrap(normalised_code(code))
        except WrongPassphrase:
            raise FieldkitError(ErrorCode.HUB_CODE_WRONG) from None


def make_invitation(
    slot_key: bytes,
    code: str,
    profile_id: str,
    label: str,
    role: Role,
    db_role: str,
    password: str,
    kdf: KdfParams,
) -> Invitation:
    return Invitation(
        profile_id=profile_id,
        label=label,
        role=role,
        db_role=db_role,
        key=KeyFile.wrap(slot_key, normalised_code(code), profile_id, kdf),
        login=seal_login(slot_key, profile_id, label, password),
    )


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def open_slot(
    conn: Connection, profile_id: str, label: str, slot_key: bytes
) -> tuple[bytearray, HubPerson]:
    """The master key and the person, from the person's row; revoked or unknown: refused."""
    try:
        row = conn.execute(
            text(
                "SELECT role, db_role, slot, device_id, device_public_key, device_seed "
                "FROM hub_people WHERE label = :label"
            ),
            {"label": label},
        ).first()
    except ProgrammingError:
        # A role revoked from its group may not read the table at all.
        raise FieldkitError(ErrorCode.HUB_ACCESS_REVOKED, label=label) from None
    if row is None or row.slot is None or row.device_seed is None:
        raise FieldkitError(ErrorCode.HUB_ACCESS_REVOKED, label=label)
    try:
        master = unwrap(slot_key, bytes(row.slot), profile_id, label, row.role, "master")
        seed = unwrap(slot_key, bytes(row.device_seed), profile_id, label, row.role, "device")
    except InvalidTag:
        raise FieldkitError(
            ErrorCode.DATABASE_DAMAGED,
            path="hub_people",
            reason=f"the key slot of {label} does not open with this key file",
        ) from None
    person = HubPerson(
        label=label,
        role=Role(row.role),
        db_role=str(row.db_role),
        device_id=str(row.device_id),
        device_public_key=bytes(row.device_public_key),
        device_seed=seed,
    )
    return bytearray(master), person

"""Lawyers: their keys, their enrolment with the organisation, the coordinator's list of them.

Lawyer: ``enrol_counsel`` keeps the organisation card and writes the lawyer's key file, which
carries two public keys: the Ed25519 key of the profile (it signs the file) and the X25519 (age)
key that case packages are encrypted to. The age identity is derived from the profile's master
key, so it exists only inside the unlocked profile; ``export_identity`` writes it in age's format
for checking a package with ``age`` alone. Coordinator: ``add_counsel``, ``list_counsel``,
``revoke_counsel``. Both sides print the same comparison code, over both of the lawyer's keys and
the organisation's signing key.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.age import (
    AgeKeyError,
    X25519Identity,
    X25519Recipient,
    identity_file_text,
)
from fieldkit.crypto.canonical_json import StrictJSONError, canonical_dumps, strict_loads
from fieldkit.crypto.minisign import MinisignError, MinisignPublicKey
from fieldkit.crypto.safetynumber import counsel_comparison_code
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name
from fieldkit.services.roles import require_role
from fieldkit.services.trust import (
    MAX_CARD_BYTES,
    device_public_key,
    org_public_key,
    parse_card,
    store_enrolment,
)
from fieldkit.services.trust.card import _read_small, _write_new
from fieldkit.storage.audit import utc_now
from fieldkit.storage.tables.bundles import Enrolment
from fieldkit.storage.tables.counsel import TrustedCounsel
from fieldkit.storage.vault import Vault

KEY_FORMAT = "fieldkit-counsel-key/1"
KEY_CONTEXT = b"fieldkit-counsel-key/1\n"
MAX_COUNSEL_KEY_BYTES = 4096
IDENTITY_PURPOSE = "counsel-age-identity"


@dataclass(frozen=True)
class CounselKey:
    """A lawyer's public key file, its self-signature checked."""

    counsel_id: str
    signing_key: MinisignPublicKey
    recipient: X25519Recipient
    created_at: str


@dataclass(frozen=True)
class CounselEnrolResult:
    org_id: str
    org_name: str
    counsel_id: str
    key_id: str
    recipient: str
    code: str


@dataclass(frozen=True)
class CounselInfo:
    counsel_id: str
    key_id: str
    label: str
    recipient: str
    enrolled_at: str
    status: str
    revoked_at: str | None
    code: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- the lawyer's side ---------------------------------------------------------------------------


def counsel_identity(vault: Vault) -> X25519Identity:
    """The age identity packages for this lawyer's profile are encrypted to."""
    require_role(vault, Role.LAWYER)
    return X25519Identity(vault.subkey(IDENTITY_PURPOSE))


def counsel_key_bytes(vault: Vault) -> bytes:
    """The lawyer's key file: canonical JSON, self-signed by the profile's Ed25519 key."""
    identity = counsel_identity(vault)
    key = {
        "format": KEY_FORMAT,
        "counsel_id": vault.device_id,
        "signing_key": device_public_key(vault).key_line(),
        "recipient": str(identity.recipient),
        "created_at": utc_now(),
    }
    signature = vault.device_signing_key().sign(KEY_CONTEXT + canonical_dumps(key))
    doc = {"key": key, "signature": base64.b64encode(signature).decode("ascii")}
    return canonical_dumps(doc) + b"\n"


def enrol_counsel(vault: Vault, card_path: Path, out: Path | None) -> CounselEnrolResult:
    """Keep the organisation card and write the lawyer's key file for the coordinator."""
    require_role(vault, Role.LAWYER)
    data = _read_small(card_path, MAX_CARD_BYTES)
    card = parse_card(data, str(card_path))
    identity = counsel_identity(vault)
    if out is not None:
        _write_new(out, counsel_key_bytes(vault))
    with vault.session() as s:
        store_enrolment(s, card, data, str(card_path))
    return CounselEnrolResult(
        org_id=card.org_id,
        org_name=card.name,
        counsel_id=vault.device_id,
        key_id=device_public_key(vault).id_hex,
        recipient=str(identity.recipient),
        code=counsel_comparison_code(
            vault.device_public_key,
            identity.recipient.public_bytes,
            card.signing_key.public_bytes,
        ),
    )


def export_identity(vault: Vault, out: Path) -> str:
    """The lawyer's age identity in age's key-file format (for ``age -d -i``); its recipient."""
    identity = counsel_identity(vault)
    _write_new(out, identity_file_text(identity, utc_now()).encode("ascii"))
    return str(identity.recipient)


def enrolled_org(session: Session) -> tuple[str, str, MinisignPublicKey]:
    """(org id, org name, org signing key) of the card a lawyer's profile enrolled with."""
    row = session.execute(select(Enrolment)).scalar_one_or_none()
    if row is None:
        raise FieldkitError(ErrorCode.COUNSEL_NOT_ENROLLED)
    key = MinisignPublicKey.from_ed25519(
        Ed25519PublicKey.from_public_bytes(bytes(row.signing_public))
    )
    return row.org_id, row.org_name, key


def write_org_signing_key(vault: Vault, out: Path) -> None:
    """The enrolled organisation's signing key as a minisign public key file (for checking a
    package with ``minisign -V`` alone)."""
    require_role(vault, Role.LAWYER)
    with vault.session() as s:
        org_id, _name, key = enrolled_org(s)
    _write_new(out, key.file_text(f"fieldkit organisation signing key {org_id}").encode("ascii"))


# --- the coordinator's side ----------------------------------------------------------------------


def parse_counsel_key(data: bytes, shown: str) -> CounselKey:
    def bad(reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.COUNSEL_KEY_INVALID, path=shown, reason=TranslatableText(reason)
        )

    try:
        doc = strict_loads(data.rstrip(b"\n"), max_bytes=MAX_COUNSEL_KEY_BYTES, max_depth=4)
    except StrictJSONError as exc:
        raise bad(exc.reason) from None
    if not isinstance(doc, dict) or set(doc) != {"key", "signature"}:
        raise bad(N_("not a fieldkit lawyer's key file"))
    key = doc["key"]
    if not isinstance(key, dict) or set(key) != {
        "format",
        "counsel_id",
        "signing_key",
        "recipient",
        "created_at",
    }:
        raise bad(N_("not a fieldkit lawyer's key file"))
    if key["format"] != KEY_FORMAT:
        raise bad(N_("unsupported key file format"))
    try:
        counsel_id = str(uuid.UUID(str(key["counsel_id"])))
        signing = MinisignPublicKey.parse(str(key["signing_key"]))
        recipient = X25519Recipient.parse(str(key["recipient"]))
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        signing.ed25519().verify(signature, KEY_CONTEXT + canonical_dumps(key))
    except (MinisignError, AgeKeyError, ValueError):
        raise bad(N_("malformed key")) from None
    except InvalidSignature:
        raise bad(N_("the key file's signature does not verify")) from None
    if counsel_id != key["counsel_id"]:
        raise bad(N_("malformed key"))
    created_at = key["created_at"]
    if not isinstance(created_at, str) or len(created_at) > 40:
        raise bad(N_("malformed key"))
    return CounselKey(counsel_id, signing, recipient, created_at)


def _info(row: TrustedCounsel, org_public: bytes) -> CounselInfo:
    return CounselInfo(
        counsel_id=row.counsel_id,
        key_id=row.key_id,
        label=row.label,
        recipient=row.recipient,
        enrolled_at=row.enrolled_at,
        status=row.status,
        revoked_at=row.revoked_at,
        code=counsel_comparison_code(
            bytes(row.signing_public),
            X25519Recipient.parse(row.recipient).public_bytes,
            org_public,
        ),
    )


def add_counsel(vault: Vault, key_path: Path, label: str) -> CounselInfo:
    """Enrol a lawyer's key file; the comparison code is read aloud with the lawyer."""
    require_role(vault, Role.COORDINATOR)
    label = label.strip()
    if not label or len(label) > 200 or any(ord(c) < 32 for c in label):
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="label")
    key = parse_counsel_key(_read_small(key_path, MAX_COUNSEL_KEY_BYTES), str(key_path))
    with vault.session() as s:
        org_pub = org_public_key(s)
        clash = (
            s.execute(
                select(TrustedCounsel).where(
                    (TrustedCounsel.counsel_id == key.counsel_id)
                    | (TrustedCounsel.key_id == key.signing_key.id_hex)
                )
            )
            .scalars()
            .all()
        )
        for row in clash:
            if (
                row.counsel_id != key.counsel_id
                or bytes(row.signing_public) != key.signing_key.public_bytes
                or row.recipient != str(key.recipient)
            ):
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail=f"lawyer {key.counsel_id} or key {key.signing_key.id_hex} "
                    "is enrolled differently",
                )
        if clash:
            row = clash[0]
            row.label = label
        else:
            row = TrustedCounsel(
                counsel_id=key.counsel_id,
                key_id=key.signing_key.id_hex,
                signing_public=key.signing_key.public_bytes,
                recipient=str(key.recipient),
                label=label,
                enrolled_at=utc_now(),
                status="active",
            )
            s.add(row)
        s.flush()
        return _info(row, org_pub.public_bytes)


def list_counsel(vault: Vault) -> list[CounselInfo]:
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        org_pub = org_public_key(s).public_bytes
        rows = s.execute(select(TrustedCounsel).order_by(TrustedCounsel.enrolled_at)).scalars()
        return [_info(r, org_pub) for r in rows]


def find_counsel(session: Session, ref: str) -> TrustedCounsel:
    """A lawyer by id, key id or label (exactly one must match)."""
    ref = ref.strip()
    # Labels are compared here, not in SQL: on a hub they are sealed (storage/tables/sealed.py).
    rows = [
        row
        for row in session.execute(select(TrustedCounsel)).scalars()
        if row.counsel_id == ref.lower() or row.key_id == ref.upper() or row.label == ref
    ]
    if len(rows) != 1:
        raise FieldkitError(ErrorCode.COUNSEL_UNKNOWN, counsel=display_name(ref))
    return rows[0]


def revoke_counsel(vault: Vault, ref: str) -> CounselInfo:
    """No further package is written to this lawyer's key."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = find_counsel(s, ref)
        row.status = "revoked"
        row.revoked_at = utc_now()
        s.flush()
        return _info(row, org_public_key(s).public_bytes)

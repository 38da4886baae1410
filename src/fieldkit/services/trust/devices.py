"""Coordinator: the trust list of monitor devices, with their comparison codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
)
from fieldkit.crypto.safetynumber import comparison_code
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name
from fieldkit.export.bundle_read import Signer
from fieldkit.services.roles import require_role
from fieldkit.services.trust.card import _read_small
from fieldkit.services.trust.org_keys import org_public_key
from fieldkit.storage.audit import utc_now
from fieldkit.storage.tables.bundles import OrgKeys, TrustedDevice
from fieldkit.storage.vault import Vault

MAX_DEVICE_KEY_BYTES = 4096
DEVICE_COMMENT_PREFIX = "fieldkit device "


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    key_id: str
    label: str
    enrolled_at: str
    status: str
    revoked_at: str | None
    last_good_seq: int | None
    last_seq: int
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- coordinator: the trust list -----------------------------------------------------------------


def parse_device_pub(data: bytes, shown: str) -> tuple[str, MinisignPublicKey]:
    def bad(reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.DEVICE_KEY_INVALID, path=shown, reason=TranslatableText(reason)
        )

    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise bad(N_("not plain text")) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or not lines[0].startswith("untrusted comment: " + DEVICE_COMMENT_PREFIX):
        raise bad(N_("not a fieldkit device key (the first line names the device)"))
    device_id = lines[0][len("untrusted comment: " + DEVICE_COMMENT_PREFIX) :].strip()
    try:
        device_id = str(uuid.UUID(device_id))
    except ValueError:
        raise bad(N_("the device id is malformed")) from None
    try:
        key = MinisignPublicKey.parse(text)
    except MinisignError as exc:
        raise bad(exc.reason) from None
    return device_id, key


def add_device(vault: Vault, pub_path: Path, label: str) -> DeviceInfo:
    require_role(vault, Role.COORDINATOR)
    label = label.strip()
    if not label or len(label) > 200 or any(ord(c) < 32 for c in label):
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="label")
    data = _read_small(pub_path, MAX_DEVICE_KEY_BYTES)
    device_id, key = parse_device_pub(data, str(pub_path))
    with vault.session() as s:
        org_pub = org_public_key(s)
        clash = (
            s.execute(
                select(TrustedDevice).where(
                    (TrustedDevice.device_id == device_id) | (TrustedDevice.key_id == key.id_hex)
                )
            )
            .scalars()
            .all()
        )
        for row in clash:
            if bytes(row.public_key) != key.public_bytes or row.device_id != device_id:
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail=f"device {device_id} or key {key.id_hex} is enrolled differently",
                )
        if clash:
            row = clash[0]
            row.label = label
        else:
            row = TrustedDevice(
                device_id=device_id,
                key_id=key.id_hex,
                public_key=key.public_bytes,
                label=label,
                enrolled_at=utc_now(),
                status="active",
                last_seq=0,
            )
            s.add(row)
        s.flush()
        return _device_info(row, org_pub.public_bytes)


def _device_info(row: TrustedDevice, org_public: bytes | None = None) -> DeviceInfo:
    return DeviceInfo(
        device_id=row.device_id,
        key_id=row.key_id,
        label=row.label,
        enrolled_at=row.enrolled_at,
        status=row.status,
        revoked_at=row.revoked_at,
        last_good_seq=row.last_good_seq,
        last_seq=row.last_seq,
        code=comparison_code(bytes(row.public_key), org_public) if org_public else None,
    )


def list_devices(vault: Vault) -> list[DeviceInfo]:
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        org = s.execute(select(OrgKeys)).scalar_one_or_none()
        org_public = bytes(org.signing_public) if org else None
        rows = s.execute(select(TrustedDevice).order_by(TrustedDevice.enrolled_at)).scalars()
        return [_device_info(r, org_public) for r in rows]


def find_device(session: Session, ref: str) -> TrustedDevice:
    """A device by its id, its key id or its label (exactly one must match)."""
    ref = ref.strip()
    # Labels are compared here, not in SQL: on a hub they are sealed (storage/tables/sealed.py).
    rows = [
        row
        for row in session.execute(select(TrustedDevice)).scalars()
        if row.device_id == ref.lower() or row.key_id == ref.upper() or row.label == ref
    ]
    if len(rows) != 1:
        raise FieldkitError(ErrorCode.TRUST_UNKNOWN_DEVICE, device=display_name(ref))
    return rows[0]


def revoke_device(vault: Vault, ref: str, last_good_seq: int | None = None) -> DeviceInfo:
    """Revoke a device: its bundles up to ``last_good_seq`` (default: the last one imported)
    are still accepted and flagged; later ones are held for a person to review."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = find_device(s, ref)
        if last_good_seq is not None and last_good_seq < 0:
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="last good sequence number")
        row.status = "revoked"
        row.revoked_at = utc_now()
        row.last_good_seq = row.last_seq if last_good_seq is None else last_good_seq
        s.flush()
        return _device_info(row)


def signer_for_key(session: Session, key_id: str) -> Signer | None:
    row = session.execute(
        select(TrustedDevice).where(TrustedDevice.key_id == key_id)
    ).scalar_one_or_none()
    if row is None:
        return None
    public = MinisignPublicKey(
        key_id=bytes.fromhex(key_id)[::-1], public_bytes=bytes(row.public_key)
    )
    return Signer(
        device_id=row.device_id,
        label=row.label,
        public_key=public,
        status=row.status,
        last_good_seq=row.last_good_seq,
    )

"""Monitor: enrolment with the organisation card, and this device's public key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.age import (
    X25519Recipient,
)
from fieldkit.crypto.minisign import (
    MinisignPublicKey,
)
from fieldkit.crypto.safetynumber import comparison_code
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name
from fieldkit.services.roles import require_role
from fieldkit.services.trust.card import (
    MAX_CARD_BYTES,
    OrgCard,
    _read_small,
    _write_new,
    parse_card,
)
from fieldkit.services.trust.devices import DEVICE_COMMENT_PREFIX
from fieldkit.storage.audit import utc_now
from fieldkit.storage.tables.bundles import Enrolment
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class EnrolResult:
    org_id: str
    org_name: str
    device_id: str
    device_key_id: str
    code: str


# --- monitor: enrolment --------------------------------------------------------------------------


def device_public_key(vault: Vault) -> MinisignPublicKey:
    return MinisignPublicKey.from_ed25519(
        Ed25519PublicKey.from_public_bytes(vault.device_public_key)
    )


def device_pub_text(vault: Vault) -> str:
    return device_public_key(vault).file_text(f"{DEVICE_COMMENT_PREFIX}{vault.device_id}")


def enrol(vault: Vault, card_path: Path, out: Path | None) -> EnrolResult:
    """Store the organisation card and write this device's public key (minisign format).

    A device already enrolled takes a later card of the same organisation (same id and same
    signing key) in place of its own, without a new public key (``out`` may then be None)."""
    require_role(vault, Role.MONITOR)
    data = _read_small(card_path, MAX_CARD_BYTES)
    card = parse_card(data, str(card_path))
    shown = display_name(str(card_path), 200)
    with vault.session() as s:
        existing = s.execute(select(Enrolment)).scalar_one_or_none()
        if existing is not None:
            _check_same_org(existing, card, shown)
    if out is not None:
        _write_new(out, device_pub_text(vault).encode("ascii"))
    with vault.session() as s:
        store_enrolment(s, card, data, shown)
    return EnrolResult(
        org_id=card.org_id,
        org_name=card.name,
        device_id=vault.device_id,
        device_key_id=device_public_key(vault).id_hex,
        code=comparison_code(vault.device_public_key, card.signing_key.public_bytes),
    )


def withdraw_enrolment(vault: Vault) -> str:
    """Forget the organisation card this monitor enrolled with (the comparison codes differed:
    the card may not be the organisation's). Returns the organisation name the card gave.
    Bundles written before stay as they are; nothing is encrypted to that card again."""
    require_role(vault, Role.MONITOR)
    with vault.session() as s:
        row = s.execute(select(Enrolment)).scalar_one_or_none()
        if row is None:
            raise FieldkitError(ErrorCode.NOT_ENROLLED)
        name = row.org_name
        s.delete(row)
    return name


def store_enrolment(session: Session, card: OrgCard, data: bytes, shown: str) -> None:
    """Keep the organisation card this profile enrols with (a monitor's or a lawyer's): the
    first one, or a later card of the same organisation."""
    existing = session.execute(select(Enrolment)).scalar_one_or_none()
    if existing is None:
        row = Enrolment(id=1)
        _store_card(row, card, data)
        row.enrolled_at = utc_now()
        session.add(row)
    else:
        _check_same_org(existing, card, shown)
        if _is_newer(card, existing):
            _store_card(existing, card, data)


def _check_same_org(row: Enrolment, card: OrgCard, shown: str) -> None:
    if row.org_id != card.org_id or bytes(row.signing_public) != card.signing_key.public_bytes:
        raise FieldkitError(ErrorCode.ORG_CARD_OTHER_ORG, path=shown)


def _is_newer(card: OrgCard, row: Enrolment) -> bool:
    """A card replaces the stored one only when it was issued later (a card without a date is
    the oldest of all); an old card shown again never undoes a newer one."""
    if card.issued_at is None:
        return False
    stored = parse_card(bytes(row.card), "org.pub").issued_at
    return stored is None or card.issued_at > stored


def _store_card(row: Enrolment, card: OrgCard, data: bytes) -> None:
    row.org_id = card.org_id
    row.org_name = card.name
    row.signing_public = card.signing_key.public_bytes
    row.recipients = json.dumps([str(r) for r in card.recipients])
    row.card = data


def enrolled_card(vault: Vault) -> OrgCard:
    """The organisation card this device holds now."""
    with vault.session() as s:
        row = s.execute(select(Enrolment)).scalar_one_or_none()
        if row is None:
            raise FieldkitError(ErrorCode.NOT_ENROLLED)
        return parse_card(bytes(row.card), "org.pub")


def take_newer_card(vault: Vault, data: bytes, shown: str) -> bool:
    """Store ``data`` if it is a later card of the organisation this device is enrolled with.

    Refused (``org_card_other_org``) when it is another organisation or signing key; returns
    False when it is not newer than the card held."""
    require_role(vault, Role.MONITOR)
    if len(data) > MAX_CARD_BYTES:
        raise FieldkitError(
            ErrorCode.ORG_CARD_INVALID, path=shown, reason=TranslatableText(N_("too large"))
        )
    card = parse_card(data, shown)
    with vault.session() as s:
        row = s.execute(select(Enrolment)).scalar_one_or_none()
        if row is None:
            raise FieldkitError(ErrorCode.NOT_ENROLLED)
        _check_same_org(row, card, shown)
        if not _is_newer(card, row):
            return False
        _store_card(row, card, data)
        return True


@dataclass(frozen=True)
class EnrolmentInfo:
    org_id: str
    org_name: str
    signing_key: MinisignPublicKey
    recipients: list[X25519Recipient]


def enrolment(session: Session) -> EnrolmentInfo:
    row = session.execute(select(Enrolment)).scalar_one_or_none()
    if row is None:
        raise FieldkitError(ErrorCode.NOT_ENROLLED)
    key = MinisignPublicKey.from_ed25519(
        Ed25519PublicKey.from_public_bytes(bytes(row.signing_public))
    )
    return EnrolmentInfo(
        org_id=row.org_id,
        org_name=row.org_name,
        signing_key=key,
        recipients=[X25519Recipient.parse(r) for r in json.loads(row.recipients)],
    )

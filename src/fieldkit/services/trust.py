"""Organisation keys, enrolment and the trust list.

Coordinator: ``init_org`` makes the organisation's Ed25519 signing key and X25519 (age) decryption
identity; ``write_card`` writes the signed card that monitors take home; ``export_identity``
writes the decryption identity in age's own format; ``add_device``, ``list_devices`` and
``revoke_device`` keep the trust list. Monitor: ``enrol`` stores the card and writes the
device's public key in minisign format. Both sides print the same comparison code, for two
people to compare in person.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.age import (
    AgeKeyError,
    X25519Identity,
    X25519Recipient,
    identity_file_text,
    parse_identity_file,
)
from fieldkit.crypto.canonical_json import StrictJSONError, canonical_dumps, strict_loads
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
    MinisignSecretKey,
    secret_key_file_text,
)
from fieldkit.crypto.safetynumber import comparison_code
from fieldkit.crypto.signing import load_private
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name
from fieldkit.export.bundle_read import Signer
from fieldkit.services.roles import require_role
from fieldkit.storage.audit import utc_now
from fieldkit.storage.fsutil import atomic_write_bytes, make_private_dir
from fieldkit.storage.tables.bundles import Enrolment, OrgKeys, TrustedDevice
from fieldkit.storage.vault import Vault

CARD_FORMAT = "fieldkit-org-card/1"
CARD_CONTEXT = b"fieldkit-org-card/1\n"
MAX_CARD_BYTES = 64 * 1024
MAX_DEVICE_KEY_BYTES = 4096
MAX_KEY_FILE_BYTES = 4096
DEVICE_COMMENT_PREFIX = "fieldkit device "


@dataclass(frozen=True)
class OrgInfo:
    org_id: str
    name: str
    key_id: str
    recipient: str
    created_at: str


@dataclass(frozen=True)
class SyncEndpoint:
    """Where the organisation's sync server listens and the certificate monitors pin."""

    url: str
    certificate: bytes  # DER
    certificate_sha256: str


@dataclass(frozen=True)
class OrgCard:
    org_id: str
    name: str
    signing_key: MinisignPublicKey
    recipients: list[X25519Recipient]
    created_at: str
    issued_at: str | None = None  # cards with a sync address say when they were made
    sync: SyncEndpoint | None = None


@dataclass(frozen=True)
class EnrolResult:
    org_id: str
    org_name: str
    device_id: str
    device_key_id: str
    code: str


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


# --- coordinator: organisation keys ------------------------------------------------------------


def _org_row(session: Session) -> OrgKeys:
    row = session.execute(select(OrgKeys)).scalar_one_or_none()
    if row is None:
        raise FieldkitError(ErrorCode.ORG_NOT_INITIALISED)
    return row


def init_org(vault: Vault, name: str = "Organisation") -> OrgInfo:
    require_role(vault, Role.COORDINATOR)
    name = name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="organisation name")
    signing = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    seed = signing.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    identity = X25519Identity.generate()
    with vault.session() as s:
        if s.execute(select(OrgKeys)).scalar_one_or_none() is not None:
            raise FieldkitError(ErrorCode.ORG_EXISTS)
        row = OrgKeys(
            id=1,
            org_id=str(uuid.uuid4()),
            name=name,
            created_at=utc_now(),
            signing_seed=seed,
            signing_public=signing.public_key().public_bytes_raw(),
            age_secret=identity.secret_bytes,
            age_recipient=str(identity.recipient),
        )
        s.add(row)
        return _org_info(row)


def _org_info(row: OrgKeys) -> OrgInfo:
    return OrgInfo(
        org_id=row.org_id,
        name=row.name,
        key_id=MinisignPublicKey.from_ed25519(
            Ed25519PublicKey.from_public_bytes(bytes(row.signing_public))
        ).id_hex,
        recipient=row.age_recipient,
        created_at=row.created_at,
    )


def org_info(vault: Vault) -> OrgInfo:
    with vault.session() as s:
        return _org_info(_org_row(s))


def org_signing_key(session: Session) -> Ed25519PrivateKey:
    return load_private(bytes(_org_row(session).signing_seed))


def org_identities(session: Session) -> list[X25519Identity]:
    return [X25519Identity(bytes(_org_row(session).age_secret))]


def org_public_key(session: Session) -> MinisignPublicKey:
    row = _org_row(session)
    return MinisignPublicKey.from_ed25519(
        Ed25519PublicKey.from_public_bytes(bytes(row.signing_public))
    )


def card_bytes(vault: Vault, sync: SyncEndpoint | None = None) -> bytes:
    """The organisation card: the signing key and the age recipient, self-signed; with
    ``sync`` also the sync server's address and certificate, and when the card was issued (a
    monitor takes a later card of the same organisation in place of the one it has)."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = _org_row(s)
        key = load_private(bytes(row.signing_seed))
        card: dict[str, Any] = {
            "format": CARD_FORMAT,
            "org_id": row.org_id,
            "name": row.name,
            "signing_key": MinisignPublicKey.from_ed25519(key.public_key()).key_line(),
            "recipients": [row.age_recipient],
            "created_at": row.created_at,
        }
    if sync is not None:
        card["issued_at"] = utc_now()
        card["sync"] = {
            "url": sync.url,
            "certificate": base64.b64encode(sync.certificate).decode("ascii"),
            "certificate_sha256": sync.certificate_sha256,
        }
    body = canonical_dumps(card)
    signature = key.sign(CARD_CONTEXT + body)
    doc = {"card": card, "signature": base64.b64encode(signature).decode("ascii")}
    return canonical_dumps(doc) + b"\n"


def signing_public_text(vault: Vault) -> str:
    """The organisation signing key as a minisign public key file (for checking receipts with
    ``minisign -V -p org-sign.pub -m receipt-….json``)."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = _org_row(s)
        key = org_public_key(s)
        return key.file_text(f"fieldkit organisation signing key {row.org_id}")


def write_card(
    vault: Vault, out: Path, minisign_out: Path | None = None, sync: SyncEndpoint | None = None
) -> OrgInfo:
    """Write the organisation card; with ``minisign_out`` also the signing key's minisign
    public key file."""
    data = card_bytes(vault, sync)
    if sync is not None:
        # the sync server hands exactly this card to monitors that hold an older one
        folder = vault.path / "sync"
        make_private_dir(folder)
        atomic_write_bytes(folder / PUBLISHED_CARD, data)
    if minisign_out is not None and (minisign_out.exists() or minisign_out.is_symlink()):
        raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(minisign_out))
    _write_new(out, data)
    if minisign_out is not None:
        _write_new(minisign_out, signing_public_text(vault).encode("ascii"))
    return org_info(vault)


PUBLISHED_CARD = "card.json"


def published_card(vault: Vault) -> bytes | None:
    """The last card written with a sync address, as written."""
    try:
        return (vault.path / "sync" / PUBLISHED_CARD).read_bytes()[: MAX_CARD_BYTES + 1]
    except OSError:
        return None


def export_identity(vault: Vault, out: Path) -> OrgInfo:
    """The decryption identity in age's key-file format (for an offline backup and `age -d`)."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = _org_row(s)
        identity = X25519Identity(bytes(row.age_secret))
        info = _org_info(row)
    _write_new(out, identity_file_text(identity, utc_now()).encode("ascii"))
    return info


SIGNING_KEY_COMMENT = "fieldkit-org-signing-key/1 "


def export_signing_key(vault: Vault, out: Path) -> OrgInfo:
    """The organisation signing key as an unencrypted minisign secret key file (mode 0600).

    With it and the decryption identity a lost coordinator profile can be rebuilt
    (:func:`import_org`); the untrusted comment carries the organisation's id, name and creation
    time so that the rebuilt card is the same organisation for the monitors."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = _org_row(s)
        key = load_private(bytes(row.signing_seed))
        info = _org_info(row)
        meta = json.dumps(
            {"org_id": row.org_id, "name": row.name, "created_at": row.created_at},
            ensure_ascii=False,
            separators=(",", ":"),
        )
    _write_new(out, secret_key_file_text(key, SIGNING_KEY_COMMENT + meta).encode("utf-8"))
    return info


def _org_meta(comment: str) -> dict[str, str] | None:
    if not comment.startswith(SIGNING_KEY_COMMENT):
        return None
    try:
        meta = json.loads(comment[len(SIGNING_KEY_COMMENT) :])
    except ValueError:
        return None
    if not isinstance(meta, dict) or set(meta) != {"org_id", "name", "created_at"}:
        return None
    if not all(isinstance(v, str) and 0 < len(v) <= 200 for v in meta.values()):
        return None
    try:
        meta["org_id"] = str(uuid.UUID(meta["org_id"]))
    except ValueError:
        return None
    return meta


def import_org(
    vault: Vault,
    identity_path: Path,
    signing_key_path: Path | None = None,
    name: str | None = None,
) -> OrgInfo:
    """Rebuild the organisation keys of a lost coordinator profile in a fresh one.

    ``identity_path``: the age identity from ``org export-identity`` (old bundles decrypt).
    ``signing_key_path``: the minisign secret key from ``org export-signing-key`` (receipts and
    the card verify with the key monitors enrolled with). Without it a new signing key and a new
    organisation id are made, and every monitor must enrol again. Refused when the profile
    already has organisation keys."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        if s.execute(select(OrgKeys)).scalar_one_or_none() is not None:
            raise FieldkitError(ErrorCode.ORG_EXISTS)
    shown_identity = display_name(str(identity_path), 200)
    raw = _read_small(identity_path, MAX_KEY_FILE_BYTES)
    try:
        identities = parse_identity_file(raw.decode("ascii"))
    except (UnicodeDecodeError, AgeKeyError):
        raise FieldkitError(
            ErrorCode.ORG_KEY_INVALID,
            path=shown_identity,
            reason=TranslatableText(N_("not an age identity file (AGE-SECRET-KEY-1…)")),
        ) from None
    if len(identities) != 1:
        raise FieldkitError(
            ErrorCode.ORG_KEY_INVALID,
            path=shown_identity,
            reason=TranslatableText(N_("the file must hold exactly one identity")),
        )
    identity = identities[0]
    meta: dict[str, str] | None = None
    if signing_key_path is not None:
        shown_key = display_name(str(signing_key_path), 200)
        try:
            secret = MinisignSecretKey.parse(_read_small(signing_key_path, MAX_KEY_FILE_BYTES))
        except MinisignError as exc:
            raise FieldkitError(
                ErrorCode.ORG_KEY_INVALID, path=shown_key, reason=TranslatableText(exc.reason)
            ) from None
        signing = secret.private_key
        meta = _org_meta(secret.untrusted_comment)
    else:
        signing = Ed25519PrivateKey.generate()
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="organisation name")
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    with vault.session() as s:
        if s.execute(select(OrgKeys)).scalar_one_or_none() is not None:
            raise FieldkitError(ErrorCode.ORG_EXISTS)
        row = OrgKeys(
            id=1,
            org_id=meta["org_id"] if meta else str(uuid.uuid4()),
            name=name or (meta["name"] if meta else "Organisation"),
            created_at=meta["created_at"] if meta else utc_now(),
            signing_seed=signing.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            signing_public=signing.public_key().public_bytes_raw(),
            age_secret=identity.secret_bytes,
            age_recipient=str(identity.recipient),
        )
        s.add(row)
        return _org_info(row)


def _write_new(out: Path, data: bytes) -> None:
    if out.exists() or out.is_symlink():
        raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(out))
    try:
        atomic_write_bytes(out, data)
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(out), reason=os_reason(exc)
        ) from None


def parse_card(data: bytes, shown: str) -> OrgCard:
    def bad(reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.ORG_CARD_INVALID, path=shown, reason=TranslatableText(reason)
        )

    try:
        doc = strict_loads(data.rstrip(b"\n"), max_bytes=MAX_CARD_BYTES, max_depth=8)
    except StrictJSONError as exc:
        raise bad(exc.reason) from None
    if not isinstance(doc, dict) or set(doc) != {"card", "signature"}:
        raise bad(N_("unexpected structure"))
    card = doc["card"]
    base = {"format", "org_id", "name", "signing_key", "recipients", "created_at"}
    if not isinstance(card, dict) or set(card) not in (base, base | {"issued_at", "sync"}):
        raise bad(N_("unexpected card fields"))
    if card["format"] != CARD_FORMAT:
        raise bad(N_("unsupported card format"))
    try:
        key = MinisignPublicKey.parse(str(card["signing_key"]))
        recipients = card["recipients"]
        if not isinstance(recipients, list) or not 1 <= len(recipients) <= 8:
            raise bad(N_("recipients must be a short list"))
        parsed = [X25519Recipient.parse(str(r)) for r in recipients]
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        key.ed25519().verify(signature, CARD_CONTEXT + canonical_dumps(card))
    except (MinisignError, AgeKeyError, ValueError):
        raise bad(N_("malformed key")) from None
    except InvalidSignature:
        raise bad(N_("the card's signature does not verify")) from None
    for field in ("org_id", "name", "created_at"):
        if not isinstance(card[field], str) or len(card[field]) > 200:
            raise bad(N_("the organisation id, name or date is malformed"))
    issued_at = card.get("issued_at")
    if issued_at is not None and (not isinstance(issued_at, str) or len(issued_at) > 40):
        raise bad(N_("the organisation id, name or date is malformed"))
    sync = _parse_sync(card.get("sync"), bad) if "sync" in card else None
    return OrgCard(
        org_id=card["org_id"],
        name=card["name"],
        signing_key=key,
        recipients=parsed,
        created_at=card["created_at"],
        issued_at=issued_at,
        sync=sync,
    )


def _parse_sync(value: Any, bad: Callable[[str], FieldkitError]) -> SyncEndpoint:
    if not isinstance(value, dict) or set(value) != {"url", "certificate", "certificate_sha256"}:
        raise bad(N_("the sync address is malformed"))
    url, cert, digest = value["url"], value["certificate"], value["certificate_sha256"]
    if not isinstance(url, str) or not isinstance(cert, str) or not isinstance(digest, str):
        raise bad(N_("the sync address is malformed"))
    try:
        check_sync_url(url)
        der = base64.b64decode(cert, validate=True)
    except (FieldkitError, ValueError):
        raise bad(N_("the sync address is malformed")) from None
    if len(der) > 8192 or hashlib.sha256(der).hexdigest() != digest:
        raise bad(N_("the sync certificate does not match its fingerprint"))
    return SyncEndpoint(url=url, certificate=der, certificate_sha256=digest)


_SYNC_URL = re.compile(r"https://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):([0-9]{1,5})")


def check_sync_url(url: str) -> str:
    """``https://HOST:PORT`` and nothing more (no path, user or query): the protocol's paths
    are fixed, and the certificate, not the name, is what is checked."""
    match = _SYNC_URL.fullmatch(url)
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise FieldkitError(ErrorCode.SYNC_URL_INVALID, url=display_name(url, 100))
    return url


def _read_small(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=str(path), reason=os_reason(exc)
        ) from None
    if len(data) > limit:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE,
            path=str(path),
            reason=TranslatableText(N_("the file is too large for this kind of file")),
        )
    return data


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

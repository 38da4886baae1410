"""Coordinator: the organisation's signing key and decryption identity, and its card."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.age import (
    AgeKeyError,
    X25519Identity,
    identity_file_text,
    parse_identity_file,
)
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
    MinisignSecretKey,
    secret_key_file_text,
)
from fieldkit.crypto.signing import load_private
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name
from fieldkit.services.roles import require_role
from fieldkit.services.trust.card import (
    CARD_CONTEXT,
    CARD_FORMAT,
    MAX_CARD_BYTES,
    MAX_KEY_FILE_BYTES,
    SyncEndpoint,
    _read_small,
    _write_new,
)
from fieldkit.storage.audit import utc_now
from fieldkit.storage.fsutil import atomic_write_bytes, make_private_dir
from fieldkit.storage.tables.bundles import OrgKeys
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class OrgInfo:
    org_id: str
    name: str
    key_id: str
    recipient: str
    created_at: str


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

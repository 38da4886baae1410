"""The organisation card (signed, with the sync address) and the small key files around it."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from fieldkit.crypto.age import (
    AgeKeyError,
    X25519Recipient,
)
from fieldkit.crypto.canonical_json import StrictJSONError, canonical_dumps, strict_loads
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
)
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.export.bundle_format import display_name
from fieldkit.storage.fsutil import atomic_write_bytes

CARD_FORMAT = "fieldkit-org-card/1"
CARD_CONTEXT = b"fieldkit-org-card/1\n"
MAX_CARD_BYTES = 64 * 1024
MAX_KEY_FILE_BYTES = 4096


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

"""Signed checkpoints of the audit log: what a full verification proved, in a few digests.

After a verification finds nothing wrong, a checkpoint records what it covered: the audit entries
1..N (their count, the entry hash at N, and a SHA-256 over the stored bytes of every one of those
rows in sequence order), the saved record versions up to a row id (count and digest the same way),
and per record head its row number and a digest of its stored columns. The checkpoint is signed
with the device's Ed25519 key. The next verification checks the signature, reads the covered rows
again as they are stored (no JSON, no canonical encoding: each row's columns as the database
returns them, fed to SHA-256) and verifies in full only what came after; any row before N that was
edited, removed, inserted or moved changes a count or a digest.

"Stored bytes": on SQLite the plain column values (the file is encrypted page by page); on a hub's
PostgreSQL the sealed values as the server holds them. A sealed value is sealed once, with a
random nonce, when the row is written, and never rewritten, so its stored bytes are stable.

Only the newest checkpoint is kept. Someone holding the profile's key can delete it (that only
makes the next verification a full one) or sign a new one with the device key they also hold: the
same reach as recomputing the hash chain itself, which the chain never claimed to withstand.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.crypto.signing import fingerprint, load_private, load_public
from fieldkit.storage.tables.profile import ProfileMeta
from fieldkit.storage.tables.records import AuditCheckpointRow

_CONTEXT = b"fieldkit audit checkpoint 1\n"
_FETCH = 2000
HEAD_DIGEST_BYTES = 16
_HEAD_ENTRY = struct.Struct(">q")
HEAD_ENTRY_BYTES = _HEAD_ENTRY.size + HEAD_DIGEST_BYTES

_AUDIT_SQL = (
    "SELECT seq, at, device_id, actor, action, target_type, target_id, revision, content_hash, "
    "details, prev_hash, entry_hash FROM audit_log WHERE {low}seq <= {high} ORDER BY seq"
)
_VERSIONS_SQL = (
    "SELECT id, record_id, revision, doc, content_hash, deleted, saved_at, saved_by_device, "
    "change_seq, origin FROM record_versions WHERE {low}id <= {high} ORDER BY id"
)
# The head columns a verification proves against the saved version (see audit_verify.py).
_HEADS_SQL = (
    "SELECT num, id, revision, content_hash, deleted, confidential, data FROM records ORDER BY num"
)


class RawUnreadable(Exception):
    """A covered row could not be read as stored (e.g. text that is not UTF-8 any more)."""


@dataclass(frozen=True)
class Checkpoint:
    made_at: str
    device_id: str
    key_id: str
    audit_seq: int
    audit_hash: str
    audit_digest: str
    versions_last_id: int
    versions_count: int
    versions_digest: str
    heads_count: int
    heads: bytes
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        return _CONTEXT + canonical_dumps(
            {
                "made_at": self.made_at,
                "device_id": self.device_id,
                "key_id": self.key_id,
                "audit_seq": self.audit_seq,
                "audit_hash": self.audit_hash,
                "audit_digest": self.audit_digest,
                "versions_last_id": self.versions_last_id,
                "versions_count": self.versions_count,
                "versions_digest": self.versions_digest,
                "heads_count": self.heads_count,
                "heads_digest": hashlib.sha256(self.heads).hexdigest(),
            }
        )


class RowDigest:
    """SHA-256 over rows as stored, one ``repr`` of the row's tuple after another: a tuple's
    ``repr`` of text, numbers, bytes and NULLs is unambiguous and does not depend on how rows
    are fetched in batches, so a digest can be taken part-way (``hexdigest``) and continued."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def feed(self, rows: list[tuple[Any, ...]]) -> None:
        self._hash.update("".join(map(repr, rows)).encode("utf-8"))
        self.count += len(rows)

    def hexdigest(self) -> str:
        return self._hash.copy().hexdigest()


def _stream(session: Session, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """Rows as the driver returns them, in batches, without SQLAlchemy's per-row processing."""
    connection = session.connection()
    driver_error: type[Exception] = connection.dialect.loaded_dbapi.Error
    result = connection.exec_driver_sql(sql)
    try:
        cursor = result.cursor
        assert cursor is not None
        cursor.arraysize = _FETCH
        while True:
            try:
                rows = cursor.fetchmany(_FETCH)
            except (driver_error, ValueError, UnicodeError) as exc:  # the driver's, unwrapped
                raise RawUnreadable(str(exc)) from exc
            if not rows:
                return
            yield cast(list[tuple[Any, ...]], rows)  # tuples on both drivers
    finally:
        result.close()


def _above(column: str, low: int | None) -> str:
    return "" if low is None else f"{column} > {int(low)} AND "


def digest_audit(session: Session, digest: RowDigest, low: int | None, high: int) -> None:
    """Feed the audit rows with low < seq <= high (None: every row up to high) to ``digest``."""
    for rows in _stream(session, _AUDIT_SQL.format(low=_above("seq", low), high=int(high))):
        digest.feed(rows)


def digest_versions(session: Session, digest: RowDigest, low: int | None, high: int) -> None:
    """Feed the saved versions with low < id <= high (None: every row up to high)."""
    for rows in _stream(session, _VERSIONS_SQL.format(low=_above("id", low), high=int(high))):
        digest.feed(rows)


def head_digests(session: Session) -> bytes:
    """Per record head, in row order: its row number and a digest of its stored columns."""
    sha = hashlib.sha256
    pack = _HEAD_ENTRY.pack
    parts: list[bytes] = []
    for rows in _stream(session, _HEADS_SQL):
        parts.extend(pack(row[0]) + sha(repr(row).encode("utf-8")).digest()[:16] for row in rows)
    return b"".join(parts)


def split_heads(blob: bytes) -> dict[int, bytes]:
    """Row number -> digest, from :func:`head_digests`'s bytes."""
    size = HEAD_ENTRY_BYTES
    return {
        _HEAD_ENTRY.unpack_from(blob, i)[0]: blob[i + _HEAD_ENTRY.size : i + size]
        for i in range(0, len(blob) - len(blob) % size, size)
    }


def latest(session: Session) -> Checkpoint | None:
    row = session.execute(
        select(AuditCheckpointRow).order_by(AuditCheckpointRow.id.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return Checkpoint(
        made_at=row.made_at,
        device_id=row.device_id,
        key_id=row.key_id,
        audit_seq=row.audit_seq,
        audit_hash=row.audit_hash,
        audit_digest=row.audit_digest,
        versions_last_id=row.versions_last_id,
        versions_count=row.versions_count,
        versions_digest=row.versions_digest,
        heads_count=row.heads_count,
        heads=bytes(row.heads),
        signature=bytes(row.signature),
    )


def signed_by_this_device(session: Session, checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint names this device and its key, and its signature is good."""
    meta = session.execute(select(ProfileMeta.device_id, ProfileMeta.device_public_key)).one()
    public = bytes(meta.device_public_key)
    if checkpoint.device_id != meta.device_id or checkpoint.key_id != fingerprint(public):
        return False
    try:
        load_public(public).verify(checkpoint.signature, checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def store(session: Session, checkpoint: Checkpoint) -> bool:
    """Sign and keep ``checkpoint`` as the only one (older ones go). False when the database
    would not take it now (another writer committed since this verification's snapshot): the
    verification stands, the next one starts from the older checkpoint."""
    meta = session.execute(
        select(ProfileMeta.device_id, ProfileMeta.device_signing_key, ProfileMeta.device_public_key)
    ).one()
    key = load_private(bytes(meta.device_signing_key))
    unsigned = Checkpoint(
        **{
            **checkpoint.__dict__,
            "device_id": meta.device_id,
            "key_id": fingerprint(bytes(meta.device_public_key)),
        }
    )
    signature = key.sign(unsigned.signed_bytes())
    values = {**unsigned.__dict__, "signature": signature}
    try:
        with session.begin_nested():
            session.execute(delete(AuditCheckpointRow))
            session.execute(insert(AuditCheckpointRow), [values])
    except DBAPIError:
        return False
    return True

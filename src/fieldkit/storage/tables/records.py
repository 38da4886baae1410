"""ORM tables of the records area: record heads, every saved version, conflicts, links, audit log.

The full-text index ``records_fts`` (an FTS5 virtual table) and the append-only triggers on
``audit_log`` and ``record_versions`` cannot be expressed as ORM tables; migration 0002 creates them
and :data:`NON_ORM_TABLES` names what the migration adds beyond these models.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedBytes, SealedText

# Made by migration 0002 outside the ORM: the FTS5 table and the shadow tables SQLite adds to it.
FTS_TABLE = "records_fts"
NON_ORM_TABLES = frozenset(
    {
        FTS_TABLE,
        f"{FTS_TABLE}_data",
        f"{FTS_TABLE}_idx",
        f"{FTS_TABLE}_content",
        f"{FTS_TABLE}_docsize",
        f"{FTS_TABLE}_config",
    }
)


class RecordRow(Base):
    """The current head of a record: its newest revision, with the columns lists and filters use.

    ``num`` is a stable integer key (an alias of SQLite's rowid, never renumbered by VACUUM) that
    the full-text index uses as its rowid; ``id`` is the record's UUID that everything else uses.
    """

    __tablename__ = "records"
    __table_args__ = (
        CheckConstraint("revision >= 1", name="revision_positive"),
        Index("ix_records_list", "deleted", "updated_at", "id"),
        Index("ix_records_type_list", "type", "deleted", "updated_at", "id"),
        Index("ix_records_facility", "facility_id", "deleted", "updated_at", "id"),
        Index("ix_records_status", "status", "deleted", "updated_at", "id"),
        Index("ix_records_dates", "date_from", "date_to"),
        Index("ix_records_change_seq", "change_seq"),
        # Small enough that counting 100,000 heads reads a few hundred pages.
        Index("ix_records_count", "deleted", "type"),
        # Covers every search filter, so a full-text match is filtered without reading records
        # (storage/search.py names it in INDEXED BY).
        Index(
            "ix_records_search",
            "num",
            "type",
            "deleted",
            "confidential",
            "facility_id",
            "status",
            "date_from",
            "date_to",
        ),
    )

    num: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)

    # Every UPDATE of a head says "WHERE revision = <the revision read>": a save that lost a race
    # with another writer changes nothing and raises, and the store reports STALE_REVISION.
    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}
    template_id: Mapped[str] = mapped_column(String(64), nullable=False)
    template_version: Mapped[str] = mapped_column(String(32), nullable=False)
    origin_device: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    updated_at: Mapped[str] = mapped_column(String(40), nullable=False)
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    title: Mapped[str] = mapped_column(SealedText("records.title"), nullable=False, default="")
    status: Mapped[str | None] = mapped_column(String(64), nullable=True)
    facility_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    date_from: Mapped[str | None] = mapped_column(String(10), nullable=True)
    date_to: Mapped[str | None] = mapped_column(String(10), nullable=True)
    data: Mapped[str] = mapped_column(SealedText("records.data"), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    change_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class RecordVersionRow(Base):
    """One saved version of a record (tombstones included), exactly as hashed: never changed."""

    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint(
            "record_id", "revision", "content_hash", name="uq_record_versions_content"
        ),
        CheckConstraint("origin IN ('local', 'imported')", name="origin_known"),
        Index("ix_record_versions_record", "record_id", "revision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    # The canonical JSON of the version document; its SHA-256 is content_hash.
    doc: Mapped[bytes] = mapped_column(SealedBytes("record_versions.doc"), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    saved_at: Mapped[str] = mapped_column(String(40), nullable=False)
    saved_by_device: Mapped[str] = mapped_column(String(36), nullable=False)
    change_seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)


class RecordConflictRow(Base):
    """Two versions with one record id and revision but different content, kept for a person."""

    __tablename__ = "record_conflicts"
    __table_args__ = (
        UniqueConstraint("record_id", "revision", "other_hash", name="uq_record_conflicts_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    local_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    other_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    other_device: Mapped[str] = mapped_column(String(36), nullable=False)
    detected_at: Mapped[str] = mapped_column(String(40), nullable=False)
    resolved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class RecordLinkRow(Base):
    """A typed link between two items (records, or an evidence item and a record).

    ``source`` is "derived" for links computed from the reference fields of record ``owner_id``
    (replaced whenever that record is saved) and "explicit" for links made by a person (a person to
    a case with a role) or by another area (evidence to a case); explicit links have no owner ("").
    """

    __tablename__ = "record_links"
    __table_args__ = (
        UniqueConstraint(
            "from_id", "to_id", "kind", "role", "owner_id", name="uq_record_links_link"
        ),
        CheckConstraint("source IN ('derived', 'explicit')", name="source_known"),
        Index("ix_record_links_to", "to_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_id: Mapped[str] = mapped_column(String(36), nullable=False)
    to_id: Mapped[str] = mapped_column(String(36), nullable=False)
    kind: Mapped[str] = mapped_column(String(48), nullable=False)
    # Empty when the kind has no role (SQLite treats NULLs as distinct in unique constraints).
    role: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    owner_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


Index("ix_record_links_owner", RecordLinkRow.owner_id)


class AuditRow(Base):
    """One entry of this profile's append-only, hash-chained audit log."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Canonical JSON of a small dict of safe details (never record content); "{}" when none.
    details: Mapped[str] = mapped_column(SealedText("audit_log.details"), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


Index("ix_audit_log_target", AuditRow.target_id, AuditRow.revision)


class AuditCheckpointRow(Base):
    """What a full verification of the audit log proved, signed with the device key
    (``storage/audit_checkpoint.py``): the next verification continues from it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    made_at: Mapped[str] = mapped_column(String(40), nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    audit_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    versions_last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    versions_count: Mapped[int] = mapped_column(Integer, nullable=False)
    versions_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    heads_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # Per record head, in row order: its row number (8 bytes) and the first 16 bytes of the
    # SHA-256 of its stored columns.
    heads: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ForeignAuditRow(Base):
    """Audit entries of another device, received in bundles; their chain is verified on import."""

    __tablename__ = "audit_foreign"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(SealedText("audit_foreign.details"), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[str] = mapped_column(String(40), nullable=False)

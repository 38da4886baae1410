"""ORM tables of the evidence area: items (with their stored file), previews, custody events.

The append-only triggers on ``custody_events`` are created by migration 0003 (and, for databases
built with ``create_all``, by the DDL listeners below); they are not tables, so the migration test's
model comparison does not see them.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedBytes, SealedText

CUSTODY_TRIGGERS = (
    "CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events "
    "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
    "CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events "
    "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
)


class EvidenceItemRow(Base):
    """One evidence item: what it is (records.md section 6) and where its encrypted file lives.

    ``storage_name`` is random (never derived from the content); ``wrapped_dek`` is the file's
    data-encryption key wrapped under the vault's "evidence-store" subkey and is set to NULL when
    the item is purged (crypto-erase). ``dedup_tag`` is HMAC(vault "evidence-dedup" subkey, SHA-256)
    so duplicates are found without a plaintext hash being usable as a name or an index elsewhere.
    """

    __tablename__ = "evidence_items"
    __table_args__ = (
        CheckConstraint("copy_role IN ('original', 'working', 'derived')", name="copy_role_known"),
        CheckConstraint("state IN ('stored', 'purged')", name="state_known"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        Index("ix_evidence_items_dedup", "dedup_tag"),
        Index("ix_evidence_items_change_seq", "change_seq"),
        Index("ix_evidence_items_list", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_type: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str | None] = mapped_column(SealedText("evidence_items.title"), nullable=True)
    description: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.description"), nullable=True
    )
    creator: Mapped[str | None] = mapped_column(SealedText("evidence_items.creator"), nullable=True)
    collected_by: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.collected_by"), nullable=True
    )
    collected_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    content_created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    place_created: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.place_created"), nullable=True
    )
    place_collected: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.place_collected"), nullable=True
    )
    obtained_from: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.obtained_from"), nullable=True
    )
    obtained_how: Mapped[str | None] = mapped_column(String(32), nullable=True)
    capture_device: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.capture_device"), nullable=True
    )
    original_name: Mapped[str] = mapped_column(
        SealedText("evidence_items.original_name"), nullable=False
    )
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    media_type: Mapped[str] = mapped_column(String(128), nullable=False)
    sha256: Mapped[str] = mapped_column(SealedText("evidence_items.sha256", 64), nullable=False)
    dedup_tag: Mapped[str] = mapped_column(String(64), nullable=False)
    copy_role: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("evidence_items.id"), nullable=True
    )
    transformation: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.transformation"), nullable=True
    )
    # Canonical JSON (text) or NULL.
    consent_limits: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.consent_limits"), nullable=True
    )
    sensitive_flags: Mapped[str] = mapped_column(
        SealedText("evidence_items.sensitive_flags"), nullable=False
    )
    embedded_metadata: Mapped[str | None] = mapped_column(
        SealedText("evidence_items.embedded_metadata"), nullable=True
    )
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    verification_status: Mapped[str] = mapped_column(String(16), nullable=False)
    preview_status: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    origin_device: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    updated_at: Mapped[str] = mapped_column(String(40), nullable=False)
    change_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    # The encrypted file.
    storage_name: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    file_id: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    purged_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class EvidencePreviewRow(Base):
    """A small JPEG thumbnail made in the media subprocess; inside the encrypted database."""

    __tablename__ = "evidence_previews"

    item_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("evidence_items.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(SealedBytes("evidence_previews.data"), nullable=False)


class CustodyEventRow(Base):
    """One custody event; ``body`` is the canonical JSON that ``event_hash`` is the SHA-256 of.

    Each device keeps its own chain per item (``seq`` 1, 2, ... and ``prev_hash``), so events made
    on a monitor's laptop and those added by the coordinator after import never compete for a place.
    """

    __tablename__ = "custody_events"
    __table_args__ = (
        UniqueConstraint("item_id", "device_id", "seq", name="uq_custody_events_position"),
        Index("ix_custody_events_item", "item_id", "at"),
        Index("ix_custody_events_change_seq", "change_seq"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("evidence_items.id"), nullable=False
    )
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[bytes] = mapped_column(SealedBytes("custody_events.body"), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    event_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    change_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)


for _statement in CUSTODY_TRIGGERS:
    event.listen(
        CustodyEventRow.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="sqlite"),  # type: ignore[no-untyped-call]
    )

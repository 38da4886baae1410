"""ORM tables of case packages for lawyers.

Coordinator side: the enrolled lawyers' public keys and the packages sent to them. Lawyer side:
the packages received, with the manifest of each, so that a later package of the same case can be
compared with the one it supersedes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedText


class TrustedCounsel(Base):
    """Coordinator side: one lawyer's key, enrolled in person with a comparison code."""

    __tablename__ = "trusted_counsel"

    counsel_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    signing_public: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    recipient: Mapped[str] = mapped_column(String(100), nullable=False)
    label: Mapped[str] = mapped_column(SealedText("trusted_counsel.label", 200), nullable=False)
    enrolled_at: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # active | revoked
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class SentPackage(Base):
    """Coordinator side: one case package written for a lawyer."""

    __tablename__ = "sent_packages"
    __table_args__ = (
        UniqueConstraint("case_id", "counsel_id", "seq", name="uq_sent_packages_case_seq"),
    )

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False)
    counsel_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("trusted_counsel.counsel_id"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    package_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    records: Mapped[int] = mapped_column(Integer, nullable=False)
    evidence: Mapped[int] = mapped_column(Integer, nullable=False)
    withheld: Mapped[int] = mapped_column(Integer, nullable=False)


class ReceivedPackage(Base):
    """Lawyer side: one imported case package; the newest of a case is "current"."""

    __tablename__ = "received_packages"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_received_packages_case_seq"),)

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    package_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    imported_at: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # current | superseded
    manifest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    changes: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: what this import changed


class CounselItemRow(Base):
    """Lawyer side: one record or evidence item as the organisation's packages delivered it.

    Kept apart from the records and evidence tables (which are append-only histories): what a
    later package no longer allows is deleted from here, file and all.
    """

    __tablename__ = "counsel_items"

    item_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # record | evidence
    record_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    doc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # the member, as signed
    doc_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    object_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    custody: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of events
    storage_name: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    file_id: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    package_id: Mapped[str] = mapped_column(String(36), nullable=False)
    received_at: Mapped[str] = mapped_column(String(40), nullable=False)

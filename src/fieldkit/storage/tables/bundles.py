"""ORM tables of the bundles area: organisation keys, enrolment, trust list, import, export.

Private keys live only here, inside the encrypted database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedBytes, SealedText


class OrgKeys(Base):
    """Coordinator side: the organisation's signing key and decryption identity (one row)."""

    __tablename__ = "org_keys"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(36), nullable=False)
    name: Mapped[str] = mapped_column(SealedText("org_keys.name", 200), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    signing_seed: Mapped[bytes] = mapped_column(
        SealedBytes("org_keys.signing_seed"), nullable=False
    )
    signing_public: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    age_secret: Mapped[bytes] = mapped_column(SealedBytes("org_keys.age_secret"), nullable=False)
    age_recipient: Mapped[str] = mapped_column(String(100), nullable=False)


class Enrolment(Base):
    """Monitor side: the organisation card this device was enrolled with (one row)."""

    __tablename__ = "enrolment"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(36), nullable=False)
    org_name: Mapped[str] = mapped_column(String(200), nullable=False)
    signing_public: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    recipients: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of age1… strings
    card: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    enrolled_at: Mapped[str] = mapped_column(String(40), nullable=False)


class TrustedDevice(Base):
    """Coordinator side: one enrolled device and where its bundle chain stands."""

    __tablename__ = "trusted_devices"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    label: Mapped[str] = mapped_column(SealedText("trusted_devices.label", 200), nullable=False)
    enrolled_at: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # active | revoked
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_good_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ImportedBundle(Base):
    """Coordinator side: every bundle that was imported."""

    __tablename__ = "imported_bundles"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_imported_bundles_device_seq"),)

    bundle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("trusted_devices.device_id"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    bundle_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    change_from: Mapped[int] = mapped_column(Integer, nullable=False)
    change_through: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_at: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # imported | flagged
    chain: Mapped[str] = mapped_column(String(20), nullable=False)  # linked | pending | broken
    records: Mapped[int] = mapped_column(Integer, nullable=False)
    objects: Mapped[int] = mapped_column(Integer, nullable=False)
    conflicts: Mapped[int] = mapped_column(Integer, nullable=False)


class SequenceGap(Base):
    """Coordinator side: numbers ``seq`` to ``through`` (inclusive) of a device's bundles not
    seen yet below one already imported. Filled numbers leave the range (it splits or goes)."""

    __tablename__ = "sequence_gaps"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # the first missing number
    through: Mapped[int] = mapped_column(Integer, nullable=False)  # the last missing number
    detected_at: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # pending


class BundleAlarm(Base):
    """Coordinator side: something that needs a person (an equivocation is never silent)."""

    __tablename__ = "bundle_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # equivocation
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    bundle_id: Mapped[str] = mapped_column(String(36), nullable=False)
    bundle_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    known_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    raised_at: Mapped[str] = mapped_column(String(40), nullable=False)


class QuarantinedBundle(Base):
    """Coordinator side: a bundle refused for its signer, kept (still encrypted) for review."""

    __tablename__ = "quarantined_bundles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)  # an ErrorCode value
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bundle_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    file_name: Mapped[str] = mapped_column(
        SealedText("quarantined_bundles.file_name", 300), nullable=False
    )
    # A copy of the (still encrypted) file, for a revoked signer only; None for an unknown one.
    held_file: Mapped[str | None] = mapped_column(String(100), nullable=True)
    received_at: Mapped[str] = mapped_column(String(40), nullable=False)
    # What identifies the bundle without its payload: the SHA256SUMS.minisig bytes (key id,
    # signature, signed trusted comment), and the file's size and SHA-256.
    signed_head: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    file_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ImportConflict(Base):
    """Coordinator side: a record revision that arrived with different content."""

    __tablename__ = "import_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bundle_id: Mapped[str] = mapped_column(String(36), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    detected_at: Mapped[str] = mapped_column(String(40), nullable=False)


class ExportedBundle(Base):
    """Monitor side: each bundle written, the change range it carried, whether it was acked."""

    __tablename__ = "exported_bundles"

    bundle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    bundle_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    change_from: Mapped[int] = mapped_column(Integer, nullable=False)
    change_through: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_through: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    file_name: Mapped[str] = mapped_column(String(100), nullable=False)
    acknowledged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ExportState(Base):
    """Monitor side: the next sequence number's predecessor and the acknowledged mark (one row)."""

    __tablename__ = "export_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_through: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_acknowledged_through: Mapped[int] = mapped_column(Integer, nullable=False)
    last_receipt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

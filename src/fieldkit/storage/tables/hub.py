"""Tables of a hub's people: the key slots and the cases shared with lawyers.

On a profile's own SQLite file they stay empty (one person, one key file). On a hub each person
other than the one who created it has a row in ``hub_people``: the hub's master key wrapped under
that person's own slot key (which only their key file, under their passphrase, opens), the
PostgreSQL role they connect as, and their own report-signing key wrapped the same way. Nothing
in a row opens without the person's key file: the rows are safe on the server.

``hub_shares`` lists, per lawyer's role, the records and evidence items of each case shared with
them; the row-level security policies of ``storage/hub_access.py`` read it.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base


class HubPersonRow(Base):
    __tablename__ = "hub_people"
    __table_args__ = (CheckConstraint("role IN ('coordinator', 'lawyer')", name="role_known"),)

    label: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    db_role: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    # The master key wrapped under the person's slot key; NULL once revoked (destroyed).
    slot: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    device_public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The person's Ed25519 seed wrapped under the slot key; NULL once revoked.
    device_seed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    granted_at: Mapped[str] = mapped_column(String(40), nullable=False)
    granted_by: Mapped[str] = mapped_column(String(63), nullable=False)
    joined_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class HubShareRow(Base):
    __tablename__ = "hub_shares"
    __table_args__ = (Index("ix_hub_shares_item", "db_role", "item_id"),)

    db_role: Mapped[str] = mapped_column(String(63), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    shared_at: Mapped[str] = mapped_column(String(40), nullable=False)

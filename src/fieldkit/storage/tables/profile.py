"""Tables of the profile itself: its identity, the device signing key, the change counter."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedBytes


class ProfileMeta(Base):
    """One row: who this profile is. Lives inside the encrypted database."""

    __tablename__ = "profile_meta"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(36), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    # Ed25519 private key seed (32 bytes): the device's signing identity.
    device_signing_key: Mapped[bytes] = mapped_column(
        SealedBytes("profile_meta.device_signing_key"), nullable=False
    )
    device_public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ChangeCounter(Base):
    __tablename__ = "change_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)

"""Drafts: what an open editor holds and has not saved yet, kept inside the encrypted database.

A draft is local to this laptop: nothing reads this table when building a bundle or a package.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base
from fieldkit.storage.tables.sealed import SealedText


class DraftRow(Base):
    __tablename__ = "drafts"

    # One row per open editor (a random id kept while the editor is open and when it is restored).
    key: Mapped[str] = mapped_column(String(36), primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    base_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The form's entries (canonical JSON) and where the editor was opened from (JSON).
    data: Mapped[str] = mapped_column(SealedText("drafts.data"), nullable=False)
    context: Mapped[str] = mapped_column(SealedText("drafts.context"), nullable=False, default="{}")
    saved_at: Mapped[str] = mapped_column(String(40), nullable=False)

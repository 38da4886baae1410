"""The disclosure ledger: what each output handed to whom, kept inside the encrypted database.

One row per output written (a case file, later a lawyer package): the record it was made from, the
audience, when, the SHA-256 of the output and the ids of the records and evidence items it
disclosed. When the same output is made again, what was disclosed before and is withheld now (a
consent withdrawn since) is flagged in the new output. Local to this profile; never exported.
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldkit.storage.base import Base


class DisclosureRow(Base):
    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_subject", "subject_id", "kind", "audience"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(String(36), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    audience: Mapped[str] = mapped_column(String(32), nullable=False)
    made_at: Mapped[str] = mapped_column(String(40), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # JSON list of the ids of records and evidence items the output disclosed.
    disclosed: Mapped[str] = mapped_column(Text, nullable=False)

"""Record conflicts: one revision of a record received with two different contents."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.storage.tables.records import RecordConflictRow


@dataclass(frozen=True)
class ConflictView:
    record_id: str
    revision: int
    local_hash: str
    other_hash: str
    other_device: str
    detected_at: str
    resolved: bool


def list_conflicts(
    session: Session, *, unresolved_only: bool = True
) -> builtins.list[ConflictView]:
    stmt = select(RecordConflictRow).order_by(RecordConflictRow.id)
    if unresolved_only:
        stmt = stmt.where(RecordConflictRow.resolved.is_(False))
    return [
        ConflictView(
            r.record_id,
            r.revision,
            r.local_hash,
            r.other_hash,
            r.other_device,
            r.detected_at,
            bool(r.resolved),
        )
        for r in session.execute(stmt).scalars()
    ]

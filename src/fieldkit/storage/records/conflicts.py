"""Record conflicts: one revision of a record received with two different contents."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
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


def conflict_documents(
    session: Session, record_id: str, revision: int
) -> tuple[dict[str, Any], builtins.list[tuple[str, dict[str, Any]]]]:
    """The version held here and every other received version of ``revision`` of a record, as
    documents: (local document, [(other device, other document), ...]). Unresolved only."""
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.storage.tables.records import RecordVersionRow

    rows = session.execute(
        select(RecordConflictRow).where(
            RecordConflictRow.record_id == record_id,
            RecordConflictRow.revision == revision,
            RecordConflictRow.resolved.is_(False),
        )
    ).scalars()
    conflicts = builtins.list(rows)
    if not conflicts:
        raise FieldkitError(ErrorCode.NOT_FOUND, what="conflict", id=f"{record_id}@{revision}")
    wanted = {c.local_hash for c in conflicts} | {c.other_hash for c in conflicts}
    versions = {
        v.content_hash: json.loads(bytes(v.doc))
        for v in session.execute(
            select(RecordVersionRow).where(
                RecordVersionRow.record_id == record_id,
                RecordVersionRow.revision == revision,
                RecordVersionRow.content_hash.in_(wanted),
            )
        ).scalars()
    }
    local = versions[conflicts[0].local_hash]
    others = [
        (c.other_device, versions[c.other_hash]) for c in conflicts if c.other_hash in versions
    ]
    return local, others


def mark_resolved(session: Session, record_id: str, revision: int) -> int:
    """Mark every open conflict of ``revision`` of a record resolved; how many there were."""
    result = session.execute(
        update(RecordConflictRow)
        .where(
            RecordConflictRow.record_id == record_id,
            RecordConflictRow.revision == revision,
            RecordConflictRow.resolved.is_(False),
        )
        .values(resolved=True)
    )
    return int(getattr(result, "rowcount", 0))

"""Reading and writing drafts (``drafts`` table) inside the caller's session."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldkit.storage.tables.drafts import DraftRow


def put_draft(
    session: Session,
    *,
    key: str,
    form_id: str,
    record_id: str | None,
    base_revision: int | None,
    case_id: str | None,
    data: str,
    context: str,
    saved_at: str,
) -> None:
    """Insert or replace the draft ``key``."""
    row = session.get(DraftRow, key)
    if row is None:
        row = DraftRow(key=key)
        session.add(row)
    row.form_id = form_id
    row.record_id = record_id
    row.base_revision = base_revision
    row.case_id = case_id
    row.data = data
    row.context = context
    row.saved_at = saved_at


def draft_rows(session: Session) -> list[DraftRow]:
    return list(session.execute(select(DraftRow).order_by(DraftRow.saved_at)).scalars())


def delete_draft(session: Session, key: str) -> bool:
    result = session.execute(delete(DraftRow).where(DraftRow.key == key))
    return bool(getattr(result, "rowcount", 0))


def delete_all_drafts(session: Session) -> int:
    result = session.execute(delete(DraftRow))
    return int(getattr(result, "rowcount", 0))

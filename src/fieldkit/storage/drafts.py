"""Reading and writing drafts (``drafts`` table) inside the caller's session."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fieldkit.storage.tables.drafts import DraftRow
from fieldkit.storage.tables.sealed import seal_rows


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
    """Insert or replace the draft ``key`` (one statement: drafts are written while a person
    types, on a worker that shares the interpreter with the GUI thread)."""
    values = {
        "key": key,
        "form_id": form_id,
        "record_id": record_id,
        "base_revision": base_revision,
        "case_id": case_id,
        "data": data,
        "context": context,
        "saved_at": saved_at,
    }
    dialect = session.get_bind().dialect
    insert = postgresql_insert if dialect.name == "postgresql" else sqlite_insert
    # On a hub the draft's sealed columns are bound to its key like every sealed value.
    (row,) = seal_rows(dialect, DraftRow, [values])
    stmt = insert(DraftRow).values(row)
    changed = {name: stmt.excluded[name] for name in values if name != "key"}
    session.execute(stmt.on_conflict_do_update(index_elements=[DraftRow.key], set_=changed))


def draft_rows(session: Session) -> list[DraftRow]:
    return list(session.execute(select(DraftRow).order_by(DraftRow.saved_at)).scalars())


def delete_draft(session: Session, key: str) -> bool:
    result = session.execute(delete(DraftRow).where(DraftRow.key == key))
    return bool(getattr(result, "rowcount", 0))


def delete_all_drafts(session: Session) -> int:
    result = session.execute(delete(DraftRow))
    return int(getattr(result, "rowcount", 0))

"""Statements the migrations write differently for SQLite and for a hub's PostgreSQL.

Append-only tables refuse UPDATE and DELETE with a trigger on both; the full-text index is FTS5 on
SQLite and the keyed-token table (``storage/tokens.py``) on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

REFUSE_FUNCTION = "fieldkit_refuse_change"


def is_postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def make_append_only(table: str, message: str) -> None:
    if is_postgresql():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {REFUSE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$"
        )
    for event in ("update", "delete"):
        if is_postgresql():
            op.execute(
                f"CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {REFUSE_FUNCTION}('{message}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_append_only(table: str) -> None:
    for event in ("update", "delete"):
        if is_postgresql():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def sealed_text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """A column that ``storage/tables/sealed.py`` seals on a hub: text on SQLite, bytea there."""
    plain: sa.types.TypeEngine[str] = sa.String(length) if length else sa.Text()
    return plain.with_variant(postgresql.BYTEA(), "postgresql")

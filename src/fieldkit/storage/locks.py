"""Locks that keep a hub's writers apart: PostgreSQL advisory locks, held to the transaction's end.

A profile's own SQLite file has one writer at a time already. A hub has several coordinators
writing at once, and a few things must still happen one at a time: the audit log's next sequence
number is read and then written, and a bundle's "was it imported already?" must be answered after
any other import of it has committed. Each lock is held until the transaction ends, so what was
decided under it is committed (or rolled back) with it; a killed process's locks go with its
connection.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import text
from sqlalchemy.orm import Session

_NAMESPACE = 0x666B  # "fk"


class HubLock(IntEnum):
    AUDIT_APPEND = 1
    BUNDLE_IMPORT = 2


def hold(session: Session, lock: HubLock) -> None:
    """Wait for ``lock`` and keep it to the end of the session's transaction (a no-op on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :lock)"),
        {"space": _NAMESPACE, "lock": int(lock)},
    )

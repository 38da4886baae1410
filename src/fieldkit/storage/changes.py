"""A profile-wide, strictly increasing change counter.

Every saved record version, evidence change and custody event takes the next value, so a bundle can
carry "everything after change N" and a receipt can acknowledge "everything up to change N".
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldkit.storage.tables.profile import ChangeCounter


def next_change_seq(session: Session) -> int:
    """Take the next change number inside the caller's transaction."""
    session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + 1)
    )
    value = session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    return int(value)


def current_change_seq(session: Session) -> int:
    value = session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    return int(value)

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


def next_change_seqs(session: Session, count: int) -> range:
    """Take ``count`` consecutive change numbers at once inside the caller's transaction.

    The statement is written even for ``count == 0``: it takes the database's write lock, so what
    the caller reads afterwards cannot change before it commits.
    """
    if count < 0:
        raise ValueError("count must be 0 or more")
    session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + count)
    )
    last = int(
        session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    )
    return range(last - count + 1, last + 1)


def current_change_seq(session: Session) -> int:
    value = session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    return int(value)

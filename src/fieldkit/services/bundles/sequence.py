"""Sequence numbers of a device's bundles on the coordinator: the jump limit and the gaps.

A device numbers its bundles 1, 2, 3... A bundle may arrive before earlier ones (another stick was
slower); the numbers not seen yet are kept as ranges (``sequence_gaps``: first and last number),
so memory and time stay bounded whatever number a signed bundle carries. A number more than
:data:`MAX_SEQ_JUMP` past the highest one imported from that device is refused: no honest device
loses a thousand bundles in a row, and a forged far number would otherwise open an endless gap.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.audit import utc_now
from fieldkit.storage.tables.bundles import ImportedBundle, SequenceGap

MAX_SEQ_JUMP = 1000

Gap = tuple[int, int]  # first and last missing number, inclusive


def highest_imported(session: Session, device_id: str) -> int:
    found = session.execute(
        select(func.max(ImportedBundle.seq)).where(ImportedBundle.device_id == device_id)
    ).scalar_one_or_none()
    return int(found or 0)


def check_jump(session: Session, device_id: str, seq: int, *, path: str, label: str) -> None:
    """Refuse a number too far past the highest imported (before anything is written)."""
    last = highest_imported(session, device_id)
    if seq > last + MAX_SEQ_JUMP:
        raise FieldkitError(
            ErrorCode.BUNDLE_SEQ_JUMP,
            path=path,
            seq=seq,
            limit=MAX_SEQ_JUMP,
            label=label,
            last=last,
        )


def update_gaps(session: Session, device_id: str, seq: int) -> list[Gap]:
    """Account for bundle ``seq`` arriving (call before its import row is added); returns the
    device's gaps afterwards, lowest first."""
    last = highest_imported(session, device_id)
    rows = list(
        session.execute(select(SequenceGap).where(SequenceGap.device_id == device_id)).scalars()
    )
    now = utc_now()
    top = max([last, *(row.through for row in rows)])
    for row in rows:
        if row.seq <= seq <= row.through:
            # the number fills part of a gap: what is left of it on either side stays
            if seq + 1 <= row.through:
                session.add(_gap(device_id, seq + 1, row.through, row.detected_at))
            if row.seq <= seq - 1:
                row.through = seq - 1
            else:
                session.delete(row)
    if seq > top + 1:
        session.add(_gap(device_id, top + 1, seq - 1, now))
    session.flush()
    return [
        (g.seq, g.through)
        for g in session.execute(
            select(SequenceGap).where(SequenceGap.device_id == device_id).order_by(SequenceGap.seq)
        ).scalars()
    ]


def _gap(device_id: str, first: int, last: int, detected_at: str) -> SequenceGap:
    return SequenceGap(
        device_id=device_id, seq=first, through=last, detected_at=detected_at, status="pending"
    )


def gaps_text(gaps: list[list[int]] | list[Gap]) -> str:
    """``1–3, 7`` for the gaps [1, 3] and [7, 7]."""
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in gaps)

"""Reading and writing the disclosure ledger (``tables/disclosures.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.storage.tables.disclosures import DisclosureRow


@dataclass(frozen=True)
class PriorDisclosure:
    """An earlier output of the same kind, for the same record and audience."""

    made_at: str
    sha256: str
    disclosed: frozenset[str]


def record_disclosure(
    session: Session,
    *,
    subject_id: str,
    kind: str,
    audience: str,
    made_at: str,
    sha256: str,
    disclosed: Iterable[str],
) -> None:
    session.add(
        DisclosureRow(
            subject_id=subject_id,
            kind=kind,
            audience=audience,
            made_at=made_at,
            sha256=sha256,
            disclosed=json.dumps(sorted(set(disclosed))),
        )
    )


def earlier_disclosures(
    session: Session, *, subject_id: str, kind: str, audience: str
) -> list[PriorDisclosure]:
    """Every earlier output of ``kind`` for ``subject_id`` and ``audience``, oldest first."""
    rows = session.execute(
        select(DisclosureRow)
        .where(
            DisclosureRow.subject_id == subject_id,
            DisclosureRow.kind == kind,
            DisclosureRow.audience == audience,
        )
        .order_by(DisclosureRow.id)
    ).scalars()
    out = []
    for row in rows:
        try:
            ids = json.loads(row.disclosed)
        except ValueError:
            ids = []
        out.append(
            PriorDisclosure(
                row.made_at, row.sha256, frozenset(str(i) for i in ids if isinstance(i, str))
            )
        )
    return out

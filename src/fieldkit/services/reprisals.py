"""Reprisal checks coming due (OPCAT Art. 21 (1)): every interviewee of every visit whose next
check is due by a given day and has no outcome recorded on or after that day — the coordinator's
list, so that no promised check is forgotten."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fieldkit.domain.common import date_bounds
from fieldkit.services.records import RecordService
from fieldkit.storage.search import RecordFilters
from fieldkit.storage.vault import Vault

PAGE = 200


@dataclass(frozen=True)
class DueCheck:
    visit_id: str
    visit_title: str
    code: str
    due: str  # ISO day
    last_outcome: str | None
    overdue: bool


def _day(value: Any) -> date | None:
    raw = value.get("value") if isinstance(value, Mapping) else value
    if not isinstance(raw, str):
        return None
    try:
        return date_bounds(raw)[0]
    except ValueError:
        return None


def checks_due(vault: Vault, *, within_days: int = 14, today: date | None = None) -> list[DueCheck]:
    """Checks due within ``within_days`` of ``today`` (overdue ones included), soonest first."""
    today = today or date.today()
    horizon = today + timedelta(days=within_days)
    records = RecordService(vault)
    found: list[DueCheck] = []
    offset = 0
    while True:
        page = records.list(RecordFilters(types=("visit",)), offset=offset, limit=PAGE)
        for visit in page:
            for person in visit.data.get("interviewees") or []:
                if not isinstance(person, Mapping) or not person.get("reprisal_follow_up", True):
                    continue
                due = _day(person.get("next_check"))
                if due is None or due > horizon:
                    continue
                checked = _day(person.get("checked_on"))
                if checked is not None and checked >= due:
                    continue  # the check was made and its outcome recorded
                found.append(
                    DueCheck(
                        visit.id,
                        visit.title,
                        str(person.get("code", "")),
                        due.isoformat(),
                        person.get("check_outcome"),
                        due < today,
                    )
                )
        if len(page) < PAGE:
            break
        offset += PAGE
    return sorted(found, key=lambda c: (c.due, c.visit_title, c.code))

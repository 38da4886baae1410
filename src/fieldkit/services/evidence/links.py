"""Links of evidence to cases, interviews, visits and persons; consent inherited from interviews."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import EvidenceLinks, LinkKind
from fieldkit.domain.records import record_type_name
from fieldkit.services.evidence.core import _LINK_FIELDS, EvidenceBase


class LinksMixin(EvidenceBase):
    """Links of items to records, and the consent an item inherits from its interview."""

    def _check_links(self, session: Session, links: EvidenceLinks) -> None:
        wanted = [
            (links.case_id, "case"),
            (links.interview_id, "interview"),
            (links.visit_id, "visit"),
            *((pid, "person") for pid in links.person_ids),
        ]
        if not any(record_id for record_id, _ in wanted):
            return
        records = self._records()
        for record_id, expected in wanted:
            if record_id is None:
                continue
            view = records.get(session, record_id, include_deleted=False)
            if view.type != expected:
                raise FieldkitError(
                    ErrorCode.RECORD_WRONG_TYPE,
                    id=record_id,
                    actual=record_type_name(view.type),
                    expected=record_type_name(expected),
                )

    def _write_links(self, session: Session, item_id: str, links: EvidenceLinks) -> None:
        if links == EvidenceLinks():
            return
        records = self._records()
        for kind, field_name in _LINK_FIELDS.items():
            target = getattr(links, field_name)
            if target is not None:
                records.link(session, item_id, target, kind.value)
        for person_id in links.person_ids:
            records.link(session, item_id, person_id, LinkKind.PERSON.value)

    def _inherited_consent(
        self, session: Session, interview_id: str | None
    ) -> dict[str, Any] | None:
        """The consent decisions of the linked interview, per scope, after withdrawals."""
        if interview_id is None:
            return None
        data = self._records().get(session, interview_id).data
        consent = _find_consent(data)
        if consent is None:
            return {"interview_id": interview_id, "scopes": {}, "limited": False}
        scopes = sorted({entry.scope for entry in consent.scopes})
        statuses = {scope: consent.effective_status(scope) for scope in scopes}
        conditions = {
            entry.scope: entry.conditions
            for entry in consent.scopes
            if entry.conditions and statuses.get(entry.scope) == ConsentStatus.CONDITIONAL
        }
        return {
            "interview_id": interview_id,
            "scopes": {k: (v.value if v else None) for k, v in statuses.items()},
            "conditions": conditions,
            "limited": any(v != ConsentStatus.GRANTED for v in statuses.values()),
        }


def _find_consent(data: Mapping[str, Any]) -> ConsentRecord | None:
    """The first consent field (a dict with a "scopes" list) in a record's data, if any."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            scopes = value.get("scopes")
            if isinstance(scopes, list) and all(
                isinstance(s, Mapping) and "scope" in s for s in scopes
            ):
                try:
                    return ConsentRecord.model_validate(
                        {"scopes": scopes, "withdrawals": value.get("withdrawals") or []}
                    )
                except ValueError:
                    return None
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None

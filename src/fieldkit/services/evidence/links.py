"""Links of evidence to cases, interviews, visits and persons; consent inherited from interviews."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import EvidenceItem, EvidenceLinks, LinkKind, SensitiveFlag
from fieldkit.domain.records import record_type_name
from fieldkit.services.evidence.core import _LINK_FIELDS, EvidenceBase, _json_text
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import utc_now

# Consent scopes about recording a person: a photo, sound or film of them.
MEDIA_CONSENT_SCOPES = ("photographs", "injury_photographs", "audio_recording", "video_recording")


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

    def set_links(self, item_id: str, links: EvidenceLinks) -> EvidenceItem:
        """Replace an item's links (after intake, as at intake); the consent limits are read
        again from the newly linked interview. Audited with the kinds of link changed."""
        from fieldkit.services.roles import require_writable

        require_writable(self.vault)
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
            self._check_links(session, links)
            current = self._links_of(session, [item_id])[item_id]
            if current == links:
                return self._item(session, row, current)
            records = self._records()
            for kind, field_name in _LINK_FIELDS.items():
                target = getattr(current, field_name)
                if target is not None and target != getattr(links, field_name):
                    records.unlink(session, item_id, target, kind.value)
            for person_id in current.person_ids:
                if person_id not in links.person_ids:
                    records.unlink(session, item_id, person_id, LinkKind.PERSON.value)
            for kind, field_name in _LINK_FIELDS.items():
                target = getattr(links, field_name)
                if target is not None and target != getattr(current, field_name):
                    records.link(session, item_id, target, kind.value)
            for person_id in links.person_ids:
                if person_id not in current.person_ids:
                    records.link(session, item_id, person_id, LinkKind.PERSON.value)
            consent = self._inherited_consent(session, links.interview_id)
            flags = set(json.loads(row.sensitive_flags))
            if consent is not None and consent.get("limited"):
                flags.add(SensitiveFlag.CONSENT_LIMITED.value)
            else:
                flags.discard(SensitiveFlag.CONSENT_LIMITED.value)
            row.consent_limits = _json_text(consent)
            row.sensitive_flags = _json_text(sorted(flags)) or "[]"
            row.updated_at = utc_now()
            row.change_seq = next_change_seq(session)
            changed = sorted(
                name
                for name in ("case_id", "interview_id", "visit_id", "person_ids")
                if getattr(current, name) != getattr(links, name)
            )
            AuditLog.append(
                session, "evidence.links", "evidence", item_id, details={"fields": changed}
            )
            session.flush()
            return self._item(session, row)

    def media_consent(self, item_id: str) -> dict[str, str]:
        """The interviewee's present decision on the media scopes (``photographs``,
        ``injury_photographs``, ``audio_recording``, ``video_recording``) for an item linked to
        an interview, read from the interview as it is now (withdrawals applied); empty when the
        item is linked to no interview or the interview records none."""
        with self.vault.session() as session:
            links = self._links_of(session, [item_id])[item_id]
            consent = self._inherited_consent(session, links.interview_id)
        scopes = (consent or {}).get("scopes") or {}
        return {
            scope: str(scopes[scope])
            for scope in MEDIA_CONSENT_SCOPES
            if scopes.get(scope) is not None
        }

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

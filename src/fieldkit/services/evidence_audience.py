"""The disclosure policy's decision on one evidence item, for outputs of a single item.

``fieldkit evidence export --audience`` (and the desktop's *Export original…*) writes one
original out; it asks the policy with the inputs a case file gives it for the same item: the
persons linked, the interviewee of the linked interview, every interview of those persons (their
consents, a decline anywhere winning) and the persons a linked case is about.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from fieldkit.domain.disclosure import Audience, Decision, DisclosurePolicy
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.evidence import EvidenceItem
from fieldkit.export.reports.audience import People, injury_photo_ids, interviewee_of, media_kind
from fieldkit.export.reports.data import EvidenceView, RecordView
from fieldkit.storage.records import RecordStore
from fieldkit.storage.records import RecordView as StoredRecord
from fieldkit.storage.vault import Vault


def record_view(record: StoredRecord) -> RecordView:
    """A stored record as the report layer reads it."""
    return RecordView(
        id=record.id,
        type=record.type,
        data=record.data,
        revision=record.revision,
        template_version=record.template_version,
        confidential=record.confidential,
        deleted=record.deleted,
        created_at=record.created_at,
        updated_at=record.updated_at,
        origin_device=record.origin_device,
    )


def _linked(store: RecordStore, s: Session, record_id: str, kind: str) -> list[str]:
    """Ids of the live records of type ``kind`` linked to ``record_id`` (either direction)."""
    found = []
    for link in store.links(s, record_id):
        if link.from_id == record_id:
            other, other_type = link.to_id, link.kind.split("_", 1)[-1]
        else:
            other, other_type = link.from_id, link.kind.split("_", 1)[0]
        if other_type == kind:
            found.append(other)
    return found


def _load(store: RecordStore, s: Session, ids: Iterable[str], kind: str) -> list[RecordView]:
    out = []
    for record_id in dict.fromkeys(ids):
        try:
            record = store.get(s, record_id, include_deleted=False)
        except FieldkitError:
            continue  # gone: it concerns nobody the policy could weigh
        if record.type == kind:
            out.append(record_view(record))
    return out


def evidence_decision(vault: Vault, item: EvidenceItem, audience: Audience) -> Decision:
    """May ``item`` (its original file) go to ``audience``? The policy decides."""
    view = EvidenceView.from_item(item)
    store = RecordStore(vault.device_id)
    with vault.session() as s:
        cases = {r.id: r for r in _load(store, s, view.linked_records, "case")}
        persons: dict[str, None] = dict.fromkeys(view.person_ids)
        for case_id in cases:
            persons.update(dict.fromkeys(_linked(store, s, case_id, "person")))
        interview_ids: dict[str, None] = dict.fromkeys(
            [view.interview_id] if view.interview_id else []
        )
        first = _load(store, s, interview_ids, "interview")
        persons.update(dict.fromkeys(p for p in map(interviewee_of, first) if p))
        for person_id in list(persons):
            interview_ids.update(dict.fromkeys(_linked(store, s, person_id, "interview")))
        interviews = _load(store, s, interview_ids, "interview")
        person_views = _load(store, s, persons, "person")
    people = People(person_views, interviews)
    subject = people.evidence_subject(view, {i.id: i for i in interviews}, cases)
    return DisclosurePolicy(audience).evidence(
        subject, media_kind(view, injury_photo_ids(interviews))
    )

"""Plain data a report is built from, gathered by ``services/reports.py``.

The report layer never touches the database: it receives record documents (the form data as the
templates define it), evidence metadata and custody events as these small frozen views, so a report
can be built and tested from any source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldkit.domain.evidence import CustodyEvent, EvidenceItem, ItemState


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class RecordView:
    """One record's current version: its envelope and its form data."""

    id: str
    type: str
    data: Mapping[str, Any]
    revision: int = 1
    template_version: str = ""
    confidential: bool = False
    deleted: bool = False
    created_at: str = ""
    updated_at: str = ""
    origin_device: str = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> RecordView:
        """From a record version document (``{"id", "type", "revision", ..., "data"}``)."""
        data = doc.get("data")
        return cls(
            id=_text(doc.get("id")),
            type=_text(doc.get("type") or doc.get("template_id")),
            data=data if isinstance(data, Mapping) else {},
            revision=int(doc.get("revision") or 1),
            template_version=_text(doc.get("template_version")),
            confidential=bool(doc.get("confidential")),
            deleted=bool(doc.get("deleted")),
            created_at=_text(doc.get("created_at")),
            updated_at=_text(doc.get("updated_at")),
            origin_device=_text(doc.get("origin_device")),
        )


@dataclass(frozen=True)
class CustodyView:
    """One chain-of-custody event of an evidence item, as the index prints it."""

    seq: int
    action: str
    at: str
    actor: str = ""
    purpose: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    hash_before: str = ""
    hash_after: str = ""
    device_id: str = ""

    @classmethod
    def from_event(cls, event: CustodyEvent) -> CustodyView:
        return cls(
            seq=event.seq,
            action=event.action.value,
            at=event.at,
            actor=event.actor,
            purpose=event.purpose or "",
            details=dict(event.details),
            hash_before=event.hash_before or "",
            hash_after=event.hash_after or "",
            device_id=event.device_id,
        )


@dataclass(frozen=True)
class EvidenceView:
    """An evidence item as the index lists it: enough to check the original file by hand."""

    id: str
    original_name: str
    item_type: str
    size: int | None
    sha256: str
    collected_by: str = ""
    collected_at: str = ""
    title: str = ""
    media_type: str = ""
    description: str = ""
    copy_role: str = "original"
    custody: tuple[CustodyView, ...] = ()
    linked_records: tuple[str, ...] = ()
    purged: bool = False
    confidential: bool = False
    sensitive_flags: tuple[str, ...] = ()
    interview_id: str = ""
    person_ids: tuple[str, ...] = ()
    # Berkeley Protocol: when and where the content was made, apart from when it was received.
    captured_at: str = ""
    place_created: str = ""

    @classmethod
    def from_item(cls, item: EvidenceItem, events: Sequence[CustodyEvent] = ()) -> EvidenceView:
        """From the evidence service's item and its custody events (in log order)."""
        links = item.links
        linked = [x for x in (links.case_id, links.interview_id, links.visit_id) if x]
        linked.extend(links.person_ids)
        return cls(
            id=item.id,
            original_name=item.original_name,
            item_type=item.item_type.value,
            size=item.size,
            sha256=item.sha256.lower(),
            collected_by=item.collected_by or "",
            collected_at=item.collected_at or item.created_at,
            title=item.title or "",
            media_type=item.media_type,
            description=item.description or "",
            copy_role=item.copy_role.value,
            custody=tuple(CustodyView.from_event(e) for e in events),
            linked_records=tuple(linked),
            purged=item.state == ItemState.PURGED,
            confidential=item.confidential,
            sensitive_flags=tuple(f.value for f in item.sensitive_flags),
            interview_id=links.interview_id or "",
            person_ids=tuple(links.person_ids),
            captured_at=item.content_created_at or "",
            place_created=item.place_created or "",
        )


@dataclass(frozen=True)
class EarlierOutput:
    """An earlier output for the same record and audience, from the disclosure ledger."""

    made_at: str
    disclosed: frozenset[str]


@dataclass(frozen=True)
class CaseFileData:
    """Everything a case file shows, already selected and ordered."""

    case: RecordView
    persons: Sequence[RecordView] = ()
    interviews: Sequence[RecordView] = ()
    visits: Sequence[RecordView] = ()
    recommendations: Sequence[RecordView] = ()
    evidence: Sequence[EvidenceView] = ()
    facilities: Mapping[str, RecordView] = field(default_factory=dict)
    # Roles given when a person was linked to the case explicitly (codes of "event_roles").
    person_roles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Every other person of the profile: only to replace their names in free text.
    other_persons: Sequence[RecordView] = ()
    # Earlier case files for the same audience (the disclosure ledger).
    earlier: Sequence[EarlierOutput] = ()


@dataclass(frozen=True)
class VisitReportData:
    """A visit with its facility, recommendations and the facility's earlier visits."""

    visit: RecordView
    facility: RecordView | None = None
    recommendations: Sequence[RecordView] = ()
    interviews: Sequence[RecordView] = ()
    history_visits: Sequence[RecordView] = ()
    history_recommendations: Sequence[RecordView] = ()
    evidence: Sequence[EvidenceView] = ()
    # The interviewees of the linked interviews: their names are replaced in free text.
    persons: Sequence[RecordView] = ()
    # Every other person of the profile: only to replace their names in free text.
    other_persons: Sequence[RecordView] = ()

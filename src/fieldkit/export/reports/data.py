"""Plain data a report is built from, gathered by ``services/reports.py``.

The report layer never touches the database: it receives record documents (the form data as the
templates define it), evidence metadata and custody events as these small frozen views, so a report
can be built and tested from any source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _first(doc: Mapping[str, Any], *keys: str) -> Any:
    """The first present, non-empty value among ``keys`` (dotted paths allowed)."""
    for key in keys:
        node: Any = doc
        for part in key.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                node = None
                break
        if node not in (None, "", [], {}):
            return node
    return None


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
    """One chain-of-custody event of an evidence item."""

    seq: int
    action: str
    at: str
    actor: str = ""
    details: str = ""
    hash_after: str = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], seq: int) -> CustodyView:
        parts = []
        for key in ("from_custodian", "to_custodian", "purpose", "method", "place", "notes"):
            value = _first(doc, key, f"details.{key}")
            if value:
                parts.append(str(value))
        bundle = _first(doc, "bundle_id", "details.bundle_id")
        if bundle:
            parts.append(f"bundle {bundle}")
        return cls(
            seq=int(_first(doc, "seq", "index") or seq),
            action=_text(_first(doc, "action", "kind", "event")),
            at=_text(_first(doc, "at", "timestamp", "created_at", "time")),
            actor=_text(_first(doc, "actor", "actor_label", "device_id", "by")),
            details="; ".join(parts),
            hash_after=_text(_first(doc, "hash_after", "sha256", "details.sha256")),
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
    mime: str = ""
    description: str = ""
    custody: tuple[CustodyView, ...] = ()
    links: tuple[str, ...] = ()
    purged: bool = False

    @classmethod
    def from_doc(
        cls, doc: Mapping[str, Any], custody: Sequence[Mapping[str, Any]] = ()
    ) -> EvidenceView:
        """From an evidence metadata document and its custody events (oldest first)."""
        size = _first(doc, "size", "size_bytes", "original_size")
        links_raw = _first(doc, "links", "linked_records")
        links: list[str] = []
        if isinstance(links_raw, Sequence) and not isinstance(links_raw, str):
            for link in links_raw:
                if isinstance(link, Mapping):
                    target = _first(link, "to_id", "id", "record_id")
                    if target:
                        links.append(str(target))
                elif link:
                    links.append(str(link))
        return cls(
            id=_text(_first(doc, "id", "item_id")),
            original_name=_text(_first(doc, "original_name", "original_filename", "filename")),
            item_type=_text(_first(doc, "item_type", "type", "kind")),
            size=int(size) if isinstance(size, int | float | str) and str(size).isdigit() else None,
            sha256=_text(_first(doc, "sha256", "hash.value", "original_sha256")).lower(),
            collected_by=_text(_first(doc, "collected_by", "collector", "created_by")),
            collected_at=_text(_first(doc, "collected_at", "received_at", "added_at", "created_at")),
            title=_text(_first(doc, "title")),
            mime=_text(_first(doc, "mime", "media_type", "mime_type", "format")),
            description=_text(_first(doc, "description")),
            custody=tuple(
                CustodyView.from_doc(event, index) for index, event in enumerate(custody, start=1)
            ),
            links=tuple(links),
            purged=bool(_first(doc, "purged")),
        )


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

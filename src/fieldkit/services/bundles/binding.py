"""The signer-binding rule of bundle import, in one place (docs/bundle-format.md §9).

A trusted device speaks only for itself. Every record version, evidence item, custody event and
link in a bundle must originate from the device whose key signed it:

* a record version's ``origin_device`` is the signer, and a record already here (head or stored
  version) was created by the signer;
* an evidence item's ``origin_device`` is the signer, and an item already here is the signer's;
* a custody event's ``device_id`` is the signer and its item is the signer's (here or in the same
  bundle);
* a reference (a record's reference fields, an evidence item's links and parent) never points at
  a record or item another device created.

Monitors never relay other devices' records, so an honest bundle never breaks the rule; a bundle
that does is refused as a whole (nothing applied) with ``BUNDLE_FOREIGN_CLAIM``, and an alarm
is kept for a person. Authorship is taken from the signer: a document that names another device
is refused, never re-attributed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.storage.records.heads import record_origins
from fieldkit.storage.records.links import iter_refs
from fieldkit.storage.records.versions import load_template
from fieldkit.storage.tables.evidence import EvidenceItemRow

# The alarm kind kept (bundle_alarms.kind) when a bundle breaks the rule.
FOREIGN_CLAIM_ALARM = "foreign_claim"

# Why a member breaks the rule (shown after the member's name).
NAMES_OTHER_AUTHOR = N_("it names another device as its author")
RECORD_OF_OTHER = N_("it is a version of a record another device created")
REFERS_TO_OTHER = N_("it refers to a record or evidence item of another device")
ITEM_OF_OTHER = N_("it is an evidence item another device collected")
EVENT_OF_OTHER = N_("it holds a custody event of another device")
EVENT_ON_OTHER_ITEM = N_("it holds a custody event about an evidence item of another device")


def evidence_origins(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The device that collected each evidence item among ``ids`` that is here."""
    found: dict[str, str] = {}
    pending = sorted({i for i in ids if isinstance(i, str)})
    for start in range(0, len(pending), 500):
        chunk = pending[start : start + 500]
        for item_id, origin in session.execute(
            select(EvidenceItemRow.id, EvidenceItemRow.origin_device).where(
                EvidenceItemRow.id.in_(chunk)
            )
        ):
            found[item_id] = origin
    return found


class SignerBinding:
    """Checks one bundle's members against its verified signer, inside the import's session."""

    def __init__(self, session: Session, signer_device: str, path: str, label: str) -> None:
        self.session = session
        self.signer = signer_device
        self.path = path
        self.label = label
        self.items: set[str] = set()  # evidence items of this bundle (all the signer's)

    def refuse(self, member: str, reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.BUNDLE_FOREIGN_CLAIM,
            path=self.path,
            member=member,
            label=self.label,
            reason=TranslatableText(reason),
        )

    def _not_foreign(self, member: str, targets: Iterable[str], reason: str) -> None:
        wanted = {t for t in targets if isinstance(t, str)}
        if not wanted:
            return
        origins = {**record_origins(self.session, wanted), **evidence_origins(self.session, wanted)}
        if any(origin != self.signer for origin in origins.values()):
            raise self.refuse(member, reason)

    def check_records(self, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Record versions (member name, document), before any of them is stored."""
        for member, doc in batch:
            if not isinstance(doc, Mapping) or doc.get("origin_device") != self.signer:
                raise self.refuse(member, NAMES_OTHER_AUTHOR)
        ids = {str(doc.get("id")) for _member, doc in batch}
        origins = record_origins(self.session, ids)
        for member, doc in batch:
            origin = origins.get(str(doc.get("id")))
            if origin is not None and origin != self.signer:
                raise self.refuse(member, RECORD_OF_OTHER)
        for member, doc in batch:
            self._not_foreign(member, _record_targets(doc), REFERS_TO_OTHER)

    def check_evidence(self, member: str, doc: Mapping[str, Any]) -> None:
        """An evidence description, before its item is stored."""
        if not isinstance(doc, Mapping) or doc.get("origin_device") != self.signer:
            raise self.refuse(member, NAMES_OTHER_AUTHOR)
        item_id = doc.get("id")
        if isinstance(item_id, str):
            origin = evidence_origins(self.session, [item_id]).get(item_id)
            if origin is not None and origin != self.signer:
                raise self.refuse(member, ITEM_OF_OTHER)
            self.items.add(item_id)
        links = doc.get("links")
        targets: list[Any] = [doc.get("parent_id")]
        if isinstance(links, Mapping):
            targets += [links.get(k) for k in ("case_id", "interview_id", "visit_id")]
            people = links.get("person_ids")
            if isinstance(people, list):
                targets += people
        self._not_foreign(member, targets, REFERS_TO_OTHER)

    def check_custody(self, member: str, events: Sequence[Any]) -> None:
        """Custody events: the signer's own, about the signer's own items."""
        items: set[str] = set()
        for event in events:
            if not isinstance(event, Mapping) or event.get("device_id") != self.signer:
                raise self.refuse(member, EVENT_OF_OTHER)
            item_id = event.get("item_id")
            if not isinstance(item_id, str):
                raise self.refuse(member, EVENT_ON_OTHER_ITEM)
            items.add(item_id)
        outside = items - self.items
        origins = evidence_origins(self.session, outside)
        if any(origins.get(item_id) != self.signer for item_id in outside):
            raise self.refuse(member, EVENT_ON_OTHER_ITEM)


def _record_targets(doc: Mapping[str, Any]) -> list[str]:
    """The ids a version document's reference fields name (none when its template is unknown:
    the document check refuses it then)."""
    data = doc.get("data")
    template_id, version = doc.get("template_id"), doc.get("template_version")
    if not isinstance(data, Mapping) or not isinstance(template_id, str):
        return []
    if not isinstance(version, int) or isinstance(version, bool):
        return []
    try:
        template = load_template(template_id, version)
    except (FieldkitError, ValueError, OSError):
        return []
    try:
        return [target for _path, _f, target, _scope in iter_refs(template.fields, data)]
    except (TypeError, AttributeError):
        return []

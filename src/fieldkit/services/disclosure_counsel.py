"""What of a case may go to counsel: the case as gathered for its case file, every record, field
and evidence item passed through the disclosure policy for the counsel audience, as version
documents and evidence descriptions ready to be packed. No decision is made here: the policy
(``fieldkit.domain.disclosure``) decides, ``export/reports/audience.py`` says whom each record and
item concerns, and ``disclose_data`` applies the field decisions to the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldkit.domain.disclosure import (
    WITHHELD_MARK,
    Audience,
    DisclosurePolicy,
    Reason,
    redactor_for,
)
from fieldkit.domain.disclosure import policy as policy_module
from fieldkit.domain.disclosure.documents import R_INCOMPLETE, disclose_data
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.progress import CancelToken, check_cancel
from fieldkit.export.package_manifest import WithheldEntry
from fieldkit.export.reports.audience import (
    People,
    hidden_extras,
    injury_photo_ids,
    media_kind,
)
from fieldkit.export.reports.data import RecordView
from fieldkit.i18n import get_translator
from fieldkit.storage.custody import CustodyLog, event_doc
from fieldkit.storage.records import RecordStore, load_template
from fieldkit.storage.vault import Vault

# The package is language-neutral; the withheld mark and the explanations are in English, and
# the lawyer's program shows the reason again in its own language from the reason's code.
_EN = get_translator("en")

# Reason message -> a short code that names it in the package (docs/bundle-format.md §15).
REASON_CODES: dict[str, str] = {
    **{
        getattr(policy_module, name): name[2:].lower()
        for name in dir(policy_module)
        if name.startswith("R_") and isinstance(getattr(policy_module, name), str)
    },
    R_INCOMPLETE: "incomplete",
}
REASON_MESSAGES: dict[str, str] = {code: message for message, code in REASON_CODES.items()}

# Evidence description fields a person types: names in them are replaced as in any free text.
_EVIDENCE_TEXT = (
    "title",
    "description",
    "original_name",
    "creator",
    "collected_by",
    "place_created",
    "place_collected",
    "obtained_from",
    "capture_device",
    "transformation",
)


@dataclass(frozen=True)
class SharedEvidence:
    """An evidence item as it leaves: its description (after the policy) and its original."""

    item_id: str
    doc: dict[str, Any]
    sha256: str
    size: int
    media_type: str


@dataclass
class CounselContent:
    """What the policy lets a lawyer have of one case."""

    records: list[dict[str, Any]] = field(default_factory=list)  # version documents
    evidence: list[SharedEvidence] = field(default_factory=list)
    custody: list[dict[str, Any]] = field(default_factory=list)
    withheld: list[WithheldEntry] = field(default_factory=list)


def _entry(
    kind: str, item_id: str, record_type: str | None, field_path: str | None, reason: Reason
) -> WithheldEntry:
    return WithheldEntry(
        kind=kind,
        id=item_id,
        record_type=record_type,
        field=field_path,
        reason=REASON_CODES.get(reason.message, "withheld"),
        explanation=reason.text(_EN),
    )


def reason_text(entry: WithheldEntry, translator: Any) -> str:
    """A withheld entry's reason in the reader's language (the English words if unknown)."""
    message = REASON_MESSAGES.get(entry.reason)
    if message is None:
        return entry.explanation
    template: str = translator.gettext(message)
    if "{scope}" in template or "{audience}" in template:
        return entry.explanation  # the scope named in English is the clearest fallback
    return template


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, redact) for v in value]
    return value


def disclosed_case_for_counsel(
    vault: Vault, case_id: str, cancel: CancelToken | None = None
) -> CounselContent:
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.services.reports import ReportService

    data = ReportService(vault).gather_case(case_id, cancel)
    policy = DisclosurePolicy(Audience.COUNSEL)
    people = People(data.persons, data.interviews)
    mark = _EN.gettext(WITHHELD_MARK)
    # As the case file does: codes typed into the records and every other person of the profile
    # are hidden too, since nobody recorded a consent for them here.
    loose = hidden_extras(people, (data.case, *data.visits, *data.interviews), data.other_persons)
    redact = redactor_for(policy, [*people.all, *loose], mark)
    store = RecordStore(vault.device_id)
    evidence = EvidenceService(vault)
    content = CounselContent()
    views: list[RecordView] = [
        data.case,
        *data.persons,
        *data.interviews,
        *data.visits,
        *data.recommendations,
        *data.facilities.values(),
    ]
    with vault.session() as s:
        for index, view in enumerate(views):
            if index % 50 == 0:
                check_cancel(cancel)
            head = store.get(s, view.id)
            doc = next(
                v.doc for v in store.history(s, view.id) if v.content_hash == head.content_hash
            )
            template = load_template(str(doc["template_id"]), int(doc["template_version"]))
            disclosed = disclose_data(
                template,
                doc["data"],
                people.subject(view),
                policy,
                redact=redact,
                withheld_mark=mark,
            )
            if disclosed.data is None:
                assert disclosed.reason is not None
                if view.id == case_id:
                    raise FieldkitError(
                        ErrorCode.CASE_NOT_FOR_COUNSEL,
                        case=case_id,
                        reason=TranslatableText(disclosed.reason.message)
                        if not disclosed.reason.scopes
                        else disclosed.reason.text(_EN),
                    )
                content.withheld.append(
                    _entry("record", view.id, view.type, None, disclosed.reason)
                )
                continue
            content.withheld.extend(
                _entry("field", view.id, view.type, part.path, part.reason)
                for part in disclosed.withheld
            )
            content.records.append({**doc, "data": disclosed.data})
        interviews = {i.id: i for i in data.interviews}
        injuries = injury_photo_ids(data.interviews)
        for item in data.evidence:
            check_cancel(cancel)
            if item.purged:
                continue
            decision = policy.evidence(
                people.evidence_subject(item, interviews, {data.case.id: data.case}),
                media_kind(item, injuries),
            )
            if decision.withheld:
                content.withheld.append(_entry("evidence", item.id, None, None, decision.reason))
                continue
            meta = evidence.metadata_doc(item.id)
            for name in _EVIDENCE_TEXT:
                if isinstance(meta.get(name), str):
                    meta[name] = redact(meta[name])
            # Where and on what the camera recorded it stays in the original file itself;
            # the description carries no copy of it.
            meta["embedded_metadata"] = None
            if meta.get("consent_limits"):
                meta["consent_limits"] = _redacted(meta["consent_limits"], redact)
            content.evidence.append(
                SharedEvidence(item.id, meta, item.sha256, int(item.size or 0), item.media_type)
            )
            for event in CustodyLog.events(s, item.id):
                doc_event = event_doc(event)
                doc_event["purpose"] = _redacted(doc_event["purpose"], redact)
                doc_event["details"] = _redacted(doc_event["details"], redact)
                content.custody.append(doc_event)
    return content

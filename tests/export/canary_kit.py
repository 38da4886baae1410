"""A profile full of canaries: every free-text field of every form holds names and codes.

Three synthetic persons with distinct consent states, their interviews, a case, two visits, a
facility, a recommendation and evidence items. Every text field of every template (groups
included) is filled by iterating the templates, not by hand: with a marker naming the record it
belongs to, every person's names and every person's code. The leak tests render outputs for every
audience and look for these tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldkit.domain.errors import RecordValidationError
from fieldkit.domain.evidence import EvidenceInput, SensitiveFlag
from fieldkit.domain.forms import FieldDef, FieldType, children, load_template
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class Canary:
    key: str  # A, B, C
    code: str
    names: tuple[str, ...]


PERSONS = (
    Canary("A", "CQA-101", ("ALPHACANARYNAME", "ALPHACANARYSURNAME", "АЛЬФАКАНАРОК")),
    Canary("B", "CQB-202", ("BRAVOCANARYNAME", "BRAVOCANARYSURNAME", "БРАВОКАНАРОК")),
    Canary("C", "CQC-303", ("CHARLIECANARYNAME", "CHARLIECANARYSURNAME", "ЧАРЛІКАНАРОК")),
)
# A code typed into the visit only (file checks), belonging to no interview.
LOOSE_CODE = "CQV-404"
ALL_NAMES = tuple(n for p in PERSONS for n in p.names)
ALL_CODES = (*(p.code for p in PERSONS), LOOSE_CODE)


def _date(value: str) -> dict[str, str]:
    return {"value": value, "precision": "exact"}


def _consent(
    granted: tuple[str, ...], declined: tuple[str, ...] = (), withdrawn: tuple[str, ...] = ()
) -> dict[str, Any]:
    scopes = [{"scope": s, "status": "granted"} for s in ("interview", *granted, *withdrawn)]
    scopes += [{"scope": s, "status": "declined"} for s in declined]
    return {
        "scopes": scopes,
        "withdrawals": [
            {"date": _date("2026-11-20"), "scope": s, "how_received": "CANARYTXT-W"}
            for s in withdrawn
        ],
    }


# A consented to everything; B to some things (and withdrew injury photographs); C recorded
# nothing beyond taking part in the interview.
CONSENTS: dict[str, dict[str, Any]] = {
    "A": _consent(
        (
            "share_international",
            "share_prosecution",
            "share_partners",
            "transmit_to_administration",
            "anonymised_reports",
            "publication_with_name",
            "photographs",
            "injury_photographs",
        )
    ),
    "B": _consent(
        ("share_international", "anonymised_reports", "photographs"),
        declined=("transmit_to_administration", "publication_with_name"),
        withdrawn=("injury_photographs",),
    ),
    "C": _consent(()),
}


def canary_text(marker: str) -> str:
    """What goes into every text field: the record's marker, every name, every code."""
    names = " ".join(ALL_NAMES)
    codes = ", ".join(ALL_CODES)
    return f"{marker} {names} {codes}."


@dataclass
class Filled:
    """What the filler put where, so a test can say which text fields were covered."""

    text_fields: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)


def _first_term(vocabulary: str | None) -> str:
    vocab = load_vocabulary(vocabulary or "")
    return next(iter(vocab)).code


def fill_form(
    form_id: str, marker: str, refs: Callable[[FieldDef], Any], filled: Filled
) -> dict[str, Any]:
    """A value for every field of ``form_id``; text fields get ``canary_text``."""
    template = load_template(form_id)
    counter = iter(range(1, 10_000))

    def value(f: FieldDef, path: str) -> Any:
        kind = f.type
        if kind == FieldType.TEXT and f.format == "code":
            return refs(f)
        if kind in (FieldType.TEXT, FieldType.LONGTEXT):
            filled.text_fields.add(f"{form_id}.{path}")
            n = next(counter)
            text = canary_text(f"CANARYTXT-{marker}-{n}")
            if len(text) > f.effective_max_length:
                # A short field gets one person's name and code, a different person each time.
                person = PERSONS[n % len(PERSONS)]
                text = f"CANARYTXT-{marker}-{n} {person.names[n % 2]} {person.code}"
            return text[: f.effective_max_length]
        if kind == FieldType.CHOICE:
            return _first_term(f.vocabulary)
        if kind == FieldType.MULTICHOICE:
            return [_first_term(f.vocabulary)]
        if kind == FieldType.YESNO:
            return True
        if kind == FieldType.NUMBER:
            low = f.min if f.min is not None else 1
            return int(low) + 1 if f.kind == "int" else float(low) + 1.5
        if kind == FieldType.DATE:
            return _date("2026-11-19")
        if kind == FieldType.DATETIME:
            return "2026-11-19T10:00:00+02:00"
        if kind == FieldType.TIME:
            return "10:00"
        if kind == FieldType.GROUP:
            item = {sub.id: value(sub, f"{path}.{sub.id}") for sub in children(f)}
            item = {k: v for k, v in item.items() if v is not None}
            return [item] if f.is_repeatable else item
        if kind == FieldType.COMPUTED:
            return None
        return refs(f)

    data = {}
    for f in template.fields:
        got = value(f, f.id)
        if got is not None:
            data[f.id] = got
    return data


def add_filled(records: RecordService, form_id: str, data: dict[str, Any], filled: Filled) -> str:
    """Save ``data``, dropping values the form refuses (hidden by a condition, out of range):
    the field, or the whole group an entry of which is refused."""
    last: list[str] = []
    for _attempt in range(30):
        try:
            return records.add(form_id, data).id
        except RecordValidationError as exc:
            last = [f"{i.field}: {i.reason}" for i in exc.issues]
            for issue in exc.issues:
                top = issue.field.split("[")[0].split(".")[0]
                data.pop(top, None)
                filled.dropped.add(f"{form_id}.{top}")
    raise AssertionError(f"{form_id}: could not be saved: {last}")


@dataclass
class CanaryProfile:
    vault: Vault
    persons: dict[str, str]  # key → person id
    interviews: dict[str, str]
    case_id: str
    visit_id: str  # linked to A's and C's interviews
    blocked_visit_id: str  # linked to B's interview (B declined transmission)
    evidence: dict[str, str]  # name → item id
    filled: Filled


INJURY_MARKS = [
    {
        "view": "back",
        "x": 0.4,
        "y": 0.3,
        "injury_type": "bruise",
        "notes": canary_text("CANARYTXT-MARK"),
        "reported_cause": canary_text("CANARYTXT-CAUSE"),
    }
]


def build_canary_profile(vault: Vault, tmp_path: Path) -> CanaryProfile:
    records = RecordService(vault)
    filled = Filled()
    facility = add_filled(
        records, "facility", fill_form("facility", "F", lambda f: None, filled), filled
    )
    persons: dict[str, str] = {}
    for p in PERSONS:
        data = fill_form(
            "person",
            f"P{p.key}",
            lambda f, p=p: p.code if f.type == FieldType.TEXT else None,
            filled,
        )
        data["name"] = " ".join(p.names)
        data["other_names"] = f"{p.names[1]} {p.names[0]}"
        persons[p.key] = add_filled(records, "person", data, filled)

    def visit_refs(f: FieldDef) -> Any:
        if f.type == FieldType.FACILITY_REF:
            return facility
        if f.type == FieldType.TEXT and f.format == "code":
            return LOOSE_CODE if "detainee" in f.id else PERSONS[0].code
        return None

    visits = []
    for marker in ("V", "VB"):
        data = fill_form("visit", marker, visit_refs, filled)
        data["report_confidentiality"] = "to_facility"
        visits.append(add_filled(records, "visit", data, filled))
    case_data = fill_form(
        "case",
        "K",
        lambda f: (
            persons["B"]
            if f.type == FieldType.PERSON_REF and "ID" in f.sensitivity
            else facility
            if f.type == FieldType.FACILITY_REF
            else None
        ),
        filled,
    )
    # The case is about B: one act whose victim is B (the filler's act trips conditions).
    case_data["acts"] = [
        {
            "victim": persons["B"],
            "act_type": "torture",
            "stated_reason": canary_text("CANARYTXT-K-ACT"),
            "physical_consequences": canary_text("CANARYTXT-K-PHYS"),
        }
    ]
    case_id = add_filled(records, "case", case_data, filled)
    interviews: dict[str, str] = {}
    for p in PERSONS:
        visit = visits[1] if p.key == "B" else visits[0]

        def refs(f: FieldDef, p: Canary = p, visit: str = visit) -> Any:
            if f.type == FieldType.TEXT and f.format == "code":
                return p.code
            if f.type == FieldType.PERSON_REF:
                return persons[p.key] if f.id == "interviewee" else None
            if f.type == FieldType.RECORD_REF:
                return [case_id] if f.id == "cases" else visit if f.id == "visit" else None
            if f.type == FieldType.CONSENT:
                return CONSENTS[p.key]
            if f.type == FieldType.BODY_MAP:
                return INJURY_MARKS
            if f.type == FieldType.FACILITY_REF:
                return facility
            return None

        data = fill_form("interview", f"I{p.key}", refs, filled)
        interviews[p.key] = add_filled(records, "interview", data, filled)
        records.link_person(persons[p.key], case_id, _first_term("event_roles"))
    recommendation = fill_form(
        "recommendation",
        "R",
        lambda f: (
            facility
            if f.type == FieldType.FACILITY_REF
            else visits[0]
            if f.type == FieldType.RECORD_REF and "visit" in (f.targets or [])
            else None
        ),
        filled,
    )
    add_filled(records, "recommendation", recommendation, filled)
    evidence = _add_evidence(vault, tmp_path, case_id, interviews, visits[0])
    return CanaryProfile(
        vault=vault,
        persons=persons,
        interviews=interviews,
        case_id=case_id,
        visit_id=visits[0],
        blocked_visit_id=visits[1],
        evidence=evidence,
        filled=filled,
    )


def _add_evidence(
    vault: Vault, tmp_path: Path, case_id: str, interviews: dict[str, str], visit_id: str
) -> dict[str, str]:
    service = EvidenceService(vault)
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    out: dict[str, str] = {}
    plan: list[tuple[str, dict[str, Any], EvidenceInput]] = [
        (
            "EVCANARY-INJURY-B",
            {"interview_id": interviews["B"], "case_id": case_id},
            EvidenceInput(
                title=canary_text("CANARYTXT-EINJ"),
                description=canary_text("CANARYTXT-EINJ-D"),
                sensitive_flags=(SensitiveFlag.INJURY,),
            ),
        ),
        (
            "EVCANARY-PHOTO-A",
            {"interview_id": interviews["A"], "case_id": case_id},
            EvidenceInput(title=canary_text("CANARYTXT-EPA")),
        ),
        (
            "EVCANARY-PHOTO-C",
            {"interview_id": interviews["C"], "case_id": case_id},
            EvidenceInput(title=canary_text("CANARYTXT-EPC")),
        ),
        (
            "EVCANARY-CELL",
            {"visit_id": visit_id},
            EvidenceInput(description=canary_text("CANARYTXT-ECELL")),
        ),
    ]
    for index, (name, links, info) in enumerate(plan):
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(jpeg + bytes([index]) * 64)
        out[name] = service.add(path, info=info, **links).item.id
        path.unlink()
    return out


def tokens_in(text: str, tokens: tuple[str, ...]) -> list[str]:
    """The tokens found in ``text``, also across line breaks and wrapped words."""
    flat = "".join(text.split()).casefold()
    return [t for t in tokens if t.casefold() in flat]


# --- the same records in memory, every field filled (conditions ignored) ------------------------


@dataclass
class CanaryViews:
    """Every field of every form filled, as report data: what the report layer must contain."""

    case: Any  # CaseFileData
    visit: Any  # VisitReportData
    filled: Filled


def build_canary_views() -> CanaryViews:
    """Report data with every field of every form filled, even fields a condition would hide:
    the report layer prints whatever it is given, so this is where a leak would be."""
    from fieldkit.export.reports.data import CaseFileData, EvidenceView, RecordView, VisitReportData

    filled = Filled()
    facility_id = "f0000000-0000-4000-8000-000000000001"
    case_id = "c0000000-0000-4000-8000-000000000001"
    visit_id = "v0000000-0000-4000-8000-000000000001"
    person_ids = {p.key: f"p000000{i}-0000-4000-8000-000000000001" for i, p in enumerate(PERSONS)}
    interview_ids = {
        p.key: f"i000000{i}-0000-4000-8000-000000000001" for i, p in enumerate(PERSONS)
    }
    evidence_ids = {k: f"e000000{i}-0000-4000-8000-000000000001" for i, k in enumerate("ABCV")}

    def common(f: FieldDef) -> Any:
        if f.type == FieldType.FACILITY_REF:
            return facility_id
        if f.type == FieldType.EVIDENCE_LINK:
            return [evidence_ids["V"]]
        return None

    facility = RecordView(facility_id, "facility", fill_form("facility", "F", common, filled))
    persons = []
    for p in PERSONS:

        def person_refs(f: FieldDef, p: Canary = p) -> Any:
            if f.type == FieldType.TEXT:
                return p.code
            if f.type == FieldType.PERSON_REF:
                return person_ids["C" if p.key != "C" else "A"]
            return None

        data = fill_form("person", f"P{p.key}", person_refs, filled)
        data["name"] = " ".join(p.names)
        data["other_names"] = f"{p.names[1]} {p.names[0]}"
        persons.append(RecordView(person_ids[p.key], "person", data))

    def case_refs(f: FieldDef) -> Any:
        if f.type == FieldType.PERSON_REF:
            return person_ids["B"] if "ID" in f.sensitivity else person_ids["C"]
        if f.type == FieldType.RECORD_REF:
            return [case_id] if f.is_multiple else case_id
        return common(f)

    case = RecordView(case_id, "case", fill_form("case", "K", case_refs, filled))
    interviews = []
    for p in PERSONS:

        def refs(f: FieldDef, p: Canary = p) -> Any:
            if f.type == FieldType.TEXT:
                return p.code
            if f.type == FieldType.PERSON_REF:
                return person_ids[p.key] if f.id == "interviewee" else person_ids["C"]
            if f.type == FieldType.RECORD_REF:
                return [case_id] if f.id == "cases" else visit_id
            if f.type == FieldType.CONSENT:
                return CONSENTS[p.key]
            if f.type == FieldType.BODY_MAP:
                return [{**INJURY_MARKS[0], "photos": [evidence_ids[p.key]]}]
            return common(f)

        data = fill_form("interview", f"I{p.key}", refs, filled)
        interviews.append(RecordView(interview_ids[p.key], "interview", data))

    def visit_refs(f: FieldDef) -> Any:
        if f.type == FieldType.TEXT:
            return LOOSE_CODE if "detainee" in f.id else PERSONS[0].code
        if f.type == FieldType.RECORD_REF:
            targets = f.targets or []
            if "interview" in targets:
                return [interview_ids["A"], interview_ids["C"]]
            return None
        return common(f)

    visit_data = fill_form("visit", "V", visit_refs, filled)
    visit = RecordView(visit_id, "visit", visit_data)
    rec_id = "r0000000-0000-4000-8000-000000000001"

    def rec_refs(f: FieldDef) -> Any:
        if f.type == FieldType.RECORD_REF:
            return visit_id if "visit" in (f.targets or []) else case_id
        return common(f)

    recommendation = RecordView(
        rec_id, "recommendation", fill_form("recommendation", "R", rec_refs, filled)
    )

    def item(key: str, name: str, flags: tuple[str, ...], **links: Any) -> EvidenceView:
        linked = tuple(x for x in (links.get("interview_id"), links.get("case_id")) if x)
        return EvidenceView(
            id=evidence_ids[key],
            original_name=f"{name}.jpg",
            item_type="photo",
            size=100,
            sha256="ab" * 32,
            title=canary_text(f"CANARYTXT-E{key}"),
            description=canary_text(f"CANARYTXT-E{key}-D"),
            collected_by=canary_text(f"CANARYTXT-E{key}-BY"),
            linked_records=linked or (visit_id,),
            sensitive_flags=flags,
            interview_id=links.get("interview_id", ""),
        )

    evidence = [
        item("B", "EVCANARY-INJURY-B", ("injury",), interview_id=interview_ids["B"]),
        item("A", "EVCANARY-PHOTO-A", (), interview_id=interview_ids["A"]),
        item("C", "EVCANARY-PHOTO-C", (), interview_id=interview_ids["C"]),
        item("V", "EVCANARY-CELL", ()),
    ]
    case_data = CaseFileData(
        case=case,
        persons=persons,
        interviews=interviews,
        visits=[visit],
        recommendations=[recommendation],
        evidence=evidence,
        facilities={facility_id: facility},
        person_roles={pid: [_first_term("event_roles")] for pid in person_ids.values()},
    )
    visit_report = VisitReportData(
        visit=visit,
        facility=facility,
        recommendations=[recommendation],
        interviews=[interviews[0], interviews[2]],
        history_visits=[visit],
        history_recommendations=[recommendation],
        evidence=[evidence[3]],
        persons=[persons[0], persons[2]],
        other_persons=persons,
    )
    return CanaryViews(case_data, visit_report, filled)

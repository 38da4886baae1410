"""The bridge from report data to the disclosure policy: who a record or item concerns.

``fieldkit.domain.disclosure`` decides; this module only gathers its inputs from the report's
records: each person's codes, names and consents (from the interviews where they are the
interviewee), the persons a record is about, and what kind of media an evidence item is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fieldkit.domain.common import ConsentRecord
from fieldkit.domain.disclosure import ConcernedPerson, MediaKind, Subject
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.evidence import SensitiveFlag
from fieldkit.domain.forms import FieldDef, FieldType, children
from fieldkit.export.reports.data import EvidenceView, RecordView
from fieldkit.export.reports.people import (
    all_names,
    interviewee_field,
    person_refs,
    record_code,
    template_for,
)
from fieldkit.export.reports.render import consent_record


def _ref(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def interviewee_of(interview: RecordView) -> str:
    """The person id an interview is with, or "" when it names none."""
    try:
        who = interviewee_field(template_for(interview))
    except FieldkitError:
        return ""
    return _ref(interview.data.get(who.id)) if who is not None else ""


def interview_consents(interview: RecordView) -> list[ConsentRecord]:
    try:
        template = template_for(interview)
    except FieldkitError:
        return []
    found = []
    for f in template.fields:
        if f.type == FieldType.CONSENT:
            record = consent_record(interview.data.get(f.id))
            if record is not None:
                found.append(record)
    return found


class People:
    """Every person a report mentions, as the policy sees them (by person id).

    An interview whose interviewee has no person record still stands for a person: the
    interviewee's code and the interview's consent, under the key ``interview:<id>``.
    """

    def __init__(self, persons: Sequence[RecordView], interviews: Sequence[RecordView]) -> None:
        consents: dict[str, list[ConsentRecord]] = {}
        codes: dict[str, list[str]] = {}
        self._interviewee: dict[str, str] = {}
        for interview in interviews:
            person_id = interviewee_of(interview) or f"interview:{interview.id}"
            self._interviewee[interview.id] = person_id
            consents.setdefault(person_id, []).extend(interview_consents(interview))
            code = record_code(interview)
            if code:
                codes.setdefault(person_id, []).append(code)
        self.by_id: dict[str, ConcernedPerson] = {}
        for person in persons:
            self.by_id[person.id] = ConcernedPerson.from_consents(
                person.id,
                consents.get(person.id, []),
                codes=[record_code(person), *codes.get(person.id, [])],
                names=all_names(person),
            )
        for person_id, found in consents.items():
            if person_id not in self.by_id:
                self.by_id[person_id] = ConcernedPerson.from_consents(
                    person_id, found, codes=codes.get(person_id, [])
                )

    @property
    def all(self) -> list[ConcernedPerson]:
        return list(self.by_id.values())

    def get(self, person_id: str) -> ConcernedPerson:
        """The person; one nobody recorded a consent for when the report does not hold them."""
        return self.by_id.get(person_id) or ConcernedPerson(person_id)

    def interviewee(self, interview: RecordView) -> ConcernedPerson:
        return self.get(self._interviewee.get(interview.id) or interviewee_of(interview))

    def subject(self, record: RecordView) -> Subject:
        """The persons a record is about, and its confidentiality flag.

        A person record is about its person, an interview about its interviewee, any other record
        about the persons its ID-tagged person references name (victims, missing persons);
        references to perpetrators or intervening parties do not make a record "about" them.
        """
        if record.type == "person":
            persons: tuple[ConcernedPerson, ...] = (self.get(record.id),)
        elif record.type == "interview":
            persons = (self.interviewee(record),)
        else:
            try:
                template = template_for(record)
            except FieldkitError:
                return Subject((), record.confidential)
            ids = dict.fromkeys(
                pid for pid, f in person_refs(template, record.data) if "ID" in f.sensitivity
            )
            persons = tuple(self.get(pid) for pid in ids)
        return Subject(persons, record.confidential)

    def evidence_subject(
        self,
        item: EvidenceView,
        interviews: Mapping[str, RecordView],
        records: Mapping[str, RecordView] | None = None,
    ) -> Subject:
        """The persons an item is about: those linked to it, its interview's interviewee and
        the persons a linked record (a case) is about."""
        found: dict[str, ConcernedPerson] = {}
        for link in item.linked_records:
            if link in interviews:
                person = self.interviewee(interviews[link])
                found[person.person_id] = person
            elif link in self.by_id:
                found[link] = self.by_id[link]
            elif records is not None and link in records:
                for person in self.subject(records[link]).persons:
                    found.setdefault(person.person_id, person)
        for person_id in item.person_ids:
            found.setdefault(person_id, self.get(person_id))
        if item.interview_id and item.interview_id not in interviews:
            # An interview the report does not hold: nobody's consent can be shown for it.
            found.setdefault(f"interview:{item.interview_id}", ConcernedPerson(item.interview_id))
        return Subject(tuple(found.values()), item.confidential)


def media_kind(item: EvidenceView, injury_photo_ids: frozenset[str] = frozenset()) -> MediaKind:
    """What kind of media an item is, for the consent it needs."""
    if item.item_type == "photo":
        if SensitiveFlag.INJURY.value in item.sensitive_flags or item.id in injury_photo_ids:
            return MediaKind.INJURY_PHOTO
        return MediaKind.PHOTO
    if item.item_type == "video":
        return MediaKind.VIDEO
    if item.item_type == "audio":
        return MediaKind.AUDIO
    return MediaKind.OTHER


def injury_photo_ids(records: Sequence[RecordView]) -> frozenset[str]:
    """Evidence ids that a body-map mark lists as photographs of the injury."""
    found: set[str] = set()
    for record in records:
        try:
            template = template_for(record)
        except FieldkitError:
            continue
        for f in template.fields:
            if f.type != FieldType.BODY_MAP:
                continue
            marks = record.data.get(f.id)
            for mark in marks if isinstance(marks, list) else []:
                if isinstance(mark, Mapping):
                    found.update(_ref(p) for p in mark.get("photos") or [] if _ref(p))
    return frozenset(found)


def code_values(record: RecordView) -> list[str]:
    """Every value of a pseudonym-code field in a record (its groups included)."""
    try:
        template = template_for(record)
    except FieldkitError:
        return []
    found: list[str] = []

    def walk(fields: Sequence[FieldDef], data: Mapping[str, Any]) -> None:
        for f in fields:
            value = data.get(f.id)
            if f.type == FieldType.TEXT and f.format == "code" and isinstance(value, str):
                if value.strip():
                    found.append(value.strip())
            elif f.type == FieldType.GROUP:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, Mapping):
                        walk(children(f), item)

    walk(template.fields, record.data)
    return list(dict.fromkeys(found))


def hidden_extras(
    people: People, records: Sequence[RecordView], others: Sequence[RecordView]
) -> list[ConcernedPerson]:
    """Persons a report is not about whose names or codes may still be typed into its text:
    codes entered in its records (an interviewee list) and every other person of the profile.
    Nobody recorded a consent for them here, so the redactor hides them."""
    known = {c for p in people.all for c in p.codes}
    out: list[ConcernedPerson] = []
    for record in records:
        for code in code_values(record):
            if code not in known:
                known.add(code)
                out.append(ConcernedPerson(f"code:{code}", codes=(code,)))
    for person in others:
        if person.id in people.by_id:
            continue
        code = record_code(person)
        out.append(
            ConcernedPerson(
                person.id, codes=(code,) if code else (), names=tuple(all_names(person))
            )
        )
    return out

"""The case file for lawyers: one PDF a lawyer can print, read and check against the evidence.

Order: cover (case, dates, prepared by, confidentiality, names policy), summary, persons by
pseudonym, acts and legal assessment, interviews (consent, account, injuries on body diagrams),
linked visits, recommendations with their follow-up, the evidence index (full SHA-256 of every
original, custody events) and a closing page on how to check the file and its signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from reportlab.platypus import CondPageBreak, Flowable, PageBreak, Paragraph, Spacer

from fieldkit.domain.common import is_empty
from fieldkit.domain.disclosure import (
    WITHHELD_MARK,
    Decision,
    Subject,
    audience_label,
    redactor_for,
)
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldType, FormTemplate, Section
from fieldkit.export.reports.audience import (
    People,
    hidden_extras,
    injury_photo_ids,
    media_kind,
)
from fieldkit.export.reports.case_evidence import evidence_index
from fieldkit.export.reports.changes import changes_block, changes_since
from fieldkit.export.reports.chronology import (
    Entry,
    chronology_section,
    evidence_entry,
    record_entries,
)
from fieldkit.export.reports.common import (
    BuildControl,
    ReportMeta,
    build_pdf,
    checking_section,
    fields_table,
    fmt_timestamp,
    grid_table,
    heading,
    markup,
    para,
    styles,
)
from fieldkit.export.reports.data import CaseFileData, RecordView
from fieldkit.export.reports.labels import evidence_number
from fieldkit.export.reports.people import (
    person_refs,
    real_name,
    record_code,
    short_id,
    template_for,
)
from fieldkit.export.reports.render import RenderContext, render_record
from fieldkit.export.reports.styles import Styles
from fieldkit.export.reports.titles import facility_title, title_of

# Case sections whose id mentions one of these go under "Acts and legal assessment".
_LEGAL_SECTION_HINTS = ("act", "assess", "legal", "proceed", "political", "involv", "perpetr")


class CaseFileBuilder:
    """Turns :class:`CaseFileData` into flowables; one instance per report."""

    def __init__(self, data: CaseFileData, meta: ReportMeta) -> None:
        self.data = data
        self.meta = meta
        self.t = meta.translator
        self.s: Styles = styles()
        self.policy = meta.policy
        self.people = People(data.persons, data.interviews)
        self.mark = self.t.gettext(WITHHELD_MARK)
        self._codes = {p.id: record_code(p) for p in data.persons}
        self._records: dict[str, RecordView] = {
            r.id: r
            for r in (
                data.case,
                *data.persons,
                *data.interviews,
                *data.visits,
                *data.recommendations,
                *data.facilities.values(),
            )
        }
        self._evidence_numbers = {item.id: evidence_number(item.id) for item in data.evidence}
        loose = hidden_extras(
            self.people, (data.case, *data.visits, *data.interviews), data.other_persons
        )
        self.redactor = redactor_for(self.policy, [*self.people.all, *loose], self.mark)
        interviews = {i.id: i for i in data.interviews}
        injury_photos = injury_photo_ids(data.interviews)
        # What the audience may have of each evidence item: decided once, shown everywhere.
        self.evidence_decisions: dict[str, Decision] = {
            item.id: self.policy.evidence(
                self.people.evidence_subject(item, interviews, {data.case.id: data.case}),
                media_kind(item, injury_photos),
            )
            for item in data.evidence
        }
        self.case_subject: Subject = self.people.subject(data.case)
        # The decision for each person and interview, made once: shown, and kept in the ledger.
        self.record_decisions: dict[str, Decision] = {
            record.id: self.policy.record(self.people.subject(record))
            for record in (data.case, *data.persons, *data.interviews)
        }
        self.changes = changes_since(data.earlier, self.all_decisions(), self.item_labels())
        self.ctx = RenderContext(
            translator=self.t,
            styles=self.s,
            person_label=self.person_label,
            record_label=self.record_label,
            facility_label=self.facility_label,
            evidence_label=self.evidence_label,
            redact=self.redactor,
            policy=self.policy,
        )

    # --- labels for references --------------------------------------------------------------

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def person_label(self, person_id: str) -> str:
        person = self.people.get(person_id)
        if not self.policy.code(person).included:
            return self.mark
        code = self._codes.get(person_id)
        if code is None:
            return self._("person {code} (not in this file)").format(code=short_id(person_id))
        if self.policy.name(person).included:
            name = real_name(self._records[person_id])
            if name:
                return f"{code} ({name})"
        return code

    def code(self, record: RecordView) -> str:
        """A record's printed code (entered text: names and hidden codes replaced)."""
        return self.redactor(record_code(record))

    def record_label(self, record_id: str) -> str:
        record = self._records.get(record_id)
        if record is None:
            return short_id(record_id)
        if record.type == "person":
            return self.person_label(record_id)
        if record.type == "interview" and not self.policy.shows_codes:
            return self.mark
        code = self.code(record)
        if code == short_id(record.id):  # no code field (a recommendation): its title
            return self.redactor(title_of(record, self.policy)) or code
        return code

    def all_decisions(self) -> dict[str, Decision]:
        return {**self.record_decisions, **self.evidence_decisions}

    def disclosed_ids(self) -> list[str]:
        """The records and evidence items this file discloses (for the ledger)."""
        return [item_id for item_id, d in self.all_decisions().items() if not d.withheld]

    def item_labels(self) -> dict[str, str]:
        labels = {
            item_id: f"{self._('Evidence item')} {number}"
            for item_id, number in self._evidence_numbers.items()
        }
        for index, interview in enumerate(self.data.interviews, start=1):
            code = self.code(interview) if self.policy.shows_codes else str(index)
            labels[interview.id] = self._("Interview {code}").format(code=code)
        for index, person in enumerate(self.data.persons, start=1):
            code = self._codes[person.id] if self.policy.shows_codes else str(index)
            labels[person.id] = self._("Person {code}").format(code=code)
        labels[self.data.case.id] = self._("Case")
        return labels

    def withheld_text(self, decision: Decision) -> str:
        return self._("withheld: {reason}").format(reason=decision.reason.text(self.t))

    def facility_label(self, facility_id: str) -> str:
        facility = self.data.facilities.get(facility_id)
        if facility is None:
            return short_id(facility_id)
        return self.redactor(facility_title(facility, self.policy, self.t.language)) or self.code(
            facility
        )

    def evidence_label(self, item_id: str) -> str:
        return self._evidence_numbers.get(item_id, short_id(item_id))

    # --- the document -----------------------------------------------------------------------

    def story(self, control: BuildControl | None = None) -> list[Flowable]:
        parts: list[list[Flowable]] = [
            self.cover(),
            self.summary(),
            self.chronology(),
            self.persons(),
            self.legal(),
            self.interviews(control),
            self.visits(),
            self.recommendations(),
            self.evidence_index(control),
            self.closing(),
        ]
        out: list[Flowable] = []
        for part in parts:
            out.extend(part)
        return out

    def chronology(self) -> list[Flowable]:
        """Acts, detention places, episodes, proceedings, actions and evidence in date order,
        from the records and items this audience may have."""
        labels = self.item_labels()
        entries: list[Entry] = []
        for record in (self.data.case, *self.data.interviews):
            if self.record_decisions[record.id].withheld:
                continue
            source = labels.get(record.id, self.record_label(record.id))
            entries.extend(record_entries(template_for(record), record.data, self.ctx, source))
        for visit in self.data.visits:
            entries.extend(
                record_entries(
                    template_for(visit), visit.data, self.ctx, self.record_label(visit.id)
                )
            )
        for item in self.data.evidence:
            if self.evidence_decisions[item.id].withheld:
                continue
            entries.extend(
                evidence_entry(
                    self._evidence_numbers[item.id],
                    item.collected_at,
                    item.captured_at,
                    self.ctx,
                )
            )
        return chronology_section(entries, self.ctx, lambda text: para(text, self.s.note))

    def cover(self) -> list[Flowable]:
        s, case = self.s, self.data.case
        template = template_for(case)
        title = ""
        title = self.ctx.text(title_of(case, self.policy, self.case_subject))
        out: list[Flowable] = [
            Spacer(1, 30),
            Paragraph(markup(self._("Case file")), s.title),
            Paragraph(markup(title or self.code(case)), s.subtitle),
        ]
        rows: list[tuple[str, Flowable | str]] = [
            (self._("Case"), Paragraph(markup(self.code(case)), s.cell_mono)),
            (self._("Record id"), Paragraph(markup(case.id), s.cell_mono)),
        ]
        for key in ("date_from", "date_to", "status"):
            field_id = getattr(template.index, key)
            if not field_id:
                continue
            f = template.field(field_id)
            text = self.ctx.value_text(f, case.data.get(field_id), case.data)
            if text:
                rows.append((f.label.get(self.t.language), text))
        rows.extend(
            [
                (self._("Last changed"), fmt_timestamp(case.updated_at, self.t.language)),
                (
                    self._("Prepared by"),
                    self.ctx.text(self.meta.prepared_by) or self._("not stated"),
                ),
                (self._("Generated"), fmt_timestamp(self.meta.generated_at, self.t.language)),
                (
                    self._("Confidentiality"),
                    self._("Confidential record") if case.confidential else self._("Internal"),
                ),
                (self._("Addressed to"), audience_label(self.policy.audience, self.t)),
                (self._("Persons"), self.names_policy()),
                (self._("Signing device"), Paragraph(markup(self.meta.device_id), s.cell_mono)),
                (
                    self._("Device key ID (minisign)"),
                    Paragraph(markup(self.meta.device_fingerprint), s.cell_mono),
                ),
            ]
        )
        out.append(fields_table(rows, s))
        out.append(Spacer(1, 12))
        out.extend(changes_block(self.changes, self.t, s))
        counts = [
            (self._("Persons"), len(self.data.persons)),
            (self._("Interviews"), len(self.data.interviews)),
            (self._("Linked visits"), len(self.data.visits)),
            (self._("Recommendations"), len(self.data.recommendations)),
            (self._("Evidence items"), len(self.data.evidence)),
        ]
        out.append(Paragraph(markup(self._("Contents")), s.h3))
        out.append(fields_table([(label, str(n)) for label, n in counts], s, label_width=0.5))
        out.append(Spacer(1, 10))
        out.append(
            para(
                self._(
                    "This file was generated by fieldkit from the encrypted records of the device "
                    "named above. Entered text is reproduced exactly as recorded. A detached "
                    "signature (.minisig) made with the device key accompanies the PDF; the last "
                    "page explains how to check it and the evidence files."
                ),
                s.note,
            )
        )
        out.append(PageBreak())
        return out

    def names_policy(self) -> str:
        if not self.policy.shows_codes:
            return self._("Persons are not identified in this file, not even by code.")
        if not self.meta.include_names:
            return self._("Shown by pseudonym code only; no real names are included.")
        persons = [self.people.get(p.id) for p in self.data.persons]
        shown = sum(1 for p in persons if self.policy.name(p).included)
        return self._(
            "Real names shown only where the person consented to publication with name "
            "({shown} of {total}); all others by pseudonym code."
        ).format(shown=shown, total=len(persons))

    def _case_sections(self, legal: bool) -> tuple[FormTemplate, frozenset[str]]:
        template = template_for(self.data.case)
        skip: set[str] = set()
        for section in template.sections:
            if _is_legal(section) != legal:
                skip.update(f.id for f in section.fields)
        return template, frozenset(skip)

    def summary(self) -> list[Flowable]:
        template, skip = self._case_sections(legal=False)
        body = render_record(
            template,
            self.data.case.data,
            self.ctx,
            subject=self.case_subject,
            skip=skip,
        )
        return [
            heading(self._("Summary"), self.s.h1, "summary"),
            *(body or [para(self._("Nothing recorded."), self.s.note)]),
        ]

    def legal(self) -> list[Flowable]:
        template, skip = self._case_sections(legal=True)
        body = render_record(
            template,
            self.data.case.data,
            self.ctx,
            subject=self.case_subject,
            skip=skip,
        )
        return [
            CondPageBreak(120),
            heading(self._("Acts and legal assessment"), self.s.h1, "legal"),
            *(body or [para(self._("Nothing recorded."), self.s.note)]),
        ]

    def persons(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [CondPageBreak(250), heading(self._("Persons"), s.h1, "persons")]
        if not self.data.persons:
            return [*out, para(self._("No persons are linked to this case."), s.note)]
        out.append(para(self.names_policy(), s.note))
        if not self.policy.shows_codes:
            return out
        roles = self._roles()
        rows: list[list[Flowable | str]] = []
        for person in self.data.persons:
            concerned = self.people.get(person.id)
            decision = self.policy.name(concerned)
            name = real_name(person) if decision.included else ""
            rows.append(
                [
                    Paragraph(markup(self._codes[person.id]), s.cell_mono),
                    "; ".join(roles.get(person.id, [])),
                    name or self.withheld_text(decision),
                ]
            )
        out.append(
            grid_table(
                [self._("Pseudonym"), self._("Role in this case"), self._("Name")],
                rows,
                s,
                [0.18, 0.42, 0.40],
            )
        )
        for person in self.data.persons:
            title = self._("Person {code}").format(code=self._codes[person.id])
            subject = self.people.subject(person)
            allowed = self.record_decisions[person.id]
            if allowed.withheld:
                out.append(heading(title, s.h2, f"person-{person.id}", 1))
                out.append(para(self.withheld_text(allowed), s.note))
                continue
            body = render_record(
                template_for(person), person.data, self.ctx, subject=subject, section_style=s.h3
            )
            if body:
                out.append(heading(title, s.h2, f"person-{person.id}", 1))
                out.extend(body)
        return out

    def _roles(self) -> dict[str, list[str]]:
        roles: dict[str, list[str]] = {}
        lang = self.t.language
        for person_id, codes in self.data.person_roles.items():
            for code in codes:
                label = self.ctx.term("event_roles", code) if code else ""
                if label and label not in roles.setdefault(person_id, []):
                    roles[person_id].append(label)
        for record in (self.data.case, *self.data.interviews, *self.data.visits):
            try:
                template = template_for(record)
            except FieldkitError:
                continue
            for person_id, f in person_refs(template, record.data):
                label = f.label.get(lang)
                if record.type != "case":
                    label = f"{label} ({self.code(record)})"
                found = roles.setdefault(person_id, [])
                if label not in found:
                    found.append(label)
        return roles

    def interviews(self, control: BuildControl | None) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [PageBreak(), heading(self._("Interviews"), s.h1, "interviews")]
        if not self.data.interviews:
            return [*out, para(self._("No interviews are linked to this case."), s.note)]
        for index, interview in enumerate(self.data.interviews):
            if control is not None and index % 20 == 0:
                control.tick(0)
            template = template_for(interview)
            if index:
                out.append(CondPageBreak(200))
            code = self.code(interview) if self.policy.shows_codes else str(index + 1)
            out.append(
                heading(
                    self._("Interview {code}").format(code=code),
                    s.h2,
                    f"interview-{interview.id}",
                    1,
                )
            )
            subject = self.people.subject(interview)
            allowed = self.record_decisions[interview.id]
            if allowed.withheld:
                out.append(para(self.withheld_text(allowed), s.note))
                continue
            out.append(para(self._interview_line(interview), s.note))
            out.extend(
                render_record(
                    template, interview.data, self.ctx, subject=subject, section_style=s.h3
                )
            )
        return out

    def _interview_line(self, interview: RecordView) -> str:
        parts = [
            self._("revision {n}").format(n=interview.revision),
            self._("last changed {time}").format(
                time=fmt_timestamp(interview.updated_at, self.t.language)
            ),
        ]
        if interview.confidential:
            parts.insert(0, self._("confidential record"))
        return " · ".join(parts)

    def visits(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [CondPageBreak(150), heading(self._("Linked visits"), s.h1, "visits")]
        if not self.data.visits:
            return [*out, para(self._("No visits are linked to this case."), s.note)]
        rows: list[list[Flowable | str]] = []
        for visit in self.data.visits:
            template = template_for(visit)
            date_text = ""
            if template.index.date_from:
                f = template.field(template.index.date_from)
                date_text = self.ctx.value_text(f, visit.data.get(f.id), visit.data)
            facility = ""
            if template.index.facility_id:
                facility = self.facility_label(_ref(visit.data.get(template.index.facility_id)))
            kinds = [
                self.ctx.value_text(f, visit.data.get(f.id))
                for f in template.fields[:12]
                if f.type == FieldType.CHOICE and not is_empty(visit.data.get(f.id))
            ][:3]
            rows.append(
                [
                    Paragraph(markup(self.code(visit)), s.cell_mono),
                    date_text,
                    facility,
                    "; ".join(kinds),
                ]
            )
        out.append(
            grid_table(
                [self._("Visit"), self._("Date"), self._("Facility"), self._("Kind")],
                rows,
                s,
                [0.16, 0.2, 0.34, 0.3],
            )
        )
        out.append(
            para(
                self._("The full visit reports are printed separately (fieldkit report visit)."),
                s.note,
            )
        )
        return out

    def recommendations(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [
            CondPageBreak(150),
            heading(self._("Recommendations and follow-up"), s.h1, "recommendations"),
        ]
        if not self.data.recommendations:
            return [*out, para(self._("No recommendations are linked to this case."), s.note)]
        for rec in self.data.recommendations:
            out.append(
                heading(
                    self._("Recommendation {code}").format(code=self.code(rec)),
                    s.h3,
                )
            )
            out.extend(
                render_record(
                    template_for(rec),
                    rec.data,
                    self.ctx,
                    subject=Subject((), rec.confidential),
                    section_style=s.small,
                )
            )
        return out

    def evidence_index(self, control: BuildControl | None) -> list[Flowable]:
        return evidence_index(self, control)

    def closing(self) -> list[Flowable]:
        return [PageBreak(), *checking_section(self.meta, self.s)]


def _is_legal(section: Section) -> bool:
    return any(hint in section.id for hint in _LEGAL_SECTION_HINTS)


def _ref(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def build_case_file(
    target: IO[bytes],
    data: CaseFileData,
    meta: ReportMeta,
    control: BuildControl | None = None,
    *,
    compress: bool = True,
    disclosed: list[str] | None = None,
) -> int:
    """Write the case file PDF into ``target``; returns its page count. ``disclosed``, when
    given, receives the ids of the records and evidence items the file disclosed."""
    control = control or BuildControl()
    builder = CaseFileBuilder(data, meta)
    story = builder.story(control)
    pages = build_pdf(target, story, meta, control, compress=compress)
    if disclosed is not None:
        disclosed.extend(builder.disclosed_ids())
    return pages

"""The visit report in the NPM structure, with the facility's recommendation history.

Order: cover and metadata, then the visit form's sections in template order (access and
obstructions, population, ..., sign-off), with the material-conditions areas summarised first in one
table (floor area, occupants, m² per person and the CPT flag), the findings and recommendations of
this visit, and the facility history: each recommendation's status at each visit. What appears
is the disclosure policy's decision for the report's audience: interviews by code only for the
organisation, nothing of interviewees (lists, codes, reprisal flags, links) for the facility, the
ministry and the public; names are replaced in every free-text field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
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
from fieldkit.domain.disclosure.documents import disclose_data
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType, Sensitivity, children
from fieldkit.domain.records import redact
from fieldkit.export.reports.audience import People, hidden_extras, media_kind
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
from fieldkit.export.reports.data import RecordView, VisitReportData
from fieldkit.export.reports.facility_history import (
    history_block,
    recommendation_text,
    status_field,
    visit_date,
)
from fieldkit.export.reports.labels import evidence_number, item_type_label
from fieldkit.export.reports.living_space_table import has_living_space, living_space_summary
from fieldkit.export.reports.people import record_code, short_id, template_for
from fieldkit.export.reports.render import RenderContext, render_record
from fieldkit.export.reports.styles import Styles
from fieldkit.export.reports.visit_sections import (
    at_a_glance,
    recommendation_numbers,
    split_recommendations,
    themes_section,
)

# "area_per_person" in visit template version 1, "space_per_person" from version 2 on.
PER_PERSON_FORMULAS = ("area_per_person", "space_per_person")


def conditions_group(fields: list[FieldDef]) -> FieldDef | None:
    """The repeatable "areas inspected" group: the one computing living space per person."""
    for f in fields:
        if f.type == FieldType.GROUP and any(
            sub.type == FieldType.COMPUTED and sub.formula in PER_PERSON_FORMULAS
            for sub in children(f)
        ):
            return f
    return None


class VisitReportBuilder:
    def __init__(self, data: VisitReportData, meta: ReportMeta) -> None:
        self.data = data
        self.meta = meta
        self.t = meta.translator
        self.s: Styles = styles()
        self._records: dict[str, RecordView] = {
            r.id: r
            for r in (
                data.visit,
                *data.recommendations,
                *data.interviews,
                *data.history_visits,
                *data.history_recommendations,
            )
        }
        self._evidence = {item.id: evidence_number(item.id) for item in data.evidence}
        self.policy = meta.policy
        self.people = People(data.persons, data.interviews)
        self.mark = self.t.gettext(WITHHELD_MARK)
        loose = hidden_extras(self.people, (data.visit, *data.interviews), data.other_persons)
        self.redactor = redactor_for(self.policy, [*self.people.all, *loose], self.mark)
        interviews = {i.id: i for i in data.interviews}
        self.evidence_decisions: dict[str, Decision] = {
            item.id: self.policy.evidence(
                self.people.evidence_subject(item, interviews), media_kind(item)
            )
            for item in data.evidence
        }
        self.ctx = RenderContext(
            translator=self.t,
            styles=self.s,
            person_label=self.person_label,
            record_label=self.record_label,
            facility_label=self.facility_label,
            evidence_label=lambda item_id: self._evidence.get(item_id, short_id(item_id)),
            redact=self.redactor,
            policy=self.policy,
        )

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def person_label(self, person_id: str) -> str:
        if not self.policy.shows_codes:
            return self.mark
        code = self.people.get(person_id).code
        return code or short_id(person_id)

    def code(self, record: RecordView) -> str:
        """A record's printed code (entered text: names and hidden codes replaced)."""
        return self.redactor(record_code(record))

    def record_label(self, record_id: str) -> str:
        record = self._records.get(record_id)
        if record is None:
            return short_id(record_id) if self.policy.shows_codes else self.mark
        if record.type in ("interview", "case", "person") and not self.policy.shows_codes:
            return self.mark
        if record.type == "recommendation":
            # By its number at this visit and its title, never by a piece of its id.
            from fieldkit.export.reports.titles import title_of

            title = self.redactor(title_of(record, self.policy))
            number = self.recommendation_numbers.get(record.id)
            if number and title:
                return f"{number} {title}"
            return number or title or self.code(record)
        code = self.code(record)
        if code == short_id(record.id):  # no code field (a case): its title where disclosed
            from fieldkit.export.reports.titles import title_of

            return self.redactor(title_of(record, self.policy)) or code
        return code

    def facility_label(self, facility_id: str) -> str:
        facility = self.data.facility
        if facility is not None and facility.id == facility_id:
            return self.facility_name()
        return short_id(facility_id)

    def facility_name(self) -> str:
        facility = self.data.facility
        if facility is None:
            return self._("facility not recorded")
        from fieldkit.export.reports.titles import facility_title

        name = facility_title(facility, self.policy, self.t.language)
        return self.redactor(name) or self.code(facility)

    def story(self) -> list[Flowable]:
        return [
            *self.cover(),
            *at_a_glance(template_for(self.data.visit), self.audience_data(), self.ctx, self.s),
            *self.conditions_summary(),
            *self.sections(),
            *themes_section(
                template_for(self.data.visit),
                self.audience_data(),
                self.ctx,
                self.s,
                self.recommendation_numbers,
            ),
            *self.findings(),
            *self.history(),
            *self.attachments(),
            CondPageBreak(250),
            *checking_section(self.meta, self.s),
        ]

    def cover(self) -> list[Flowable]:
        s, visit = self.s, self.data.visit
        _sortable, shown_date = visit_date(visit, self.ctx)
        out: list[Flowable] = [
            Paragraph(markup(self._("Visit report")), s.title),
            Paragraph(markup(f"{self.facility_name()} · {shown_date}".strip(" ·")), s.subtitle),
        ]
        rows: list[tuple[str, Flowable | str]] = [
            (self._("Visit"), Paragraph(markup(self.code(visit)), s.cell_mono)),
            (self._("Record id"), Paragraph(markup(visit.id), s.cell_mono)),
            (self._("Facility"), self.facility_name()),
        ]
        if self.data.facility is not None:
            facility = self.data.facility
            try:
                ftemplate = template_for(facility)
                for f in ftemplate.fields:
                    if f.type == FieldType.CHOICE and not is_empty(facility.data.get(f.id)):
                        rows.append(
                            (
                                f.label.get(self.t.language),
                                self.ctx.value_text(f, facility.data.get(f.id)),
                            )
                        )
                    if len(rows) >= 6:
                        break
            except FieldkitError:
                pass
        rows.extend(
            [
                (
                    self._("Prepared by"),
                    self.ctx.text(self.meta.prepared_by) or self._("not stated"),
                ),
                (self._("Generated"), fmt_timestamp(self.meta.generated_at, self.t.language)),
                (self._("Addressed to"), audience_label(self.policy.audience, self.t)),
                (self._("Persons"), self.persons_line()),
                (
                    self._("Device key ID (minisign)"),
                    Paragraph(markup(self.meta.device_fingerprint), s.cell_mono),
                ),
            ]
        )
        out.append(fields_table(rows, s))
        out.append(Spacer(1, 8))
        return out

    def persons_line(self) -> str:
        if self.policy.shows_codes:
            return self._("Interviewees appear by code only.")
        return self._("Interviewees are not identified in this report, not even by code.")

    def conditions_summary(self) -> list[Flowable]:
        """One table of every area inspected, with m² per person and the CPT flag."""
        template = template_for(self.data.visit)
        group = conditions_group(template.fields)
        if group is None:
            return []
        items = self.data.visit.data.get(group.id)
        if not isinstance(items, list) or not items:
            return []
        subs = children(group)
        if has_living_space(subs):
            return living_space_summary(subs, items, self.ctx, self.s)
        per_person = next(
            (x for x in subs if x.type == FieldType.COMPUTED and x.formula == "area_per_person"),
            None,
        )
        flag = next(
            (x for x in subs if x.type == FieldType.COMPUTED and x.formula == "cpt_space_flag"),
            None,
        )
        inputs = (per_person.inputs or {}) if per_person else {}
        by_id = {x.id: x for x in subs}
        area_field = by_id.get(inputs.get("floor_area", ""))
        occupants_field = by_id.get(inputs.get("occupants", ""))
        name_field = next((x for x in subs if x.type == FieldType.TEXT), None)
        type_field = next((x for x in subs if x.type == FieldType.CHOICE), None)
        rows: list[list[Flowable | str]] = []
        flagged = 0
        for n, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                continue
            is_flagged = flag is not None and self.ctx.computed_value(flag, item) is True
            flagged += int(is_flagged)
            flag_cell: Flowable | str = ""
            if flag is not None:
                flag_cell = Paragraph(
                    markup(self.ctx.computed_text(flag, item) or "—"),
                    self.s.flag if is_flagged else self.s.cell,
                )
            rows.append(
                [
                    str(n),
                    self.ctx.value_text(name_field, item.get(name_field.id)) if name_field else "",
                    self.ctx.value_text(type_field, item.get(type_field.id)) if type_field else "",
                    self.ctx.value_text(area_field, item.get(area_field.id)) if area_field else "",
                    self.ctx.value_text(occupants_field, item.get(occupants_field.id))
                    if occupants_field
                    else "",
                    self.ctx.computed_text(per_person, item) if per_person else "",
                    flag_cell,
                ]
            )
        if not rows:
            return []
        out: list[Flowable] = [
            CondPageBreak(120),
            heading(self._("Conditions of detention: areas inspected"), self.s.h2, "conditions"),
            grid_table(
                [
                    "#",
                    self._("Area"),
                    self._("Type"),
                    self._("Floor area"),
                    self._("Occupants"),
                    self._("m² per person"),
                    self._("CPT standard"),
                ],
                rows,
                self.s,
                [0.05, 0.18, 0.19, 0.11, 0.12, 0.13, 0.22],
            ),
            para(
                self.t.ngettext(
                    "{count} area falls below the CPT minimum (6 m² for one person, 4 m² for each "
                    "further person, not counting the sanitary annex; 2 m between walls; 2.5 m "
                    "floor to ceiling).",
                    "{count} areas fall below the CPT minimum (6 m² for one person, 4 m² for each "
                    "further person, not counting the sanitary annex; 2 m between walls; 2.5 m "
                    "floor to ceiling).",
                    flagged,
                ).format(count=flagged),
                self.s.note,
            ),
        ]
        return out

    def sections(self) -> list[Flowable]:
        template = template_for(self.data.visit)
        return [
            heading(self._("Visit record"), self.s.h1, "record"),
            *render_record(
                template,
                self.data.visit.data,
                self.ctx,
                subject=Subject((), self.data.visit.confidential),
                section_style=self.s.h2,
            ),
        ]

    def audience_data(self) -> dict[str, Any]:
        """The visit's data as this report's audience may have it (the disclosure policy applied
        field by field, names replaced), for the parts written outside the form's own layout."""
        visit = self.data.visit
        shown = disclose_data(
            template_for(visit),
            visit.data,
            Subject((), visit.confidential),
            self.policy,
            redact=self.redactor,
            withheld_mark=self.mark,
        )
        # A visit report never carries names: identifying and restricted fields stay out.
        return redact(
            template_for(visit).id,
            shown.data or {},
            {Sensitivity.ID, Sensitivity.R},
            template=template_for(visit),
        )

    @property
    def recommendation_numbers(self) -> dict[str, str]:
        new, _earlier = split_recommendations(self.data.visit, self.data.recommendations)
        return recommendation_numbers(self.data.visit, new, self.ctx.text)

    def number_of(self, rec: RecordView) -> str:
        """A recommendation made at this visit by its human number; an earlier one by its code."""
        return self.recommendation_numbers.get(rec.id) or self.code(rec)

    def _recommendation_rows(
        self, recommendations: Sequence[RecordView]
    ) -> list[list[Flowable | str]]:
        rows: list[list[Flowable | str]] = []
        for rec in recommendations:
            try:
                template = template_for(rec)
            except FieldkitError:
                continue
            status = status_field(template)
            wanted = [f for f in template.fields if f.id in ("theme", "addressee", "priority")]
            if not wanted:
                wanted = [f for f in template.fields if f.type == FieldType.CHOICE and f != status]
            choices = [
                self.ctx.value_text(f, rec.data.get(f.id))
                for f in wanted
                if not is_empty(rec.data.get(f.id))
            ][:3]
            rows.append(
                [
                    Paragraph(markup(self.number_of(rec)), self.s.cell_mono),
                    self.ctx.text(recommendation_text(rec)),
                    "; ".join(choices),
                    self.ctx.value_text(status, rec.data.get(status.id)) if status else "",
                ]
            )
        return rows

    def findings(self) -> list[Flowable]:
        """Recommendations made at this visit, then the follow-up of earlier ones, apart."""
        out: list[Flowable] = [
            CondPageBreak(150),
            heading(self._("Findings and recommendations"), self.s.h1, "recommendations"),
        ]
        new, earlier = split_recommendations(self.data.visit, self.data.recommendations)
        if not new:
            out.append(para(self._("No recommendations were made at this visit."), self.s.note))
        for title, group in (
            (self._("New recommendations"), new),
            (self._("Follow-up of earlier recommendations"), earlier),
        ):
            if not group:
                continue
            out.append(heading(title, self.s.h2))
            out.append(self._recommendation_table(group))
            for rec in group:
                out.append(
                    heading(
                        self._("Recommendation {code}").format(code=self.number_of(rec)),
                        self.s.h3,
                    )
                )
                out.extend(
                    render_record(
                        template_for(rec),
                        rec.data,
                        self.ctx,
                        subject=Subject((), rec.confidential),
                        section_style=self.s.small,
                    )
                )
        return out

    def _recommendation_table(self, group: Sequence[RecordView]) -> Flowable:
        return grid_table(
            [
                self._("No."),
                self._("Recommendation"),
                self._("Theme, addressee, priority"),
                self._("Status"),
            ],
            self._recommendation_rows(group),
            self.s,
            [0.16, 0.46, 0.22, 0.16],
        )

    def history(self) -> list[Flowable]:
        out: list[Flowable] = [
            PageBreak(),
            heading(self._("Facility history"), self.s.h1, "history"),
            para(
                self._(
                    "Each recommendation made to this facility and its status as found at each "
                    "visit, oldest visit first."
                ),
                self.s.note,
            ),
        ]
        visits = list(self.data.history_visits)
        if all(v.id != self.data.visit.id for v in visits):
            visits.append(self.data.visit)
        recommendations = list(self.data.history_recommendations) or list(self.data.recommendations)
        out.extend(history_block(visits, recommendations, self.ctx, self.data.visit.id))
        return out

    def attachments(self) -> list[Flowable]:
        if not self.data.evidence:
            return []
        rows: list[list[Flowable | str]] = []
        for item in self.data.evidence:
            decision = self.evidence_decisions[item.id]
            if decision.withheld:
                shown = self._("withheld: {reason}").format(reason=decision.reason.text(self.t))
                digest: Flowable | str = ""
            else:
                shown = self.ctx.text(item.original_name)
                digest = Paragraph(markup(item.sha256), self.s.cell_mono)
            rows.append(
                [self._evidence[item.id], shown, item_type_label(item.item_type, self.t), digest]
            )
        return [
            CondPageBreak(120),
            heading(self._("Attachments"), self.s.h1, "attachments"),
            grid_table(
                [self._("No."), self._("Original file name"), self._("Type"), "SHA-256"],
                rows,
                self.s,
                [0.12, 0.26, 0.17, 0.45],
            ),
        ]


def build_visit_report(
    target: IO[bytes],
    data: VisitReportData,
    meta: ReportMeta,
    control: BuildControl | None = None,
    *,
    compress: bool = True,
) -> int:
    """Write the visit report PDF into ``target``; returns its page count."""
    control = control or BuildControl()
    builder = VisitReportBuilder(data, meta)
    story = builder.story()
    # The title on every page and in the PDF's properties names the visit by its entered
    # reference: free text, so it passes the same redaction as the body.
    shown = dataclasses.replace(meta, document_title=builder.redactor(meta.document_title))
    return build_pdf(target, story, shown, control, compress=compress)

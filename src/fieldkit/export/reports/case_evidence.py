"""The case file's evidence index: what a lawyer needs to check each original file by hand.

Each item shows its full SHA-256, type, copy role, size, who collected it and when, its links and
its custody events; an item the audience may not have is listed with the reason only, never
described (its file name, hash or description could say what it shows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from reportlab.platypus import Flowable, KeepTogether, PageBreak, Paragraph, Spacer

from fieldkit.domain.disclosure import Decision
from fieldkit.domain.evidence import (
    custody_detail_label,
    custody_detail_value,
    custody_purpose_text,
)
from fieldkit.domain.profile import ROLE_LABELS, Role
from fieldkit.export.reports.common import (
    BuildControl,
    fields_table,
    fmt_size,
    fmt_timestamp,
    grid_table,
    heading,
    long_text,
    markup,
    para,
)
from fieldkit.export.reports.data import CaseFileData, CustodyView, EvidenceView
from fieldkit.export.reports.fonts import MONO
from fieldkit.export.reports.labels import copy_role_label, custody_action_label, item_type_label
from fieldkit.export.reports.people import short_id
from fieldkit.export.reports.render import RenderContext, fmt_local_datetime
from fieldkit.export.reports.styles import Styles
from fieldkit.i18n import Translator


class CaseFileBuilder(Protocol):
    """What the index needs of the case file's builder (``case_file.CaseFileBuilder``)."""

    @property
    def data(self) -> CaseFileData: ...

    @property
    def ctx(self) -> RenderContext: ...

    @property
    def s(self) -> Styles: ...

    @property
    def t(self) -> Translator: ...

    @property
    def _evidence_numbers(self) -> Mapping[str, str]: ...

    @property
    def evidence_decisions(self) -> Mapping[str, Decision]: ...

    def _(self, message: str) -> str: ...

    def record_label(self, record_id: str) -> str: ...

    def withheld_text(self, decision: Decision) -> str: ...


def evidence_index(b: CaseFileBuilder, control: BuildControl | None) -> list[Flowable]:
    """The evidence index: each item with its full SHA-256 and custody, or why it is withheld."""
    s = b.s
    out: list[Flowable] = [PageBreak(), heading(b._("Evidence index"), s.h1, "evidence")]
    out.append(
        para(
            b._(
                "How to check: compute the SHA-256 of each file you received and compare it "
                "with the value below, character by character. On Linux or macOS: "
                "sha256sum FILE (or shasum -a 256 FILE); on Windows: "
                "certutil -hashfile FILE SHA256. Equal values mean the file is the original "
                "that was recorded."
            ),
            s.body,
        )
    )
    if not b.data.evidence:
        return [*out, para(b._("No evidence items are linked to this case."), s.note)]
    for index, item in enumerate(b.data.evidence):
        if control is not None and index % 50 == 0:
            control.tick(0)
        out.extend(_evidence_item(b, item))
    return out


def _evidence_item(b: CaseFileBuilder, item: EvidenceView) -> list[Flowable]:
    s = b.s
    number = b._evidence_numbers[item.id]
    decision = b.evidence_decisions[item.id]
    if decision.withheld:
        # Listed, never described: the name, hash and description could say what it shows.
        return [
            KeepTogether(
                [
                    heading(f"{number}  {item_type_label(item.item_type, b.t)}", s.h3),
                    para(b.withheld_text(decision), s.note),
                ]
            ),
            Spacer(1, 6),
        ]
    rows: list[tuple[str, Flowable | str]] = [
        (b._("Title"), b.ctx.text(item.title)),
        (
            b._("Original file name"),
            b.ctx.text(item.original_name) or b._("not recorded"),
        ),
        (
            "SHA-256",
            Paragraph(markup(item.sha256 or b._("not recorded")), s.cell_mono),
        ),
        (b._("Type"), item_type_label(item.item_type, b.t)),
        (b._("Copy"), copy_role_label(item.copy_role, b.t)),
        (b._("Format"), item.media_type),
        (b._("Size"), fmt_size(item.size, b.t)),
        (b._("Collected by"), custodian_label(item.collected_by, b.t, b.ctx.text)),
        # The time as entered, in the offset of where it was taken.
        (
            b._("Captured at"),
            fmt_local_datetime(item.captured_at, b.t.language) if item.captured_at else "",
        ),
        (
            b._("Place captured"),
            b.ctx.text(item.place_created) if not b.ctx.policy.outside else "",
        ),
        (b._("Collected at"), fmt_timestamp(item.collected_at, b.t.language)),
        (b._("Item id"), Paragraph(markup(item.id), s.cell_mono)),
    ]
    if item.linked_records:
        rows.append(
            (
                b._("Linked to"),
                "; ".join(b.record_label(link) for link in item.linked_records),
            )
        )
    if item.purged:
        rows.append((b._("Note"), b._("The stored copy was purged from this device.")))
    head: list[Flowable] = [
        heading(f"{number}  {b.ctx.text(item.original_name or short_id(item.id))}", s.h3),
        fields_table([(label, value) for label, value in rows if value], s, label_width=0.24),
    ]
    out: list[Flowable] = [KeepTogether(head)]
    if item.custody:
        out.append(Spacer(1, 2))
        out.append(
            grid_table(
                [
                    b._("No."),
                    b._("When"),
                    b._("Custody event"),
                    b._("By"),
                    b._("Details"),
                ],
                [
                    [
                        str(n),
                        fmt_timestamp(event.at, b.t.language),
                        custody_action_label(event.action, b.t),
                        custodian_label(event.actor, b.t, b.ctx.text),
                        _custody_details(b, event, item),
                    ]
                    for n, event in enumerate(item.custody, start=1)
                ],
                s,
                [0.06, 0.19, 0.18, 0.2, 0.37],
            )
        )
    if item.description:
        out.extend(long_text(b.ctx.text(item.description), s.small))
    out.append(Spacer(1, 6))
    return out


def _custody_details(b: CaseFileBuilder, event: CustodyView, item: EvidenceView) -> Flowable | str:
    gettext = b.t.gettext
    parts = (
        [markup(b.ctx.text(custody_purpose_text(event.purpose, gettext)))] if event.purpose else []
    )
    for key, value in sorted(event.details.items()):
        if value in (None, "", [], {}):
            continue
        label = custody_detail_label(key, gettext)
        shown = custody_detail_value(key, value, gettext)
        parts.append(f"{markup(label)}: {markup(b.ctx.text(shown))}")
    if event.hash_after:
        if event.hash_after.lower() == item.sha256:
            parts.append(markup(b._("SHA-256 matched the original")))
        else:
            parts.append(
                f"{markup(b._('SHA-256 found'))}: "
                f'<font name="{MONO}">{markup(event.hash_after)}</font>'
            )
    return Paragraph("<br/>".join(parts), b.s.cell)


def custodian_label(actor: str, translator: Translator, text: Callable[[object], str]) -> str:
    """Who held the item: a profile role in words (T-50), anything else as entered through
    ``text`` (the report's redaction: a name typed there is replaced like everywhere else)."""
    role = ROLE_LABELS.get(Role(actor)) if actor in Role._value2member_map_ else None
    return translator.gettext(role) if role else text(actor)

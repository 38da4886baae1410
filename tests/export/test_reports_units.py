"""The report layer's pieces on plain data: names policy, redaction, escaping, fonts, diagram."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from reportlab.pdfbase import pdfmetrics

from fieldkit.domain.disclosure import Audience, ConcernedPerson, DisclosurePolicy, redactor_for
from fieldkit.export.reports.audience import People
from fieldkit.export.reports.body_diagram import body_diagram, mark_is_drawn, outline_points
from fieldkit.export.reports.common import BuildControl, ReportMeta, clean, markup
from fieldkit.export.reports.data import CaseFileData, RecordView
from fieldkit.export.reports.fonts import MONO, SANS, SANS_BOLD, register_fonts
from fieldkit.i18n import get_translator


def person(pid: str, code: str, name: str) -> RecordView:
    return RecordView(id=pid, type="person", data={"pseudonym": code, "name": name})


def interview(person_id: str, consent: dict[str, object]) -> RecordView:
    """From a record version document, as bundles and the records store carry them."""
    view = RecordView.from_doc(
        {
            "id": f"i-{person_id}",
            "type": "interview",
            "revision": 3,
            "template_id": "interview",
            "template_version": "1",
            "data": {"interviewee_code": "W-1", "interviewee": person_id, "consent": consent},
        }
    )
    assert view.revision == 3
    assert view.template_version == "1"
    return view


def grant(*scopes: str) -> list[dict[str, str]]:
    return [{"scope": s, "status": "granted"} for s in scopes]


def _people(persons: list[RecordView], interviews: list[RecordView]) -> People:
    return People(persons, interviews)


def test_names_need_the_option_and_publication_consent() -> None:
    people = [person("p1", "W-1", "Ірина Перша"), person("p2", "W-2", "Петро Другий")]
    granted = interview("p1", {"scopes": grant("interview", "publication_with_name")})
    other = interview("p2", {"scopes": grant("interview", "anonymised_reports")})
    found = _people(people, [granted, other])
    without = DisclosurePolicy(Audience.ORGANISATION, names=False)
    assert not any(without.name(p).included for p in found.all)
    named = DisclosurePolicy(Audience.ORGANISATION, names=True)
    assert named.name(found.get("p1")).included
    decision = named.name(found.get("p2"))
    assert decision.withheld
    assert "no consent recorded" in decision.reason.text(get_translator("en"))


def test_a_withdrawal_after_consent_hides_the_name_again() -> None:
    people = [person("p1", "W-1", "Ірина Перша")]
    consent = {
        "scopes": [{"scope": "publication_with_name", "status": "granted"}],
        "withdrawals": [
            {
                "date": {"value": "2024-05-01", "precision": "exact"},
                "scope": "publication_with_name",
            }
        ],
    }
    found = _people(people, [interview("p1", consent)])
    decision = DisclosurePolicy(Audience.ORGANISATION, names=True).name(found.get("p1"))
    assert decision.withheld
    assert "withdrawn" in decision.reason.text(get_translator("en"))


def test_conditional_consent_and_no_interview_are_explained() -> None:
    people = [person("p1", "W-1", "А Б"), person("p2", "W-2", "В Г")]
    conditional = interview(
        "p1",
        {
            "scopes": [
                {"scope": "publication_with_name", "status": "conditional", "conditions": "x"}
            ]
        },
    )
    found = _people(people, [conditional])
    policy = DisclosurePolicy(Audience.ORGANISATION, names=True)
    en = get_translator("en")
    assert "conditions" in policy.name(found.get("p1")).reason.text(en)
    assert "no consent recorded" in policy.name(found.get("p2")).reason.text(en)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Олександра Тестового-Маркера побили.", "[W-017] побили."),
        ("Бачив Олександром Тестовим.", "Бачив [W-017]."),
        ("OLEKSANDR lives here", "OLEKSANDR lives here"),
        ("Ірина сказала", "[W-2] сказала"),
        ("Нічого про людей.", "Нічого про людей."),
    ],
)
def test_redactor_replaces_inflected_names_with_codes(text: str, expected: str) -> None:
    people = [
        ConcernedPerson("a", codes=("W-017",), names=("Олександр Тестовий-Маркер",)),
        ConcernedPerson("b", codes=("W-2",), names=("Ірина",)),
    ]
    redact = redactor_for(DisclosurePolicy(Audience.ORGANISATION), people, "[withheld]")
    assert redact(text) == expected


def test_entered_text_is_escaped_and_stripped_of_bidi_overrides() -> None:
    assert markup("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert markup("a\nb") == "a<br/>b"
    assert "\u202e" not in clean("abc\u202edef")
    assert "\x00" not in clean("a\x00b")
    assert clean("e\u0301") == "\u00e9"  # NFC


def test_fonts_cover_ukrainian_russian_and_hex() -> None:
    register_fonts()
    register_fonts()  # idempotent
    for name in (SANS, SANS_BOLD, MONO):
        font = pdfmetrics.getFont(name)
        for char in "ЇїЄєІіҐґЁёЪъЫыЭэ№«»–—’0123456789abcdef²":
            assert ord(char) in font.face.charWidths, (name, char)


def test_body_diagram_places_marks_and_skips_bad_positions() -> None:
    points = outline_points()
    assert len(points) > 20
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in points)
    marks = [
        {"view": "front", "x": 0.5, "y": 0.5},
        {"view": "back", "x": 1.5, "y": 0.5},
        {"view": "head", "x": 0.5, "y": 0.5},
        {"view": "back", "x": "x", "y": 0.1},
    ]
    assert [mark_is_drawn(m) for m in marks] == [True, False, False, False]
    drawing = body_diagram(marks, view_label=str, side_letters=("R", "L"))
    labels = [getattr(c, "text", None) for c in drawing.contents]
    assert "1" in labels
    assert "2" not in labels
    assert "3" not in labels
    assert "4" not in labels


def test_cancel_stops_a_build_between_flowables() -> None:
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.domain.progress import CancelToken
    from fieldkit.export.reports.case_file import build_case_file

    token = CancelToken()
    token.cancel()
    meta = ReportMeta(
        translator=get_translator("en"),
        generated_at=datetime.now(UTC),
        device_id="d",
        device_fingerprint="f",
        document_title="t",
    )
    case = RecordView(
        id="c1",
        type="case",
        data={"title": "T", "case_type": "other", "monitoring_status": "active"},
    )
    with pytest.raises(FieldkitError) as caught:
        build_case_file(io.BytesIO(), CaseFileData(case=case), meta, BuildControl(cancel=token))
    assert caught.value.code == ErrorCode.CANCELLED


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_column_headings_wrap_at_spaces_only(language: str) -> None:
    """The visit report's headings (and a deliberately narrow column) never break inside a word."""
    from fieldkit.export.reports.common import CONTENT_WIDTH, header_cell
    from fieldkit.export.reports.styles import make_styles

    register_fonts()
    _ = get_translator(language).gettext
    styles = make_styles()
    headings = [
        "Area",
        "Floor area",
        "Occupants / places",
        "m² per person",
        "CPT minimum standard",
        "CPT desirable standard; ECtHR",
    ]
    widths = [0.17, 0.1, 0.11, 0.1, 0.26, 0.22]
    cases = [(_(h), w * CONTENT_WIDTH) for h, w in zip(headings, widths, strict=True)]
    # A column narrower than the longest word at the normal size, wide enough at 6 pt.
    word = max(_("Occupants").split(), key=len)
    narrow = pdfmetrics.stringWidth(word, styles.cell_bold.fontName, 6.2) + 6
    assert narrow - 6 < pdfmetrics.stringWidth(word, styles.cell_bold.fontName, 8.3)
    cases.append((_("Occupants"), narrow))
    for text, width in cases:
        cell = header_cell(text, styles.cell_bold, width)
        cell.wrap(width - 6, 1000)
        words = text.split()
        shown = [word for line in cell.blPara.lines for word in _line_words(line)]
        assert shown == words, (language, text, shown)
        assert cell.style.fontSize >= 6
        for line in cell.blPara.lines:
            assert _line_width(line) <= width - 6 + 0.5, (text, line)


def _line_words(line: object) -> list[str]:
    if isinstance(line, tuple):
        return [str(w) for w in line[1]]
    return [str(w) for w in line.words]  # type: ignore[attr-defined]


def _line_width(line: object) -> float:
    if isinstance(line, tuple):
        return 0.0  # plain lines hold only the space left; checked through the words above
    return float(line.currentWidth)  # type: ignore[attr-defined]

"""Dates, times, sizes and item headings as Ukrainian and Russian papers write them (T-14–T-16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from fieldkit.domain.forms import load_template
from fieldkit.export.reports.common import fmt_date, fmt_size, fmt_timestamp
from fieldkit.export.reports.render import fmt_local_datetime, item_heading
from fieldkit.i18n import get_translator


def test_dates_are_dotted_in_uk_and_ru_and_iso_in_english() -> None:
    assert fmt_date("2026-11-19", "uk") == "19.11.2026"
    assert fmt_date("2026-11", "ru") == "11.2026"
    assert fmt_date("2026", "uk") == "2026"
    assert fmt_date("2026-11-19", "en") == "2026-11-19"
    assert fmt_date("not a date", "uk") == "not a date"


def test_times_are_local_with_their_offset_in_uk_and_ru() -> None:
    moment = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)
    shown = fmt_timestamp(moment, "uk")
    local = moment.astimezone()
    assert shown.startswith(local.strftime("%d.%m.%Y %H:%M"))
    assert "(UTC" in shown
    assert fmt_timestamp(moment) == "2026-12-03 18:30 UTC"  # English and the signature block
    kyiv = timezone(timedelta(hours=2))
    entered = datetime(2026, 11, 19, 9, 10, tzinfo=kyiv).isoformat()
    assert fmt_local_datetime(entered, "ru") == "19.11.2026 09:10 (+02:00)"
    assert fmt_local_datetime(entered) == "2026-11-19 09:10 (+02:00)"


def test_sizes_take_a_decimal_comma_in_uk_and_ru() -> None:
    assert fmt_size(10_752, get_translator("uk")).startswith("10,5 ")
    assert fmt_size(10_752, get_translator("ru")).startswith("10,5 ")
    assert fmt_size(10_752, get_translator("en")).startswith("10.5 ")


def test_repeated_items_have_singular_headings() -> None:
    visit = load_template("visit")
    assert item_heading(visit.field("registers"), "uk") == "Журнал"
    assert item_heading(visit.field("areas"), "uk") == "Приміщення"
    assert item_heading(visit.field("obstructions"), "ru") == "Случай воспрепятствования"
    for template in (load_template(n) for n in ("case", "interview", "person", "visit")):
        for path, f in template.walk():
            if f.is_repeatable and not path.startswith("consent."):  # consent: built in
                assert f.item_label is not None, f"{template.id}.{path} has no item_label"

"""Reports lay out any length of entered text: a 2-million-character evidence title and
description (older data, or a row written past the bounds) print, cut and marked "[…]"."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from fieldkit.domain.evidence import EvidenceInput, EvidenceUpdate
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import pdf_pages, pdf_text

HUGE = 2_000_000


def test_a_two_million_character_title_does_not_break_the_case_file(
    new_vault: Vault, tmp_path: Path
) -> None:
    case = RecordService(new_vault).add(
        "case",
        {
            "title": "Довга назва",
            "case_type": "political_prosecution",
            "monitoring_status": "active",
        },
    )
    source = tmp_path / "photo.bin"
    source.write_bytes(b"CANARYNAME-Q7 evidence\n" * 100)
    item = EvidenceService(new_vault).add(source, case_id=case.id, make_preview=False).item
    title = "ДОВГО" + "я" * (HUGE - 10) + "КІНЕЦЬ"
    description = ("слово " * (HUGE // 6)).strip()
    with new_vault.session() as s:  # past the bounds, as an older profile could hold it
        s.execute(
            text("UPDATE evidence_items SET title = :t, description = :d WHERE id = :i"),
            {"t": title, "d": description, "i": item.id},
        )
    out = tmp_path / "case.pdf"
    result = ReportService(new_vault).case_file(case.id, out, "uk")
    assert pdf_pages(out) == result.pages
    printed = pdf_text(out)
    assert "ДОВГО" in printed
    assert "КІНЕЦЬ" not in printed  # cut: at most a page of it
    assert "[…]" in printed
    assert result.pages < 60


def test_entered_evidence_text_is_bounded_on_intake() -> None:
    import pydantic
    import pytest

    for model in (EvidenceInput, EvidenceUpdate):
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({"title": "я" * 501})
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({"description": "я" * 20_001})

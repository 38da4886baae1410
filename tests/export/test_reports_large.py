"""A 300-page case file: many interviews with long narratives and many evidence items."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import (
    RU_NARRATIVE,
    UK_NARRATIVE,
    interview_data,
    pdf_pages,
    pdf_text,
)

INTERVIEWS = 90
EVIDENCE_ITEMS = 40


@pytest.mark.slow
def test_a_300_page_case_file_renders_in_reasonable_time(new_vault: Vault, tmp_path: Path) -> None:
    records = RecordService(new_vault)
    case = records.add(
        "case",
        {
            "title": "Велика справа",
            "case_type": "political_prosecution",
            "monitoring_status": "active",
        },
    )
    paragraph = f"{UK_NARRATIVE} {RU_NARRATIVE}"
    narrative = "\n\n".join(f"{n}. {paragraph}" for n in range(1, 45))
    for n in range(INTERVIEWS):
        person = records.add("person", {"pseudonym": f"W-{n:03d}", "name": f"Ім'я Прізвище {n}"})
        records.add(
            "interview",
            interview_data(f"W-{n:03d}", person.id, case.id, narrative=narrative),
        )
    evidence = EvidenceService(new_vault)
    for n in range(EVIDENCE_ITEMS):
        path = tmp_path / f"document_{n:03d}.txt"
        path.write_bytes(f"evidence {n}\n".encode() * 50)
        evidence.add(path, case_id=case.id, make_preview=False)

    out = tmp_path / "big.pdf"
    stages: list[tuple[int, int]] = []
    started = time.perf_counter()
    result = ReportService(new_vault).case_file(
        case.id, out, "uk", progress=lambda done, total, stage: stages.append((done, total))
    )
    elapsed = time.perf_counter() - started
    pages = pdf_pages(out)
    assert pages == result.pages >= 300
    assert elapsed < 60, f"{pages} pages took {elapsed:.1f} s"
    # Progress went up to the whole story.
    assert stages[-1][0] == stages[-1][1] > 0
    text = pdf_text(out)
    assert f"Сторінка {pages} з {pages}" in text
    assert "W-089" in text
    assert "document_039.txt" in text
    assert "Прізвище" not in text

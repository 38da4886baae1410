"""One evidence number per item in every report; capture time and place apart from intake; the
custodian in words, never the raw role code (Berkeley Protocol; review T-50)."""

from __future__ import annotations

from pathlib import Path

from fieldkit.domain.evidence import EvidenceInput
from fieldkit.export.reports.labels import evidence_number
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import pdf_text
from tests.storage.test_records_samples import facility_data, visit_data


def test_the_same_item_has_the_same_number_in_every_report(
    new_vault: Vault, tmp_path: Path
) -> None:
    records = RecordService(new_vault)
    facility = records.add("facility", facility_data())
    visit = records.add("visit", visit_data(facility.id))
    case = CaseService(new_vault).add("CANARY-CASE-EVID", case_type="torture_allegation")
    photo = tmp_path / "cell.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0CANARY-PHOTO" + bytes(range(256)) * 8)
    other = tmp_path / "other.txt"
    other.write_bytes(b"CANARY-OTHER-DOCUMENT")
    evidence = EvidenceService(new_vault)
    evidence.add(other, case_id=case.id)  # a first item only the case file lists
    added = evidence.add(
        photo,
        case_id=case.id,
        visit_id=visit.id,
        info=EvidenceInput(
            content_created_at="2026-11-19T10:40:00+02:00", place_created="CANARY-CELL-41"
        ),
    )
    number = evidence_number(added.item.id)
    reports = ReportService(new_vault)
    case_pdf, visit_pdf = tmp_path / "case.pdf", tmp_path / "visit.pdf"
    reports.case_file(case.id, case_pdf, "uk")
    reports.visit_report(visit.id, visit_pdf, "uk", audience="organisation")
    case_text = " ".join(pdf_text(case_pdf).split())
    visit_text = " ".join(pdf_text(visit_pdf).split())
    assert number in case_text
    assert number in visit_text
    # the capture time as entered, apart from the intake time
    assert "Коли знято 19.11.2026 10:40 (+02:00)" in case_text
    assert "CANARY-CELL-41" in case_text  # the organisation's own file has the place
    assert "монітор" in case_text  # the custodian in words
    assert " monitor " not in case_text

"""The visit report for the Ombudsperson: the visit at a glance (legal basis, team, dates, areas not
seen, summary), findings by theme with "not examined", new recommendations apart from the follow-up
of earlier ones, and human recommendation numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import pdf_text
from tests.storage.test_records_samples import facility_data


def _visit(facility: str, reference: str, day: str, **extra: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "facility": facility,
        "facility_type": "sizo",
        "visit_kind": "regular",
        "visit_mode": "on_site",
        "announced": "unannounced",
        "mandate": "opcat_npm",
        "visit_date": day,
        "team": [{"member": "M-003", "role": "head", "sex": "female"}],
        **extra,
    }


def _recommendation(facility: str, origin: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "origin": "visit",
        "origin_visit": origin,
        "facility": facility,
        "addressee": "facility_head",
        "text": f"{title}: повністю відгородити санвузли.",
        "theme": "material_conditions",
        "priority": "high",
        "issued_on": "2026-11-20",
        "implementation_status": "not_implemented",
        **extra,
    }


def test_visit_report_for_the_ombudsperson(new_vault: Vault, tmp_path: Path) -> None:
    records = RecordService(new_vault)
    facility = records.add("facility", facility_data()).id
    earlier = records.add("visit", _visit(facility, "НПМ-2025-118", "2025-06-10")).id
    visit = records.add(
        "visit",
        _visit(
            facility,
            "НПМ-2026-241",
            "2026-11-18",
            visit_date_to="2026-11-20",
            immediate_observations="CANARY-SUMMARY: переповнення корпусу 2.",
            areas=[
                {"label": "CANARY-CELL-41", "area_type": "cell", "access": "visited"},
                {"label": "CANARY-DIZO", "area_type": "isolation_cell", "access": "refused"},
            ],
            theme_findings=[
                {"theme": "material_conditions", "finding": "CANARY-FINDING-MC"},
                {"theme": "outside_contact", "not_examined": True},
            ],
        ),
    ).id
    records.add(
        "recommendation",
        _recommendation(
            facility,
            earlier,
            "CANARY-REC-OLD",
            follow_up=[{"visit": visit, "date": "2026-11-19", "status": "partially"}],
        ),
    )
    records.add("recommendation", _recommendation(facility, visit, "CANARY-REC-NEW"))
    out = tmp_path / "visit.pdf"
    ReportService(new_vault).visit_report(visit, out, "uk", audience="organisation")
    text = " ".join(pdf_text(out).split())
    glance = text[text.index("Візит коротко") :]
    assert "Правові підстави" in glance
    assert "OPCAT Art. 4, 19, 20" in glance
    assert "M-003, Керівник групи" in glance
    assert "18.11.2026 – 20.11.2026" in glance
    assert "CANARY-DIZO: У доступі відмовлено" in glance
    assert "CANARY-SUMMARY" in glance
    themes = text[text.index("Висновки за темами") :]
    assert "CANARY-FINDING-MC" in themes
    assert "Не перевірялося" in themes  # outside contact, marked, and every theme left empty
    findings = text[text.index("Висновки та рекомендації") :]
    new_at = findings.index("Нові рекомендації")
    old_at = findings.index("Стан виконання попередніх рекомендацій")
    assert new_at < findings.index("CANARY-REC-NEW") < old_at < findings.index("CANARY-REC-OLD")
    assert "НПМ-2026-241/1" in findings

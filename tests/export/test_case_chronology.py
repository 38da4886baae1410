"""The case file's chronology: dated facts of the case, its interviews and evidence in date order,
in the report language, and nothing from what the audience may not have."""

from __future__ import annotations

import re
from pathlib import Path

from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import pdf_text
from tests.storage.test_records_samples import facility_data, interview_data, person_data


def _story(vault: Vault) -> str:
    records = RecordService(vault)
    facility = records.add("facility", facility_data())
    person = records.add("person", person_data("W-017"))
    case = CaseService(vault).add(
        "CANARY-CASE-CHRONO",
        case_type="torture_allegation",
        extra={
            "acts": [{"victim": person.id, "act_type": "torture", "initial_date": "2026-03-02"}],
            "investigation_complaints": [
                {"body": "dbr", "filed_on": "2026-03-20", "erdr_date": "2026-03-23"}
            ],
            "final_decision_date": "2026-06-10",
        },
    )
    interview = interview_data(person.id, case.id)
    interview["ill_treatment"][0].update(
        {"date": "2026-03-03", "facility": facility.id, "place": "CANARY-SECRET-ROOM"}
    )
    records.add("interview", interview)
    return case.id


def test_chronology_merges_and_orders_the_dated_facts(new_vault: Vault, tmp_path: Path) -> None:
    case_id = _story(new_vault)
    out = tmp_path / "case_uk.pdf"
    ReportService(new_vault).case_file(case_id, out, "uk")
    text = " ".join(pdf_text(out).split())
    start = text.index("Хронологія")
    chronology = text[start : text.index("Особи Лише за кодами", start)]
    order = [
        "02.03.2026",  # the act
        "03.03.2026",  # the episode
        "14.03.2026",  # the interview
        "20.03.2026",  # complaint to the ДБР
        "23.03.2026",  # entered in the ЄРДР
        "10.06.2026",  # final decision
        "10.10.2026",  # last day for the ECtHR
    ]
    positions = [chronology.index(day) for day in order]
    assert positions == sorted(positions), chronology
    assert "Державне бюро розслідувань (ДБР)" in chronology
    assert "Останній день для заяви до ЄСПЛ" in chronology
    assert "Ізолятор тимчасового тримання" in chronology  # the episode's facility
    assert "CANARY-SECRET-ROOM" not in chronology  # a SENS field never enters the chronology


def test_chronology_leaves_out_withheld_interviews(new_vault: Vault, tmp_path: Path) -> None:
    case_id = _story(new_vault)
    out = tmp_path / "case_public.pdf"
    ReportService(new_vault).case_file(case_id, out, "en", audience="public")
    text = " ".join(pdf_text(out).split())
    if "Chronology" not in text:
        return  # the audience gets no chronology at all
    chronology = text[text.index("Chronology") :]
    chronology = re.split(r"Persons|Acts and legal assessment", chronology)[0]
    assert "2026-03-03" not in chronology  # the episode lives in a withheld interview

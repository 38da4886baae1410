"""Reports per audience: what the facility, the ministry and the public do not get, and the
report that is not written at all when an interviewee declined transmission."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import get_translator
from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.test_reports import MARKER_NAME, build_sample, consent, pdf_text
from tests.helpers import cli_env, run_cli


def _set_interview(vault: Vault, interview_id: str, **changes: object) -> None:
    records = RecordService(vault)
    current = records.get(interview_id)
    records.update(interview_id, {**current.data, **changes}, current.revision)


def _set_visit(vault: Vault, visit_id: str, **changes: object) -> None:
    records = RecordService(vault)
    current = records.get(visit_id)
    records.update(visit_id, {**current.data, **changes}, current.revision)


def test_facility_report_carries_no_interviewee_codes_flags_or_links(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path)
    _set_visit(
        new_vault,
        sample.visit_id,
        interviewees=[
            {
                "code": "W-017",
                "reprisal_follow_up": True,
                "next_check": {"value": "2024-04-01", "precision": "exact"},
            }
        ],
        interview_records=[sample.interview_id],
        administration_response="Олександр Тестовий-Маркер (W-017) скаржився; перевести W-017.",
        urgent_matters="Огляд W-017 лікарем.",
    )
    service = ReportService(new_vault)
    out = tmp_path / "facility.pdf"
    service.visit_report(sample.visit_id, out, "en", audience="facility")
    flat = " ".join(pdf_text(out).split())
    assert "W-017" not in flat
    assert "Тестов" not in flat
    assert "Олександр" not in flat
    assert "2024-04-01" not in flat  # next-check date
    assert "Interviewees are not identified in this report" in flat
    assert "[withheld] ([withheld]) скаржився; перевести [withheld]." in flat
    assert "the facility administration" in flat  # addressed to
    # The organisation's own report keeps the interviewee list and codes, never the name.
    internal = tmp_path / "internal.pdf"
    service.visit_report(sample.visit_id, internal, "en", audience="organisation")
    text = " ".join(pdf_text(internal).split())
    assert "W-017" in text
    assert "[W-017] (W-017) скаржився" in text
    assert "Тестов" not in text
    assert "2024-04-01" in text


def test_smart_checks_stay_internal(new_vault: Vault, tmp_path: Path) -> None:
    sample = build_sample(new_vault, tmp_path)
    records = RecordService(new_vault)
    rec_id = sample.recommendation_ids[1]
    current = records.get(rec_id)
    records.update(rec_id, {**current.data, "smart_specific": True}, current.revision)
    service = ReportService(new_vault)
    ministry = tmp_path / "ministry.pdf"
    service.visit_report(sample.visit_id, ministry, "en", audience="to_ministry")
    assert "Specific" not in pdf_text(ministry)
    internal = tmp_path / "internal.pdf"
    service.visit_report(sample.visit_id, internal, "en", audience="organisation")
    assert "Specific" in pdf_text(internal)


def test_declined_transmission_stops_the_facility_report_and_says_what_to_do(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path)
    _set_interview(
        new_vault,
        sample.interview_id,
        consent=consent("anonymised_reports", declined=("transmit_to_administration",)),
    )
    service = ReportService(new_vault)
    out = tmp_path / "facility.pdf"
    with pytest.raises(FieldkitError) as caught:
        service.visit_report(sample.visit_id, out, "en")  # the visit says "to the facility"
    assert caught.value.code == ErrorCode.AUDIENCE_BLOCKED
    message = caught.value.message(get_translator("en"))
    assert "interview W-017" in message
    assert "consent declined: Transmission of the allegation" in message
    assert "choose the internal audience" in message
    uk = caught.value.message(get_translator("uk"))
    assert "«адміністрація установи»" in uk
    assert "у згоді відмовлено: Передання скарги адміністрації установи" in uk
    assert not out.exists()
    # The internal audience is still possible.
    service.visit_report(sample.visit_id, out, "en", audience="organisation")
    assert out.exists()


def test_cli_audience_option_and_blocked_message(new_vault: Vault, tmp_path: Path) -> None:
    sample = build_sample(new_vault, tmp_path)
    _set_interview(
        new_vault,
        sample.interview_id,
        consent=consent("anonymised_reports", declined=("transmit_to_administration",)),
    )
    profile = new_vault.path
    new_vault.lock()
    env = cli_env(profile)
    out = tmp_path / "v.pdf"
    visit = ("report", "visit", sample.visit_id, "--out", str(out), "--lang", "en")
    blocked = run_cli(*visit, "--audience", "authority", env=env)
    assert blocked.returncode == 1, blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert "interview W-017" in blocked.stderr
    assert "--audience organisation" in blocked.stderr
    assert not out.exists()
    case = ("report", "case", sample.case_id, "--out", str(out), "--lang", "en")
    bad = run_cli(*case, "--audience", "press", env=env)
    assert bad.returncode == 1
    assert "Unknown audience 'press'" in bad.stderr
    ok = run_cli(*case, "--audience", "partner", env=env)
    assert ok.returncode == 0, ok.stderr
    flat = " ".join(pdf_text(out).split())
    assert MARKER_NAME not in flat
    assert "no consent recorded for: Sharing with partner NGOs and coalitions" in flat


def test_a_consent_withdrawn_after_an_earlier_file_is_flagged(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path)
    _set_interview(new_vault, sample.interview_id, consent=consent("share_international"))
    service = ReportService(new_vault)
    first = service.case_file(sample.case_id, tmp_path / "first.pdf", "en", audience="counsel")
    assert first.withheld_since == 0
    text = " ".join(pdf_text(first.path).split())
    assert "Мене затримали 14 березня" in text  # the interview's account went to counsel
    assert "Withheld since an earlier file" not in text
    withdrawn = consent("share_international")
    withdrawn["withdrawals"] = [
        {"date": {"value": "2026-12-01", "precision": "exact"}, "scope": "share_international"}
    ]
    _set_interview(new_vault, sample.interview_id, consent=withdrawn)
    again = service.case_file(sample.case_id, tmp_path / "again.pdf", "en", audience="counsel")
    assert again.withheld_since >= 1
    text = " ".join(pdf_text(again.path).split())
    assert "Withheld since an earlier file" in text
    assert "Interview W-017" in text
    assert "consent withdrawn: Sharing with international mechanisms" in text
    assert "Мене затримали 14 березня" not in text
    # Another audience has its own history: nothing to flag there.
    other = service.case_file(sample.case_id, tmp_path / "org.pdf", "en")
    assert other.withheld_since == 0

"""Review mode: read-only, and an altered record version or evidence file shows as ALTERED."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select, text

from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import CaseService, RecordService
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.review import ReviewWindow
from fieldkit.ui.tasks import TaskRunner

TIME_TASK_MS = 20_000


def _case_with_photo(vault, tmp_path: Path) -> tuple[str, str]:
    case = CaseService(vault).add("Затримання W-017 у Херсоні")
    person = RecordService(vault).add("person", {"pseudonym": "W-017"})
    RecordService(vault).link_person(person.id, case.id, "victim_direct")
    photo = tmp_path / "cell.bin"
    photo.write_bytes(b"\x89 not really a photo " * 4000)
    item = EvidenceService(vault).add(photo, case_id=case.id).item
    return case.id, item.id


def _review(qtbot: QtBot, vault, case_id: str) -> ReviewWindow:
    window = ReviewWindow(vault, TaskRunner(), ClipboardGuard(), case_id)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.integrity is not None, timeout=TIME_TASK_MS)
    return window


def test_an_intact_case_file(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    case_id, item_id = _case_with_photo(new_vault, tmp_path)
    window = _review(qtbot, new_vault, case_id)
    assert window.integrity.all_ok
    assert window.integrity.evidence[item_id].status == "ok"
    assert window._items[case_id].text(window.COL_INTEGRITY) == "intact"
    assert window._items[item_id].text(window.COL_INTEGRITY) == "intact"
    assert "intact" in window.overall_label.text()
    # Read-only: nothing in the window saves a record.
    assert not hasattr(window, "save")
    assert window.findChildren(type(window.recheck_button))
    window.tree.setCurrentItem(window._items[item_id])
    assert "SHA-256" in window.detail.toPlainText()


def test_altered_evidence_and_record_are_flagged(
    qtbot: QtBot,
    new_vault,
    tmp_path: Path,
) -> None:
    case_id, item_id = _case_with_photo(new_vault, tmp_path)
    with new_vault.session() as s:
        name = s.execute(
            select(EvidenceItemRow.storage_name).where(EvidenceItemRow.id == item_id)
        ).scalar_one()
        # Someone with the key edits a stored version of the case behind the program's back
        # (dropping the append-only trigger first).
        s.execute(text("DROP TRIGGER record_versions_no_update"))
        s.execute(
            text(
                "UPDATE record_versions SET doc = "
                "CAST(replace(CAST(doc AS TEXT), 'Херсоні', 'Одесі') AS BLOB) "
                "WHERE record_id = :rid"
            ),
            {"rid": case_id},
        )
    stored = next(p for p in new_vault.store_dir.rglob("*") if p.name.startswith(name))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))

    window = _review(qtbot, new_vault, case_id)
    report = window.integrity
    assert not report.all_ok
    assert report.records[case_id].status == "tampered", report.records[case_id].detail
    assert report.evidence[item_id].status == "tampered"
    assert window._items[case_id].text(window.COL_INTEGRITY) == "ALTERED"
    assert window._items[item_id].text(window.COL_INTEGRITY) == "ALTERED"
    assert "could not be confirmed" in window.overall_label.text()


def test_case_file_pdf_from_the_review(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    from fieldkit.ui import dialogs

    case_id, _item = _case_with_photo(new_vault, tmp_path)
    window = _review(qtbot, new_vault, case_id)
    window.pdf_button.click()
    report = window.report_dialog
    assert report.isVisible()
    assert report.kind == "case"
    assert report.names_check.isVisible()  # the case file offers names, with a warning
    report.language_combo.setCurrentIndex(report.language_combo.findData("uk"))
    out = tmp_path / "case.pdf"
    dialogs.set_next_path(out)
    dialogs.set_next_answer(True)  # "Report saved"
    report.save_button.click()
    qtbot.waitUntil(lambda: dialogs.pending() == 0, timeout=TIME_TASK_MS)
    assert out.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "case.pdf.minisig").exists()
    assert dialogs.asked()[-1] == ("inform", "Report saved")
    assert report.result.path == out


def test_references_show_titles_and_codes_not_ids(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    from tests.storage.test_records_samples import facility_data, interview_data, visit_data

    case_id, _item = _case_with_photo(new_vault, tmp_path)
    records = RecordService(new_vault)
    facility = records.add("facility", facility_data())
    visit = records.add("visit", visit_data(facility.id))
    person = next(r for r in records.list() if r.type == "person")
    data = {**interview_data(person.id, case_id), "visit": visit.id, "cases": [case_id]}
    interview = records.add("interview", data)
    window = _review(qtbot, new_vault, case_id)
    window.tree.setCurrentItem(window._items[interview.id])
    text = window.detail.toPlainText()
    assert "Linked cases: Затримання W-017 у Херсоні (case)" in text
    assert "Visit during which the interview took place: V-2026-014 (visit)" in text
    assert "Interviewee: W-017 (person)" in text
    for raw in (case_id, visit.id, person.id):
        assert raw not in text.split("\n", 1)[1]  # only the record's own id heads the text

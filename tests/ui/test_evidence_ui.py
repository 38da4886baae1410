"""The evidence panel over a real profile: intake through tasks, cancel, thumbnails, details."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontInfo
from PySide6.QtWidgets import QPushButton

from fieldkit.domain.evidence import CustodyAction
from fieldkit.domain.progress import CancelToken
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import CaseService
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.evidence.panel import EvidencePanel, IntakeOutcome, run_intake
from fieldkit.ui.tasks import TaskRunner
from tests.helpers import files_under, find_plaintext

TIME_TASK_MS = 20_000
MARKER = "W-017 private note 7f3a"


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner(max_threads=2)
    yield tasks
    tasks.stop_all()


@pytest.fixture
def case_id(new_vault: Vault) -> str:
    return CaseService(new_vault).add("Visit to SIZO 1").id


@pytest.fixture
def panel(new_vault: Vault, runner: TaskRunner, case_id: str, qtbot: Any) -> EvidencePanel:
    widget = EvidencePanel(new_vault, runner, case_id=case_id)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    return widget


def _photo(path: Path, colour: tuple[int, int, int] = (200, 30, 30), gps: bool = True) -> Path:
    image = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    if gps:
        exif[0x8825] = {1: "N", 2: (50.0, 27.0, 0.0), 3: "E", 4: (30.0, 31.0, 0.0)}
    image.save(path, exif=exif)
    return path


def _stored(vault: Vault) -> list[Path]:
    """The encrypted evidence files of a profile (not the store's lock file)."""
    return sorted(p for p in files_under(vault.path / "store") if p.name != ".lock")


def _drag_enter(mime: QMimeData) -> QDragEnterEvent:
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:  # PySide6 6.12 takes a QPointF, earlier versions a QPoint
        return QDragEnterEvent(QPointF(10, 10), *args)
    except TypeError:
        return QDragEnterEvent(QPoint(10, 10), *args)


# The answer to the describe-and-link dialog intake offers for new items: skipped.
SKIP_DESCRIBE = 0  # QDialog.DialogCode.Rejected


def _intake(
    panel: EvidencePanel, qtbot: Any, paths: list[Path], describe: Any = SKIP_DESCRIBE
) -> IntakeOutcome:
    """Add ``paths``; ``describe`` answers the dialog offered for new items (None: no new
    item is expected, so no dialog)."""
    if describe is not None:
        dialogs.set_next_answer(describe)
    with qtbot.waitSignal(panel.intake_finished, timeout=TIME_TASK_MS) as blocker:
        task = panel.add_files(paths)
        assert task is not None
    outcome = blocker.args[0]
    assert isinstance(outcome, IntakeOutcome)
    return outcome


def test_add_files_through_the_dialog_and_a_task(
    panel: EvidencePanel, tmp_path: Path, new_vault: Vault, qtbot: Any
) -> None:
    photo = _photo(tmp_path / "cell.jpg")
    note = tmp_path / "note.txt"
    note.write_text(MARKER, encoding="utf-8")
    dialogs.set_next_path([photo, note])
    dialogs.set_next_answer(SKIP_DESCRIBE)
    with qtbot.waitSignal(panel.intake_finished, timeout=TIME_TASK_MS) as blocker:
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
        # The progress dialog is up (and tracked, so a lock closes it) while the task runs.
        assert panel.progress_dialog is not None
        assert panel.progress_dialog in dialogs.open_dialogs()
    outcome = blocker.args[0]
    assert len(outcome.added) == 2
    assert not outcome.cancelled
    assert ("open_files", "Add evidence files") in dialogs.asked()
    # Intake offered the describe-and-link dialog for the new items; skipped, they stay as added.
    assert ("exec", "Describe and link the 2 new items") in dialogs.asked()
    assert panel.progress_dialog is None
    assert panel.model.rowCount() == 2
    assert panel.status.text() == "2 files were added."
    photo_id = next(i.id for i in outcome.added if i.original_name == "cell.jpg")
    # The thumbnail comes from the encrypted store through a task, decoded in memory.
    qtbot.waitUntil(lambda: photo_id in panel.model.thumbnails, timeout=TIME_TASK_MS)
    assert not panel.model.thumbnails[photo_id].isNull()
    # Nothing in plaintext anywhere in the profile.
    assert find_plaintext(MARKER, new_vault.path) == []
    assert list(files_under(new_vault.path / "tmp")) == []


def test_model_passes_the_model_tester(
    panel: EvidencePanel, tmp_path: Path, qtbot: Any, qtmodeltester: Any
) -> None:
    _intake(panel, qtbot, [_photo(tmp_path / "a.jpg"), _photo(tmp_path / "b.jpg", (0, 0, 200))])
    qtmodeltester.check(panel.model)
    index = panel.model.index(0, 0)
    assert panel.model.data(index, Qt.ItemDataRole.DisplayRole) == "a.jpg"
    assert "SHA-256" in panel.model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_drop_files_on_the_panel(panel: EvidencePanel, tmp_path: Path, qtbot: Any) -> None:
    photo = _photo(tmp_path / "dropped.jpg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    enter = _drag_enter(mime)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    dialogs.set_next_answer(SKIP_DESCRIBE)
    with qtbot.waitSignal(panel.intake_finished, timeout=TIME_TASK_MS):
        panel.dropEvent(drop)
    assert ("exec", "Describe and link the new evidence item") in dialogs.asked()
    assert [i.original_name for i in panel.model.items] == ["dropped.jpg"]
    # A non-file URL is refused.
    web = QMimeData()
    web.setUrls([QUrl("https://example.org/x.jpg")])
    refused = _drag_enter(web)
    panel.dragEnterEvent(refused)
    assert not refused.isAccepted()


def test_cancel_intake_leaves_nothing_behind(
    panel: EvidencePanel, tmp_path: Path, new_vault: Vault, qtbot: Any
) -> None:
    big = tmp_path / "video.mp4"
    with big.open("wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(1 << 20))
    store_before = _stored(new_vault)
    with qtbot.waitSignal(panel.intake_finished, timeout=TIME_TASK_MS) as blocker:
        task = panel.add_files([big])
        assert task is not None
        # What the progress dialog's Cancel button does, while the task reads the file.
        assert panel.progress_dialog is not None
        cancel_button = panel.progress_dialog.findChild(QPushButton)
        assert cancel_button.text() == "Cancel"
        qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    outcome = blocker.args[0]
    assert outcome.cancelled
    assert outcome.added == []
    assert panel.model.rowCount() == 0
    assert "Cancelled" in panel.status.text()
    assert EvidenceService(new_vault).list_items() == []
    assert _stored(new_vault) == store_before
    assert list(files_under(new_vault.path / "tmp")) == []
    assert panel.add_button.isEnabled()


def test_intake_cancelled_in_the_middle_of_a_file(
    new_vault: Vault, tmp_path: Path, case_id: str
) -> None:
    """The intake function itself, cancelled after its first chunk: the item is not stored."""
    big = tmp_path / "audio.wav"
    with big.open("wb") as handle:
        for _ in range(16):
            handle.write(os.urandom(1 << 20))
    store_before = _stored(new_vault)
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, stage: str) -> None:
        seen.append((done, total))
        if done > 0:
            token.cancel()

    outcome = run_intake(
        EvidenceService(new_vault), [big], {"case_id": case_id}, progress=progress, cancel=token
    )
    assert outcome.cancelled
    assert outcome.added == []
    assert any(0 < done < total for done, total in seen)
    assert EvidenceService(new_vault).list_items() == []
    assert _stored(new_vault) == store_before
    assert list(files_under(new_vault.path / "tmp")) == []


def test_duplicates_and_folders_are_reported(
    panel: EvidencePanel, tmp_path: Path, qtbot: Any
) -> None:
    photo = _photo(tmp_path / "one.jpg")
    _intake(panel, qtbot, [photo])
    copy = tmp_path / "copy-of-one.jpg"
    copy.write_bytes(photo.read_bytes())
    folder = tmp_path / "folder"
    folder.mkdir()
    outcome = _intake(panel, qtbot, [copy, folder])
    assert outcome.added == []
    assert [name for name, _item in outcome.duplicates] == ["copy-of-one.jpg"]
    assert "copy-of-one.jpg is already stored as evidence (one.jpg)" in panel.status.text()
    assert "1 folder or special file was skipped." in panel.status.text()
    assert panel.model.rowCount() == 1
    assert panel.add_files([folder]) is None
    assert panel.status.text() == "Nothing to add: only files can be added, not folders."


def test_details_show_hash_and_hide_sensitive_metadata(
    panel: EvidencePanel, tmp_path: Path, qtbot: Any
) -> None:
    photo = _photo(tmp_path / "yard.jpg")
    _intake(panel, qtbot, [photo])
    details = panel.details
    assert details.item is not None
    assert details.item.original_name == "yard.jpg"
    assert details.sha256.text() == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert details.sha256.isReadOnly()
    # The shipped DejaVu Sans Mono, not whatever the system calls its fixed font.
    assert QFontInfo(details.sha256.font()).family() == "DejaVu Sans Mono"
    assert QFontInfo(details.sha256.font()).fixedPitch()
    assert details.fact_labels["original_name"].text() == "yard.jpg"
    assert "bytes" in details.fact_labels["size"].text()
    rows = dict(details.metadata_rows())
    assert rows["GPS position"] == "hidden (sensitive)"
    assert rows["Camera make"] == "TestCam"
    assert details.flags.text() == "Sensitive: embedded metadata, GPS position"
    details.show_sensitive.setChecked(True)
    rows = dict(details.metadata_rows())
    assert rows["GPS position"] == "50.450000, 30.516667"
    assert (
        details.metadata.item(
            [
                r
                for r in range(details.metadata.rowCount())
                if details.metadata.item(r, 0).text() == "GPS position"
            ][0],
            1,
        ).text()
        == "50.450000, 30.516667"
    )
    assert [details.custody.item(r, 1).text() for r in range(details.custody.rowCount())] == [
        "collected"
    ]


def test_verify_shows_its_result_and_logs_custody(
    panel: EvidencePanel, tmp_path: Path, new_vault: Vault, qtbot: Any
) -> None:
    _intake(panel, qtbot, [_photo(tmp_path / "ok.jpg")])
    details = panel.details
    task = details.verify()
    assert task is not None
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert details.result.text() == "Verified: the stored file matches its SHA-256."
    assert details.last_verify.ok
    actions = [details.custody.item(r, 1).text() for r in range(details.custody.rowCount())]
    assert actions == ["collected", "hash verified"]

    # Damage the stored (encrypted) file: verify reports it, in red, and custody records it.
    stored = _stored(new_vault)
    assert len(stored) == 1
    data = bytearray(stored[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    stored[0].write_bytes(bytes(data))
    details.verify()
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert details.result.text().startswith("INTEGRITY FAILURE")
    assert "b00020" in details.result.styleSheet()
    assert details.events[-1].action == CustodyAction.INTEGRITY_FAILURE


def test_export_original_warns_first_and_is_logged(
    panel: EvidencePanel, tmp_path: Path, qtbot: Any
) -> None:
    photo = _photo(tmp_path / "proof.jpg")
    _intake(panel, qtbot, [photo])
    details = panel.details
    dialogs.set_next_answer(False)  # the warning: Cancel
    assert details.export_original() is None
    assert dialogs.asked()[-1] == ("ask", "Export the original")
    out_dir = tmp_path / "stick"
    out_dir.mkdir()
    target = out_dir / "proof.jpg"
    dialogs.set_next_answer(True)
    dialogs.set_next_path(target)
    task = details.export_original()
    assert task is not None
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert target.read_bytes() == photo.read_bytes()
    assert details.last_export.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert details.result.text().startswith("Exported to")
    assert details.events[-1].action == CustodyAction.EXPORTED
    # Exporting onto an existing file is refused with a clear message; nothing is replaced.
    dialogs.set_next_answer(True)
    dialogs.set_next_path(target)
    details.export_original()
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert "already exists" in details.result.text()
    assert dialogs.pending() == 0


def test_clear_on_lock_forgets_everything(panel: EvidencePanel, tmp_path: Path, qtbot: Any) -> None:
    outcome = _intake(panel, qtbot, [_photo(tmp_path / "x.jpg")])
    qtbot.waitUntil(lambda: outcome.added[0].id in panel.model.thumbnails, timeout=TIME_TASK_MS)
    panel.clear()
    assert panel.model.rowCount() == 0
    assert panel.model.thumbnails == {}
    assert panel.details.item is None
    assert panel.details.sha256.text() == ""
    assert panel.details.custody.rowCount() == 0


def test_panel_in_ukrainian(new_vault: Vault, runner: TaskRunner, case_id: str, qtbot: Any) -> None:
    from fieldkit import i18n

    i18n.set_language("uk")
    widget = EvidencePanel(new_vault, runner, case_id=case_id)
    qtbot.addWidget(widget)
    assert widget.add_button.text() == "Додати файли…"
    assert widget.details.verify_button.text() == "Перевірити цілісність"


def test_set_case_switches_the_list(
    panel: EvidencePanel, new_vault: Vault, tmp_path: Path, qtbot: Any
) -> None:
    _intake(panel, qtbot, [_photo(tmp_path / "first-case.jpg")])
    other = CaseService(new_vault).add("Another case").id
    panel.set_case(other)
    assert panel.model.rowCount() == 0
    assert panel.details.item is None
    _intake(panel, qtbot, [_photo(tmp_path / "second-case.jpg", (0, 90, 0))])
    assert [i.original_name for i in panel.model.items] == ["second-case.jpg"]


def test_lock_during_intake_cancels_and_shows_nothing(
    panel: EvidencePanel, runner: TaskRunner, tmp_path: Path, new_vault: Vault, qtbot: Any
) -> None:
    big = tmp_path / "long-video.mp4"
    with big.open("wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(1 << 20))
    task = panel.add_files([big])
    assert task is not None
    # What the lock does: close every dialog, empty the widgets, stop the tasks.
    assert dialogs.close_all() >= 1
    panel.clear()
    assert runner.stop_all()
    qtbot.waitUntil(lambda: panel.intake_task is None, timeout=TIME_TASK_MS)
    assert task.cancel.cancelled
    assert panel.model.rowCount() == 0
    assert panel.status.text() == ""
    assert panel.progress_dialog is None
    assert EvidenceService(new_vault).list_items() == []
    assert _stored(new_vault) == []


def test_purge_one_original_after_a_destructive_confirmation(
    panel: EvidencePanel, tmp_path: Path, new_vault: Vault, qtbot: Any
) -> None:
    from PySide6.QtWidgets import QDialog

    from fieldkit.domain.evidence import ItemState
    from fieldkit.ui.evidence.details import PurgeDialog

    photo = _photo(tmp_path / "bruise.jpg")
    outcome = _intake(panel, qtbot, [photo])
    item_id = outcome.added[0].id
    qtbot.waitUntil(lambda: item_id in panel.model.thumbnails, timeout=TIME_TASK_MS)
    assert panel.select(item_id)
    details = panel.details
    assert details.purge_button.isEnabled()
    stored_before = _stored(new_vault)
    assert stored_before

    dialogs.set_next_answer(QDialog.DialogCode.Rejected.value)  # Cancel: nothing happens
    assert details.purge() is None
    assert EvidenceService(new_vault).get(item_id).state == ItemState.STORED

    seen: list[str] = []

    def confirm(dialog: QDialog) -> int:
        assert isinstance(dialog, PurgeDialog)
        seen.append(dialog.findChild(type(details.result), "purgeWarning").text())
        dialog.reason_edit.setText("  handed to the organisation in person  ")
        return QDialog.DialogCode.Accepted.value

    dialogs.set_next_answer(confirm)
    task = details.purge()
    assert task is not None
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert "cannot be undone" in seen[0]
    assert "bruise.jpg" in seen[0]
    item = EvidenceService(new_vault).get(item_id)
    assert item.state == ItemState.PURGED
    assert item.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()  # the hash stays
    assert len(_stored(new_vault)) < len(stored_before)
    assert details.events[-1].action == CustodyAction.PURGED
    assert details.events[-1].purpose == "handed to the organisation in person"
    assert "erased" in details.result.text()
    assert not details.purge_button.isEnabled()
    assert not details.export_button.isEnabled()
    assert item_id not in panel.model.thumbnails
    assert panel.model.item_at(0).state == ItemState.PURGED
    # The first: the describe dialog intake offered (skipped); then the two purge dialogs.
    assert [kind for kind, _t in dialogs.asked()] == ["exec", "exec", "exec"]


def test_describe_and_link_a_photo_to_its_interview(
    panel: EvidencePanel, tmp_path: Path, new_vault: Vault, case_id: str, qtbot: Any
) -> None:
    """F-4: a photo added in the desktop program gets a description, capture time and place and
    its interview; the interviewee's declined photographs consent then marks it."""
    from PySide6.QtWidgets import QDialog

    from fieldkit.services.records import RecordService
    from fieldkit.ui.evidence.describe import DescribeDialog
    from tests.export.test_reports import consent, interview_data

    records = RecordService(new_vault)
    person = records.add("person", {"pseudonym": "W-017"})
    interview = records.add(
        "interview",
        interview_data(
            "W-017", person.id, case_id, consent_value=consent(declined=("photographs",))
        ),
    )
    photo = _photo(tmp_path / "IMG_4821.JPG")
    outcome = _intake(panel, qtbot, [photo])
    item_id = outcome.added[0].id
    assert panel.select(item_id)
    details = panel.details
    assert details.describe_button.isEnabled()
    assert "declined" not in details.flags.text()

    def fill(dialog: QDialog) -> int:
        assert isinstance(dialog, DescribeDialog)
        dialog.title_edit.setText("Bruises on the back")
        dialog.description_edit.setPlainText("Photographed at the interview, left shoulder.")
        dialog.captured_at_edit.setText("2024-03-06 11:20")
        dialog.place_edit.setText("NGO office")
        dialog.select(dialog.interview_combo, interview.id)
        dialog.set_person(person.id, True)
        return QDialog.DialogCode.Accepted.value

    dialogs.set_next_answer(fill)
    task = details.describe()
    assert task is not None
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert details.result.text() == "Saved."
    item = EvidenceService(new_vault).get(item_id)
    assert item.title == "Bruises on the back"
    assert item.description == "Photographed at the interview, left shoulder."
    assert item.content_created_at == "2024-03-06 11:20"
    assert item.place_created == "NGO office"
    assert item.created_at != item.content_created_at  # intake time kept apart
    assert item.links.case_id == case_id
    assert item.links.interview_id == interview.id
    assert item.links.person_ids == (person.id,)
    assert item.consent_limits is not None
    assert item.consent_limits["scopes"]["photographs"] == "declined"
    assert "declined or withdrew consent" in details.flags.text()
    assert "W-017" in details.fact_labels["links"].text()
    assert "NGO office" in details.fact_labels["place_created"].text()

    # Editable after: unlinking the interview takes the mark away again.
    def unlink(dialog: QDialog) -> int:
        assert isinstance(dialog, DescribeDialog)
        dialog.select(dialog.interview_combo, None)
        return QDialog.DialogCode.Accepted.value

    dialogs.set_next_answer(unlink)
    assert details.describe() is not None
    qtbot.waitUntil(lambda: details.task is None, timeout=TIME_TASK_MS)
    assert EvidenceService(new_vault).get(item_id).links.interview_id is None
    assert "declined" not in details.flags.text()


def test_intake_offers_describe_and_link_and_the_consent_mark_follows(
    new_vault: Vault, runner: TaskRunner, case_id: str, tmp_path: Path, qtbot: Any
) -> None:
    """F-4 at intake: a photo added from an interview's evidence gets the describe-and-link
    dialog at once, prefilled with that interview; saved through the same service calls, the
    photo carries the link and the interviewee's declined photographs consent marks it."""
    from PySide6.QtWidgets import QDialog

    from fieldkit.services.records import RecordService
    from fieldkit.ui.evidence.describe import DescribeDialog
    from tests.export.test_reports import consent, interview_data

    records = RecordService(new_vault)
    person = records.add("person", {"pseudonym": "QX-417"})
    interview = records.add(
        "interview",
        interview_data(
            "QX-417", person.id, case_id, consent_value=consent(declined=("photographs",))
        ),
    )
    panel = EvidencePanel(new_vault, runner, case_id=case_id, interview_id=interview.id)
    qtbot.addWidget(panel)
    panel.show()
    seen: dict[str, Any] = {}

    def fill(dialog: QDialog) -> int:
        assert isinstance(dialog, DescribeDialog)
        seen["interview"] = dialog.interview_combo.currentData()
        seen["skip"] = dialog.findChild(QPushButton, "describeSkip").text()
        dialog.title_edit.setText("Cell window")
        dialog.captured_at_edit.setText("2024-03-06 11:20")
        dialog.place_edit.setText("SIZO 1, block B")
        dialog.set_person(person.id, True)
        return QDialog.DialogCode.Accepted.value

    with qtbot.waitSignal(panel.intake_described, timeout=TIME_TASK_MS) as described:
        outcome = _intake(panel, qtbot, [_photo(tmp_path / "IMG_5001.JPG")], describe=fill)
    assert seen == {"interview": interview.id, "skip": "Skip"}
    item_id = outcome.added[0].id
    assert [i.id for i in described.args[0]] == [item_id]
    item = EvidenceService(new_vault).get(item_id)
    assert item.title == "Cell window"
    assert item.content_created_at == "2024-03-06 11:20"
    assert item.place_created == "SIZO 1, block B"
    assert item.created_at != item.content_created_at
    assert item.links.case_id == case_id
    assert item.links.interview_id == interview.id
    assert item.links.person_ids == (person.id,)
    assert item.consent_limits is not None
    assert item.consent_limits["scopes"]["photographs"] == "declined"
    assert panel.details.item is not None
    assert panel.details.item.id == item_id
    assert "declined or withdrew consent" in panel.details.flags.text()


def test_collected_by_names_the_role_in_the_interface_language(
    panel: EvidencePanel, tmp_path: Path, qtbot: Any
) -> None:
    from fieldkit import i18n

    _intake(panel, qtbot, [_photo(tmp_path / "cell.jpg")])
    details = panel.details
    item = details.item
    assert item is not None
    assert item.collected_by == "monitor"
    assert details.fact_labels["collected_by"].text() == "monitor"
    for language, word in (("uk", "монітор"), ("ru", "монитор")):
        i18n.set_language(language)
        details.show_item(item)
        assert details.fact_labels["collected_by"].text() == word


def test_sensitive_metadata_switch_is_short_in_russian(
    new_vault: Vault, tmp_path: Path, qtbot: Any
) -> None:
    """A check box does not wrap: its long Russian text made the details wider than their place,
    cutting off the sensitive-metadata warning. The list of what is sensitive is in its tooltip."""
    from fieldkit import i18n

    i18n.set_language("ru")
    tasks = TaskRunner(max_threads=2)
    try:
        widget = EvidencePanel(new_vault, tasks, case_id=CaseService(new_vault).add("SIZO").id)
        qtbot.addWidget(widget)
        widget.resize(660, 520)
        widget.show()
        _intake(widget, qtbot, [_photo(tmp_path / "cell.jpg")])
        switch = widget.details.show_sensitive
        assert switch.text() == "Показать чувствительные метаданные"
        assert "GPS" in switch.toolTip()
        assert switch.minimumSizeHint().width() <= 360
    finally:
        tasks.stop_all()

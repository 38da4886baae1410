"""Lawyers in the desktop program: the coordinator enrols a lawyer's key and shares the open case;
the lawyer imports the package, sees every item intact and what was withheld."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services import counsel, trust
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.counsel import LabelDialog, ShareDialog, enrol_counsel_key, share_current_case
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner
from tests.export.test_case_packages import set_consent
from tests.export.test_reports import build_sample
from tests.helpers import STRONG_PASSPHRASE

TIME_TASK_MS = 30_000


def _window(qtbot: QtBot, vault: Vault) -> MainWindow:
    window = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(window)
    window.show()
    assert window.model.wait_loaded()
    return window


def test_share_a_case_and_import_it_in_the_lawyers_profile(
    qtbot: QtBot, tmp_path: Path, fast_kdf: KdfParams, new_coordinator_vault: Vault
) -> None:
    coordinator = new_coordinator_vault
    lawyer = Vault.create(tmp_path / "lawyer", STRONG_PASSPHRASE, Role.LAWYER, fast_kdf)
    try:
        trust.init_org(coordinator, "Test organisation")
        card = tmp_path / "org.pub"
        trust.write_card(coordinator, card)
        key = tmp_path / "lawyer.pub"
        code = counsel.enrol_counsel(lawyer, card, key).code
        sample = build_sample(coordinator, tmp_path)
        set_consent(coordinator, sample.interview_id, "share_prosecution", "photographs")

        office = _window(qtbot, coordinator)
        assert office.action_share_case is not None
        dialogs.set_next_path(key)

        def label(dialog: QDialog) -> int:
            assert isinstance(dialog, LabelDialog)
            dialog.label.setText("L-01")
            return QDialog.DialogCode.Accepted.value

        dialogs.set_next_answer(label)
        dialogs.set_next_answer(None)  # the "enrolled" message, with the code
        assert enrol_counsel_key(office)
        assert [c.code for c in counsel.list_counsel(coordinator)] == [code]

        office.open_case(sample.case_id)
        usb = tmp_path / "usb"
        usb.mkdir()

        def choose(dialog: QDialog) -> int:
            assert isinstance(dialog, ShareDialog)
            assert dialog.lawyer.currentText() == "L-01"
            return QDialog.DialogCode.Accepted.value

        dialogs.set_next_answer(choose)
        dialogs.set_next_path(usb)
        dialogs.set_next_answer(None)  # the "written" message
        task = share_current_case(office)
        assert task is not None
        qtbot.waitUntil(
            lambda: task.result is not None or task.error is not None, timeout=TIME_TASK_MS
        )
        assert task.error is None
        package = task.result.path
        qtbot.waitUntil(lambda: dialogs.pending() == 0, timeout=TIME_TASK_MS)
        assert package.exists()

        desk = _window(qtbot, lawyer)
        assert desk.action_import_package is not None
        assert not desk.action_new_case.isVisible()
        assert not desk.action_review.isVisible()
        assert "read-only" in desk.role_label.text()
        assert desk.windowTitle() == "Lawyer profile (read-only)"
        from fieldkit.ui.counsel import import_package_file, open_received

        dialogs.set_next_path(package)
        dialogs.set_next_answer(None)  # what changed
        imported = import_package_file(desk)
        assert imported is not None
        qtbot.waitUntil(
            lambda: imported.result is not None or imported.error is not None, timeout=TIME_TASK_MS
        )
        assert imported.error is None
        assert imported.result.status == "imported"
        qtbot.waitUntil(lambda: dialogs.pending() == 0, timeout=TIME_TASK_MS)
        received: Any = open_received(desk)
        assert received.table.rowCount() == 1
        assert "Package 1" in received.details.toPlainText()
        check = received.check()
        assert check is not None
        qtbot.waitUntil(lambda: "intact" in received.details.toPlainText(), timeout=TIME_TASK_MS)
        assert "Every item is intact." in received.details.toPlainText()
        received.close()
    finally:
        lawyer.lock()

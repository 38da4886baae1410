"""Profile → Protection at unlock: erase after failed unlocks and the duress passphrase, set from
the desktop program on a real profile and then honoured by a real unlock."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import protection
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.protection import ProtectionDialog
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner

DURESS = "жовтий трамвай сховався під мостом 7710"
TIME_TASK_MS = 20_000


def _dialog(qtbot: QtBot, vault: Vault) -> tuple[MainWindow, ProtectionDialog]:
    main = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    dialog = main.open_protection()
    assert isinstance(dialog, ProtectionDialog)
    assert dialog.isVisible()
    return main, dialog


def _run(qtbot: QtBot, dialog: ProtectionDialog, start: object) -> None:
    task = start() if callable(start) else None
    assert task is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIME_TASK_MS)


def _type_duress(dialog: ProtectionDialog, first: str, repeat: str) -> None:
    dialog.duress_edit.setText(first)
    dialog.duress_repeat.setText(repeat)
    dialog._update_strength()


def test_erase_after_failed_unlocks_is_turned_on_and_off(
    qtbot: QtBot, new_vault: Vault, passphrase: str
) -> None:
    main, dialog = _dialog(qtbot, new_vault)
    path = new_vault.path
    assert "off" in dialog.erase_status.text()
    assert "copies the laptop's disk" in dialog.findChild(object, "eraseAfterWarning").text()
    assert not dialog.erase_apply.isEnabled()  # nothing to change yet
    dialog.erase_check.setChecked(True)
    dialog.erase_count.setCurrentIndex(dialog.erase_count.findData(3))
    assert dialog.erase_apply.isEnabled()
    dialogs.set_next_answer(False)  # declined: nothing changes
    assert dialog.apply_erase_after() is None
    assert protection.protection_status(path).erase_after is None
    dialogs.set_next_answer(True)
    _run(qtbot, dialog, dialog.apply_erase_after)
    assert protection.protection_status(path).erase_after == 3
    assert "after 3 failed unlocks" in dialog.erase_status.text()
    # A real wrong unlock counts, and the next dialog says so.
    with pytest.raises(FieldkitError) as err:
        protection.guarded_unlock(path, "not the passphrase at all")
    assert err.value.code is ErrorCode.WRONG_PASSPHRASE
    dialog.close()
    again = main.open_protection()
    assert "1 failed unlock since the last correct one" in again.erase_status.text()
    # Off needs no confirmation.
    again.erase_check.setChecked(False)
    _run(qtbot, again, again.apply_erase_after)
    assert protection.protection_status(path).erase_after is None
    assert dialogs.pending() == 0


def test_duress_passphrase_set_with_strength_and_confirmation_then_honoured(
    qtbot: QtBot, new_vault: Vault, passphrase: str
) -> None:
    RecordService(new_vault).add("person", {"pseudonym": "W-071"})
    _main, dialog = _dialog(qtbot, new_vault)
    path = new_vault.path
    assert "no duress passphrase" in dialog.duress_status.text()
    assert not dialog.duress_remove.isEnabled()
    assert "copied the disk" in dialog.findChild(object, "duressWarning").text()
    _type_duress(dialog, "password123", "password123")
    assert not dialog.duress_set.isEnabled()  # too weak
    _type_duress(dialog, DURESS, DURESS + "x")
    assert not dialog.duress_set.isEnabled()  # the two differ
    assert dialog.set_duress() is None
    assert dialog.error_label.isVisible()
    _type_duress(dialog, DURESS, DURESS)
    assert dialog.duress_set.isEnabled()
    dialogs.set_next_answer(True)
    _run(qtbot, dialog, dialog.set_duress)
    assert protection.protection_status(path).duress
    assert "is set" in dialog.duress_status.text()
    assert dialog.duress_edit.text() == ""
    assert dialog.duress_remove.isEnabled()
    dialog.close()
    new_vault.lock()
    # The real unlock with the duress passphrase destroys the profile and opens an empty one.
    empty = protection.guarded_unlock(path, DURESS)
    try:
        assert RecordService(empty).count() == 0
    finally:
        empty.lock()
    with pytest.raises(FieldkitError):
        Vault.unlock(path, passphrase)


def test_duress_passphrase_cannot_be_the_profiles_own(
    qtbot: QtBot, new_vault: Vault, passphrase: str
) -> None:
    _main, dialog = _dialog(qtbot, new_vault)
    _type_duress(dialog, passphrase, passphrase)
    assert dialog.duress_set.isEnabled()
    dialogs.set_next_answer(True)
    _run(qtbot, dialog, dialog.set_duress)
    assert dialog.error_label.isVisible()
    assert not protection.protection_status(new_vault.path).duress


def test_duress_passphrase_removed(qtbot: QtBot, new_vault: Vault) -> None:
    protection.set_duress_passphrase(new_vault, DURESS)
    _main, dialog = _dialog(qtbot, new_vault)
    assert "is set" in dialog.duress_status.text()
    _run(qtbot, dialog, dialog.remove_duress)
    assert not protection.protection_status(new_vault.path).duress
    assert not dialog.duress_remove.isEnabled()

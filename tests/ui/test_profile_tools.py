"""Profile tools in the desktop program: change the passphrase (then lock), quick erase with two
confirmations, and the backup of the organisation's decryption key. Real profiles, real key files,
real age."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from fieldkit import i18n
from fieldkit.app import DesktopApp
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import trust
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.lock import REASON_ERASE, REASON_PASSPHRASE
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.profile_tools import ChangePassphraseDialog, EraseProfileDialog, erase_words
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner
from tests.helpers import require_tool

NEW_PASSPHRASE = "ранок над Десною пахне липою 4417"
TIME_TASK_MS = 20_000


def _desktop(tmp_path: Path) -> DesktopApp:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desktop = DesktopApp(
        app,
        tmp_path / "profile",
        AppSettings(),
        settings_file=tmp_path / "settings.json",
        listen_for_screen_lock=False,
    )
    desktop.start()
    return desktop


def _open(qtbot: QtBot, desktop: DesktopApp, passphrase: str) -> MainWindow:
    window = desktop.unlock_window
    assert window is not None
    window.passphrase_edit.setText(passphrase)
    if window.create_mode:
        window.confirm_edit.setText(passphrase)
        window._update_strength()
    with qtbot.waitSignal(desktop.main_window_shown, timeout=10_000):
        window.submit()
    return desktop.main_window


def _fill(
    dialog: ChangePassphraseDialog, current: str, new: str, repeat: str | None = None
) -> None:
    dialog.current_edit.setText(current)
    dialog.new_edit.setText(new)
    dialog.repeat_edit.setText(new if repeat is None else repeat)
    dialog._update_strength()  # what the debounce timer does 150 ms later


# --- change the passphrase --------------------------------------------------------------------


def test_change_passphrase_locks_and_the_new_one_opens(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    desktop = _desktop(tmp_path)
    try:
        main = _open(qtbot, desktop, passphrase)
        dialog = main.open_change_passphrase()
        assert isinstance(dialog, ChangePassphraseDialog)
        assert dialog.isVisible()
        _fill(dialog, passphrase, NEW_PASSPHRASE)
        assert dialog.submit_button.isEnabled()
        with qtbot.waitSignal(desktop.locked, timeout=TIME_TASK_MS) as locked:
            dialog.submit_button.click()
        assert locked.args == [REASON_PASSPHRASE]
        assert desktop.vault is None
        assert desktop.main_window is None
        unlock = desktop.unlock_window
        assert unlock is not None
        assert not unlock.create_mode
        assert "new passphrase" in unlock.reason_label.text()
        with pytest.raises(FieldkitError) as err:
            Vault.unlock(tmp_path / "profile", passphrase)
        assert err.value.code is ErrorCode.WRONG_PASSPHRASE
        main = _open(qtbot, desktop, NEW_PASSPHRASE)
        assert main.vault.path == tmp_path / "profile"
    finally:
        desktop.shutdown()


def test_wrong_current_passphrase_changes_nothing(
    qtbot: QtBot, new_vault: Vault, passphrase: str
) -> None:
    keyfile = next(p for p in new_vault.path.iterdir() if p.name == "keyfile")
    before = keyfile.read_bytes()
    dialog = ChangePassphraseDialog(new_vault.path, TaskRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    changed: list[bool] = []
    dialog.changed.connect(lambda: changed.append(True))
    _fill(dialog, "not the passphrase at all, sorry", NEW_PASSPHRASE)
    task = dialog.submit()
    assert task is not None
    qtbot.waitUntil(lambda: dialog.task is None, timeout=TIME_TASK_MS)
    assert dialog.error_label.isVisible()
    assert "current passphrase is wrong" in dialog.error_label.text()
    assert dialog.isVisible()
    assert not changed
    assert keyfile.read_bytes() == before
    Vault.unlock(new_vault.path, passphrase).lock()


def test_weak_or_mismatched_new_passphrase_is_refused(
    qtbot: QtBot, new_vault: Vault, passphrase: str
) -> None:
    dialog = ChangePassphraseDialog(new_vault.path, TaskRunner())
    qtbot.addWidget(dialog)
    _fill(dialog, passphrase, "qwertyuiop12")
    assert not dialog.submit_button.isEnabled()
    assert "Not strong enough yet." in dialog.strength.label.text()
    assert dialog.submit() is None
    assert "not strong enough" in dialog.error_label.text()

    _fill(dialog, passphrase, NEW_PASSPHRASE, repeat=NEW_PASSPHRASE + " ")
    assert dialog.strength.acceptable
    assert not dialog.submit_button.isEnabled()
    assert dialog.submit() is None
    assert dialog.error_label.text() == "The two passphrases do not match."

    _fill(dialog, passphrase, passphrase)
    assert dialog.submit() is None
    assert "same as the current one" in dialog.error_label.text()


def test_change_passphrase_waits_for_open_forms(qtbot: QtBot, new_vault: Vault) -> None:
    main = MainWindow(new_vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    main.new_record("case")
    editor = main.editors.open_editors[-1].editor
    qtbot.keyClicks(editor.editor("title").edit, "W-031")
    assert main.has_unsaved_changes()
    dialogs.set_next_answer(True)
    assert main.open_change_passphrase() is None
    assert dialogs.asked()[-1] == ("inform", "Change the passphrase")
    main.editors.discard_all()


def test_change_passphrase_dialog_in_ukrainian(qtbot: QtBot, new_vault: Vault) -> None:
    i18n.set_language("uk")
    dialog = ChangePassphraseDialog(new_vault.path, TaskRunner())
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Зміна парольної фрази"
    assert dialog.submit_button.text() == "Змінити парольну фразу"
    # The toggle says what it will do next.
    dialog.show_button.setChecked(True)
    assert dialog.new_edit.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.show_button.text() == i18n.current().gettext("Hide passphrase")
    assert dialog.show_button.text() != "Hide passphrase"
    dialog.show_button.setChecked(False)
    assert dialog.show_button.text() == i18n.current().gettext("Show passphrase")


# --- erase ------------------------------------------------------------------------------------


def _type_word(word: str):
    def fill(dialog: QDialog) -> int:
        assert isinstance(dialog, EraseProfileDialog)
        dialog.word_edit.setText(word)
        if not dialog.erase_button.isEnabled():
            return QDialog.DialogCode.Rejected.value
        dialog.erase_button.click()
        return dialog.result()

    return fill


def test_erase_needs_the_word_and_a_second_confirmation(qtbot: QtBot, new_vault: Vault) -> None:
    main = MainWindow(new_vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    requested: list[bool] = []
    main.erase_requested.connect(lambda: requested.append(True))

    dialogs.set_next_answer(_type_word("erase please"))  # not the word: the button stays off
    assert not main.open_erase_profile()
    dialogs.set_next_answer(_type_word("ERASE"))
    dialogs.set_next_answer(False)  # "Erase the profile now?" → Cancel
    assert not main.open_erase_profile()
    assert not requested
    assert (new_vault.path / "keyfile").exists()

    dialogs.set_next_answer(_type_word("ERASE"))
    dialogs.set_next_answer(True)
    assert main.open_erase_profile()
    assert requested == [True]
    assert [kind for kind, _t in dialogs.asked()] == [
        "exec",
        "exec",
        "confirm_destructive",
        "exec",
        "confirm_destructive",
    ]


def test_erase_dialog_says_it_cannot_be_undone(qtbot: QtBot, new_vault: Vault) -> None:
    dialog = EraseProfileDialog(new_vault.path)
    qtbot.addWidget(dialog)
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    joined = " ".join(labels)
    assert "cannot be undone" in joined
    assert str(new_vault.path) in joined
    assert not dialog.erase_button.isEnabled()
    dialog.word_edit.setText("  ERASE ")
    assert dialog.erase_button.isEnabled()


def test_erase_word_in_ukrainian_and_english(qtbot: QtBot, new_vault: Vault) -> None:
    i18n.set_language("uk")
    assert erase_words() == ("СТЕРТИ", "ERASE")
    dialog = EraseProfileDialog(new_vault.path)
    qtbot.addWidget(dialog)
    for word in ("СТЕРТИ", "ERASE"):
        dialog.word_edit.setText(word)
        assert dialog.erase_button.isEnabled()
    dialog.word_edit.setText("стерти")
    assert not dialog.erase_button.isEnabled()


def test_erase_from_the_desktop_destroys_the_profile(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    desktop = _desktop(tmp_path)
    try:
        main = _open(qtbot, desktop, passphrase)
        from fieldkit.services.records import CaseService

        CaseService(desktop.vault).add("Справа W-017")
        profile = tmp_path / "profile"
        assert (profile / "keyfile").exists()
        reasons: list[str] = []
        desktop.locked.connect(reasons.append)
        dialogs.set_next_answer(_type_word("ERASE"))
        dialogs.set_next_answer(True)
        with qtbot.waitSignal(desktop.erased, timeout=TIME_TASK_MS) as erased:
            main.action_erase_profile.trigger()
        assert erased.args == [True]
        assert reasons == [REASON_ERASE]
        assert not profile.exists()
        unlock = desktop.unlock_window
        assert unlock is not None
        assert unlock.create_mode
        assert unlock.isEnabled()
        assert "erased" in unlock.reason_label.text()
        assert desktop.main_window is None
        assert desktop.vault is None
    finally:
        desktop.shutdown()


# --- the organisation's decryption key --------------------------------------------------------


def test_export_identity_warns_and_writes_a_working_age_key(
    qtbot: QtBot, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    age = require_tool("age")
    info = trust.init_org(new_coordinator_vault, "Громадська організація W")
    main = MainWindow(new_coordinator_vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    assert main.action_export_identity.isVisible()

    dialogs.set_next_answer(False)  # the warning: Cancel
    assert main.open_export_identity() is None
    assert dialogs.pending() == 0

    out = tmp_path / "org.key"
    dialogs.set_next_answer(True)
    dialogs.set_next_path(out)
    dialogs.set_next_answer(True)  # "Decryption key written"
    task = main.open_export_identity()
    assert task is not None
    qtbot.waitUntil(lambda: main.identity_export.written == out, timeout=TIME_TASK_MS)
    asked = dialogs.asked()
    assert asked[-3][0] == "ask"
    assert asked[-1] == ("warn", "Decryption key written")
    assert "AGE-SECRET-KEY-1" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # The file really is the organisation's key: it opens what age encrypted to the recipient.
    secret = subprocess.run(
        [age, "-r", info.recipient], input=b"W-017", capture_output=True, check=True
    ).stdout
    plain = subprocess.run(
        [age, "-d", "-i", str(out)], input=secret, capture_output=True, check=True
    ).stdout
    assert plain == b"W-017"

    # Never over an existing file.
    dialogs.set_next_answer(True)
    dialogs.set_next_path(out)
    dialogs.set_next_answer(True)  # the error
    main.open_export_identity()
    qtbot.waitUntil(lambda: dialogs.pending() == 0, timeout=TIME_TASK_MS)
    assert dialogs.asked()[-1][0] == "error"


def test_export_identity_without_organisation_keys(
    qtbot: QtBot, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    main = MainWindow(new_coordinator_vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    dialogs.set_next_answer(True)
    dialogs.set_next_path(tmp_path / "org.key")
    dialogs.set_next_answer(True)  # the error
    main.open_export_identity()
    qtbot.waitUntil(lambda: dialogs.pending() == 0, timeout=TIME_TASK_MS)
    assert dialogs.asked()[-1] == ("error", "The decryption key was not written")
    assert not (tmp_path / "org.key").exists()


def test_monitor_has_no_identity_export(qtbot: QtBot, new_vault: Vault) -> None:
    main = MainWindow(new_vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    assert not main.action_export_identity.isVisible()
    assert main.action_change_passphrase.isVisible()
    assert main.action_erase_profile.isVisible()


def test_trusted_devices_dialog_offers_the_key_backup(
    qtbot: QtBot, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    from fieldkit.ui.bundles import TrustDialog

    runner = TaskRunner()
    dialog = TrustDialog(new_coordinator_vault, runner, ClipboardGuard())
    qtbot.addWidget(dialog)
    assert not dialog.identity_button.isEnabled()  # no organisation keys yet
    trust.init_org(new_coordinator_vault, "Організація W")
    dialog.refresh()
    assert dialog.identity_button.isEnabled()
    out = tmp_path / "backup" / "org.key"
    out.parent.mkdir()
    dialogs.set_next_answer(True)
    dialogs.set_next_path(out)
    dialogs.set_next_answer(True)
    dialog.identity_button.click()
    qtbot.waitUntil(lambda: dialog.identity_export.written == out, timeout=TIME_TASK_MS)
    assert out.read_text().count("AGE-SECRET-KEY-1") == 1


def test_erasing_a_coordinator_profile_warns_about_the_organisation_keys(
    qtbot: QtBot, new_coordinator_vault: Vault, new_vault: Vault
) -> None:
    seen: dict[str, list[str]] = {}

    def look(role: str):
        def fill(dialog: QDialog) -> int:
            seen[role] = [label.text() for label in dialog.findChildren(QLabel)]
            return QDialog.DialogCode.Rejected.value

        return fill

    for role, vault in (("coordinator", new_coordinator_vault), ("monitor", new_vault)):
        main = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
        qtbot.addWidget(main)
        dialogs.set_next_answer(look(role))
        assert not main.open_erase_profile()
    assert any("bundles not yet imported" in text for text in seen["coordinator"])
    assert not any("bundles not yet imported" in text for text in seen["monitor"])
    assert (new_coordinator_vault.path / "keyfile").exists()


def test_a_failed_erase_is_reported_on_the_unlock_window(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    desktop = _desktop(tmp_path)
    try:
        _open(qtbot, desktop, passphrase)
        # Someone removed the profile behind the program's back: nothing is left to erase.
        profile = tmp_path / "profile"
        shutil.rmtree(profile)
        with qtbot.waitSignal(desktop.erased, timeout=TIME_TASK_MS) as erased:
            desktop.erase_profile()
        assert erased.args == [False]
        unlock = desktop.unlock_window
        assert unlock is not None
        assert "could not be erased" in unlock.reason_label.text()
        assert unlock.error_label.isVisibleTo(unlock)
        assert str(profile) in unlock.error_label.text()
        assert desktop.vault is None
    finally:
        desktop.shutdown()


def test_signing_key_backup_from_the_desktop_and_both_keys_offered_after_creation(
    qtbot: QtBot, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    from fieldkit.ui.bundles import TrustDialog

    runner = TaskRunner()
    dialog = TrustDialog(new_coordinator_vault, runner, ClipboardGuard())
    qtbot.addWidget(dialog)
    dialog.org_name_edit.setText("Організація QZXJ")
    decryption, signing = tmp_path / "org.key", tmp_path / "org-signing.key"
    dialogs.set_next_answer(True)  # back them up now
    dialogs.set_next_answer(True)  # decryption key: continue
    dialogs.set_next_path(decryption)
    dialogs.set_next_answer(True)  # "Decryption key written"
    dialogs.set_next_answer(True)  # signing key: continue
    dialogs.set_next_path(signing)
    dialogs.set_next_answer(True)  # "Signing key written"
    dialog.init_button.click()
    backups = dialog.key_backups
    assert backups is not None
    qtbot.waitUntil(lambda: backups.signing.written == signing, timeout=TIME_TASK_MS)
    assert "AGE-SECRET-KEY-1" in decryption.read_text()
    assert signing.read_text().startswith("untrusted comment: fieldkit-org-signing-key/1")
    assert oct(signing.stat().st_mode & 0o777) == "0o600"
    assert dialogs.asked()[0] == ("ask", "Back up the organisation keys")
    assert dialogs.asked()[-1] == ("warn", "Signing key written")

    main = MainWindow(new_coordinator_vault, runner, ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    assert main.action_export_signing_key.isVisible()
    again = tmp_path / "again.key"
    dialogs.set_next_answer(True)
    dialogs.set_next_path(again)
    dialogs.set_next_answer(True)
    assert main.open_export_signing_key() is not None
    qtbot.waitUntil(lambda: main.signing_key_export.written == again, timeout=TIME_TASK_MS)

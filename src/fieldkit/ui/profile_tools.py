"""Profile tools of the desktop program: change the passphrase, erase the profile, back up the
organisation's decryption key.

* :class:`ChangePassphraseDialog` asks for the current passphrase and a new one (twice, with the
  same live strength meter as profile creation) and runs ``services.profile.change_passphrase``
  as a task. The service rewraps the master key in the key file only; the desktop program then
  locks the profile (``DesktopApp.after_passphrase_change``) so the next unlock uses the new
  passphrase and nothing derived from the old key file stays in memory.
* :class:`EraseProfileDialog` is the first of two confirmations of the quick erase: the person
  types the word ERASE (or its translation); the second is a destructive confirmation through
  ``ui/dialogs.py``. ``DesktopApp.erase_profile`` then locks and erases.
* :func:`export_identity_interactively` writes the organisation's decryption identity after a
  warning that it is the key to every bundle.

Emits (ChangePassphraseDialog):
    changed(): the key file now opens with the new passphrase.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _
from fieldkit.services import profile as profile_service
from fieldkit.ui import dialogs
from fieldkit.ui.common import plain_label
from fieldkit.ui.messages import error_text, show_error
from fieldkit.ui.tasks import Task, TaskRunner
from fieldkit.ui.unlock import STRENGTH_COLOURS, STRENGTH_WORDS, TIME_STRENGTH_DEBOUNCE_MS

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b00020; font-weight: bold;"

# The word typed to confirm a quick erase. The English word is accepted in every language, so a
# person who cannot switch the keyboard layout in a hurry can still erase.
ERASE_WORD = "ERASE"


def erase_words() -> tuple[str, ...]:
    """The words that confirm an erase: the translated one first, then the English one."""
    translated = _("ERASE")
    return (translated, ERASE_WORD) if translated != ERASE_WORD else (ERASE_WORD,)


class StrengthMeter(QWidget):
    """A bar and a sentence for a new passphrase (the rule ``create_profile`` applies)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("strengthBar")
        self.bar.setRange(0, 5)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        layout.addWidget(self.bar)
        self.label = plain_label("", "strengthLabel", self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.acceptable = False
        self.update_for("")

    def update_for(self, text: str) -> bool:
        """Show the strength of ``text``; returns whether it is strong enough."""
        if not text:
            self.bar.setValue(0)
            self.label.setText(
                _("Use at least four uncommon words; spaces and any alphabet are fine.")
            )
            self.acceptable = False
            return False
        strength = profile_service.passphrase_strength(text)
        score = max(0, min(4, strength.score))
        self.bar.setValue(score + 1)
        self.bar.setStyleSheet(
            f"QProgressBar::chunk {{ background-color: {STRENGTH_COLOURS[score]}; }}"
        )
        parts = [_("Strength: {word}.").format(word=_(STRENGTH_WORDS[score]))]
        if strength.warning:
            parts.append(_(strength.warning))
        if not strength.acceptable and strength.suggestions:
            parts.append(_(strength.suggestions[0]))
        if not strength.acceptable:
            parts.append(_("Not strong enough yet."))
        self.label.setText(" ".join(parts))
        self.acceptable = bool(strength.acceptable)
        return self.acceptable


def password_edit(name: str, accessible: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(accessible)
    edit.setMinimumWidth(280)
    return edit


class ChangePassphraseDialog(QDialog):
    """Current passphrase, new passphrase twice with strength; the change runs as a task."""

    changed = Signal()

    def __init__(
        self, profile_path: Path, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("changePassphraseDialog")
        self.setWindowTitle(_("Change the passphrase"))
        self.setMinimumWidth(520)
        self.profile_path = Path(profile_path)
        self.runner = runner
        self.task: Task | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TIME_STRENGTH_DEBOUNCE_MS)
        self._timer.timeout.connect(self._update_strength)

        layout = QVBoxLayout(self)
        intro = plain_label(
            _(
                "The new passphrase replaces the old one in the profile's key file; the data is "
                "not re-encrypted, so a copy of the profile taken earlier still opens with the "
                "old passphrase. The profile is locked afterwards: unlock it with the new "
                "passphrase."
            ),
            "changePassphraseIntro",
        )
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.current_edit = password_edit("currentPassphraseEdit", _("Current passphrase"))
        self.new_edit = password_edit("newPassphraseEdit", _("New passphrase"))
        self.repeat_edit = password_edit("repeatPassphraseEdit", _("Repeat the new passphrase"))
        form.addRow(_("Current passphrase:"), self.current_edit)
        form.addRow(_("New passphrase:"), self.new_edit)
        form.addRow(_("Repeat:"), self.repeat_edit)
        self.strength = StrengthMeter(self)
        form.addRow(_("Strength:"), self.strength)
        layout.addLayout(form)

        self.error_label = plain_label("", "changePassphraseError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setObjectName("changePassphraseBusy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumHeight(8)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setVisible(False)
        layout.addWidget(self.busy_bar)

        self.buttons = QDialogButtonBox(self)
        self.show_button = QPushButton(_("Show passphrase"))
        self.show_button.setObjectName("showPassphraseButton")
        self.show_button.setCheckable(True)
        self.show_button.toggled.connect(self._on_show_toggled)
        self.buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.submit_button = self.buttons.addButton(
            _("Change passphrase"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        assert self.submit_button is not None
        self.submit_button.setObjectName("changePassphraseButton")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.current_edit.textChanged.connect(self._update_button)
        self.new_edit.textChanged.connect(self._on_new_edited)
        self.repeat_edit.textChanged.connect(self._update_button)
        self._update_button()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _on_show_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        for edit in (self.current_edit, self.new_edit, self.repeat_edit):
            edit.setEchoMode(mode)
        self.show_button.setText(_("Hide passphrase") if shown else _("Show passphrase"))

    def _on_new_edited(self, _text: str) -> None:
        self.strength.acceptable = False
        self._update_button()
        self._timer.start()

    def _update_strength(self) -> None:
        self.strength.update_for(self.new_edit.text())
        self._update_button()

    def _update_button(self, *_args: Any) -> None:
        new = self.new_edit.text()
        ok = (
            not self.busy
            and bool(self.current_edit.text())
            and self.strength.acceptable
            and new == self.repeat_edit.text()
        )
        self.submit_button.setEnabled(ok)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def submit(self) -> Task | None:
        """Check the entries and start the change; None when nothing was started."""
        if self.busy:
            return None
        self._timer.stop()
        self._update_strength()
        old, new = self.current_edit.text(), self.new_edit.text()
        if new != self.repeat_edit.text():
            self.show_error(error_text(FieldkitError(ErrorCode.PASSPHRASE_MISMATCH)))
            return None
        if not self.strength.acceptable:
            self.show_error(_("The new passphrase is not strong enough yet."))
            return None
        if new == old:
            self.show_error(_("The new passphrase is the same as the current one."))
            return None
        self.show_error("")
        task = Task(
            profile_service.change_passphrase,
            self.profile_path,
            old,
            new,
            plain=True,
            name="change_passphrase",
        )
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        task.signals.finished.connect(self._on_finished)
        self.task = task
        self._set_busy(True)
        self.runner.start(task)
        return task

    def _set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        for edit in (self.current_edit, self.new_edit, self.repeat_edit):
            edit.setEnabled(not busy)
        self._update_button()

    def _on_succeeded(self, _result: object) -> None:
        for edit in (self.current_edit, self.new_edit, self.repeat_edit):
            edit.clear()
        self.accept()
        self.changed.emit()

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        if isinstance(exc, FieldkitError) and exc.code is ErrorCode.WRONG_PASSPHRASE:
            self.show_error(
                _(
                    "The current passphrase is wrong. Check the keyboard layout and Caps Lock; "
                    "nothing was changed."
                )
            )
            self.current_edit.setFocus()
            self.current_edit.selectAll()
            return
        if not isinstance(exc, FieldkitError):
            log.error("passphrase not changed: %s", type(exc).__name__)
        self.show_error(error_text(exc))

    def _on_finished(self) -> None:
        self.task = None
        self._set_busy(False)

    def done(self, result: int) -> None:
        # A lock closes the dialog with done(): forget what was typed. The change itself is not
        # cancelled halfway (the service replaces the key file in one rename).
        for edit in (self.current_edit, self.new_edit, self.repeat_edit):
            edit.clear()
        super().done(result)


class EraseProfileDialog(QDialog):
    """First confirmation of a quick erase: says what is lost and asks for the word ERASE."""

    def __init__(
        self, profile_path: Path, parent: QWidget | None = None, *, coordinator: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eraseProfileDialog")
        self.setWindowTitle(_("Erase the profile"))
        self.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        warning = plain_label(
            _("This destroys the profile on this computer. It cannot be undone."),
            "eraseWarning",
        )
        warning.setStyleSheet(ERROR_STYLE)
        layout.addWidget(warning)
        text = plain_label(
            _(
                "The key file is destroyed first, in a fraction of a second; without it nothing "
                "in the profile can ever be decrypted, not even with the passphrase. Then every "
                "record, evidence file and key of this device is deleted. Work the organisation "
                "has not acknowledged with a receipt is lost for good."
            ),
            "eraseExplanation",
        )
        layout.addWidget(text)
        if coordinator:
            org = plain_label(
                _(
                    "This is a coordinator profile: the organisation's keys are destroyed with "
                    "it. Without a backup of the decryption key, bundles not yet imported can "
                    "never be read by anyone."
                ),
                "eraseCoordinatorWarning",
            )
            org.setStyleSheet(ERROR_STYLE)
            layout.addWidget(org)
        path_label = plain_label(
            _("Profile folder: {path}").format(path=profile_path), "erasePathLabel"
        )
        path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(path_label)
        words = erase_words()
        prompt = plain_label(_("To confirm, type {word}:").format(word=words[0]), "eraseTypePrompt")
        layout.addWidget(prompt)
        self.word_edit = QLineEdit(self)
        self.word_edit.setObjectName("eraseWordEdit")
        self.word_edit.setAccessibleName(_("Confirmation word"))
        layout.addWidget(self.word_edit)
        self.buttons = QDialogButtonBox(self)
        self.erase_button = self.buttons.addButton(
            _("Erase the profile…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        assert self.erase_button is not None
        self.erase_button.setObjectName("eraseProfileButton")
        self.erase_button.setAutoDefault(False)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        cancel.setDefault(True)
        self.buttons.accepted.connect(self._on_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.word_edit.textChanged.connect(self._update_button)
        self._update_button()

    def word_matches(self) -> bool:
        return self.word_edit.text().strip() in erase_words()

    def _update_button(self, *_args: Any) -> None:
        self.erase_button.setEnabled(self.word_matches())

    def _on_accepted(self) -> None:
        if self.word_matches():
            self.accept()


def confirm_erase(parent: QWidget | None, profile_path: Path, *, coordinator: bool = False) -> bool:
    """Both confirmations of a quick erase: the typed word, then a destructive question."""
    dialog = EraseProfileDialog(profile_path, parent, coordinator=coordinator)
    try:
        if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
            return False
        if not dialog.word_matches():
            return False
    finally:
        dialog.deleteLater()
    return dialogs.confirm_destructive(
        parent,
        _("Erase the profile now?"),
        _(
            "Last question. The profile is erased at once and cannot be recovered by anyone. "
            "Erase it?"
        ),
        _("Erase now"),
    )


# --- the organisation's keys: decryption identity and signing key --------------------------------


class IdentityExport:
    """Warn, ask where, write the identity in a task, say what was written.

    Kept as an object so the task's signals reach a bound method (and tests can wait on it).
    """

    def __init__(
        self,
        parent: QWidget,
        vault: Any,
        runner: TaskRunner,
        then: Callable[[], Any] | None = None,
    ) -> None:
        self.parent = parent
        self.vault = vault
        self.runner = runner
        self.task: Task | None = None
        self.written: Path | None = None
        self.path: Path | None = None
        self.then = then  # what to do once the file is written (the next key's backup)

    def start(self) -> Task | None:
        if not dialogs.ask(
            self.parent,
            _("Back up the decryption key"),
            _(
                "This writes the organisation's decryption key to a file. It is the key to "
                "every bundle: anyone who has the file can read every bundle ever sent to the "
                "organisation, past and future. The file is not encrypted.\n\n"
                "Write it only to an offline, encrypted USB stick that is kept locked away, "
                "never to this computer's disk or a stick that travels. Continue?"
            ),
            yes_text=_("Choose where to write it…"),
            no_text=_("Cancel"),
        ):
            return None
        out = dialogs.save_file(
            self.parent,
            _("Save the decryption key"),
            _("age key file (*.key);;All files (*)"),
            suggested_name="org.key",
            confirm_overwrite=False,
        )
        if out is None:
            return None
        self.path = out
        from fieldkit.services import trust

        task = Task(trust.export_identity, self.vault, out, plain=True, name="export_identity")
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        self.task = task
        self.runner.start(task)
        return task

    def _on_succeeded(self, _info: object) -> None:
        self.written = self.path
        dialogs.warn(
            self.parent,
            _("Decryption key written"),
            _("Wrote the organisation's decryption key to {path}.").format(path=self.path),
            _(
                "Anyone with this file can read every bundle: keep it offline and locked away, "
                "in two places. Delete any other copy."
            ),
        )
        if self.then is not None:
            self.then()

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        show_error(self.parent, exc, _("The decryption key was not written"))


class SigningKeyExport:
    """Warn, ask where, write the organisation's signing key in a task, say what was written.

    With it and the decryption key a lost coordinator laptop is rebuilt without enrolling every
    monitor again (``fieldkit org import``).
    """

    def __init__(self, parent: QWidget, vault: Any, runner: TaskRunner) -> None:
        self.parent = parent
        self.vault = vault
        self.runner = runner
        self.task: Task | None = None
        self.written: Path | None = None
        self.path: Path | None = None

    def start(self) -> Task | None:
        if not dialogs.ask(
            self.parent,
            _("Back up the signing key"),
            _(
                "This writes the organisation's signing key to a file. Anyone who has it can "
                "issue organisation cards and receipts in the organisation's name. The file is "
                "not encrypted. Without it, a lost coordinator laptop means enrolling every "
                "monitor again.\n\n"
                "Write it only to an offline, encrypted USB stick that is kept locked away, "
                "with the decryption key. Continue?"
            ),
            yes_text=_("Choose where to write it…"),
            no_text=_("Cancel"),
        ):
            return None
        out = dialogs.save_file(
            self.parent,
            _("Save the signing key"),
            _("minisign key file (*.key);;All files (*)"),
            suggested_name="org-signing.key",
            confirm_overwrite=False,
        )
        if out is None:
            return None
        self.path = out
        from fieldkit.services import trust

        task = Task(
            trust.export_signing_key, self.vault, out, plain=True, name="export_signing_key"
        )
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        self.task = task
        self.runner.start(task)
        return task

    def _on_succeeded(self, _info: object) -> None:
        self.written = self.path
        dialogs.warn(
            self.parent,
            _("Signing key written"),
            _("Wrote the organisation's signing key to {path}.").format(path=self.path),
            _("Keep it offline and locked away, in two places. Delete any other copy."),
        )

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        show_error(self.parent, exc, _("The signing key was not written"))


def offer_key_backups(parent: QWidget, vault: Any, runner: TaskRunner) -> IdentityExport | None:
    """Right after the organisation keys are made: offer to back up both, one after the other."""
    if not dialogs.ask(
        parent,
        _("Back up the organisation keys"),
        _(
            "The organisation keys were made. Back them up now, the decryption key and then the "
            "signing key, to an offline encrypted USB stick? Without them a lost laptop cannot "
            "be replaced."
        ),
        yes_text=_("Back them up now"),
        no_text=_("Later"),
    ):
        return None
    signing = SigningKeyExport(parent, vault, runner)
    identity = IdentityExport(parent, vault, runner, then=signing.start)
    identity.signing = signing  # type: ignore[attr-defined]
    identity.start()
    return identity

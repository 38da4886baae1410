"""The first window: create a profile (role, passphrase with live strength) or unlock one.

The key derivation takes about half a second by design; it runs in a :class:`Task` while a busy
indicator turns, so the window never freezes.

Emits:
    unlocked(object vault): the profile is open; the vault is the opaque "unlocked profile" handle.
    language_requested(str): the user picked another interface language.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit import i18n
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import N_, _
from fieldkit.services import profile as profile_service
from fieldkit.ui.messages import error_text
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

TIME_STRENGTH_DEBOUNCE_MS = 150

STRENGTH_WORDS = (
    N_("very weak"),
    N_("weak"),
    N_("fair"),
    N_("good"),
    N_("strong"),
)
STRENGTH_COLOURS = ("#b00020", "#d9480f", "#e0a800", "#5c940d", "#2b8a3e")

# zxcvbn's feedback is English; these are its common sentences, translated in ui.po.
ZXCVBN_TEXTS = (
    N_("This is a very common password."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_("Sequences like abc or 6543 are easy to guess."),
    N_("Recent years are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_("Add another word or two. Uncommon words are better."),
    N_("Use a few words, avoid common phrases."),
    N_("No need for symbols, digits, or uppercase letters."),
    N_("Use a longer keyboard pattern with more turns."),
    N_("Avoid repeated words and characters."),
    N_("Avoid sequences."),
    N_("Avoid recent years."),
    N_("Avoid years that are associated with you."),
    N_("Avoid dates and years that are associated with you."),
    N_("Capitalization doesn't help very much."),
    N_("All-uppercase is almost as easy to guess as all-lowercase."),
    N_("Reversed words aren't much harder to guess."),
    N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
    N_("too short"),
)


def _plain_label(text: str = "", object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if object_name:
        label.setObjectName(object_name)
    return label


class KeyboardWatcher(QObject):
    """Infers Caps Lock and the keyboard's alphabet from the letters typed into a field.

    Qt has no portable way to ask for the Caps Lock state; a letter whose case disagrees with
    the Shift key says it, the letter's alphabet says which layout is on.

    Emits:
        changed(): ``caps_lock`` or ``script`` may have changed.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.caps_lock: bool | None = None
        self.script = ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            text = event.text()
            if len(text) == 1 and text.isalpha() and text.lower() != text.upper():
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self.caps_lock = text.isupper() != shift
                name = unicodedata.name(text, "")
                self.script = (
                    "cyrillic"
                    if name.startswith("CYRILLIC")
                    else "latin"
                    if "LATIN" in name
                    else ""
                )
                self.changed.emit()
        return False


class UnlockWindow(QWidget):
    """Create-or-unlock window for one profile folder."""

    unlocked = Signal(object)
    language_requested = Signal(str)

    def __init__(
        self,
        profile_path: Path,
        runner: TaskRunner,
        *,
        create: bool | None = None,
        reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("unlockWindow")
        self.profile_path = profile_path
        self._runner = runner
        self._task: Task | None = None
        self.create_mode = (
            not profile_service.profile_exists(profile_path) if create is None else create
        )
        self._strength_timer = QTimer(self)
        self._strength_timer.setSingleShot(True)
        self._strength_timer.setInterval(TIME_STRENGTH_DEBOUNCE_MS)
        self._strength_timer.timeout.connect(self._update_strength)
        self._acceptable = False
        self._retry = False
        self._build(reason)

    # --- layout --------------------------------------------------------------------------

    def _build(self, reason: str) -> None:
        # The window system adds the program's name ("… — fieldkit") after the title.
        self.setWindowTitle(_("Create a profile") if self.create_mode else _("Unlock the profile"))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.setSpacing(12)

        top = QHBoxLayout()
        title = QLabel(_("Create a profile") if self.create_mode else _("Unlock the profile"))
        title.setObjectName("unlockTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        top.addWidget(title, 1)
        self.language_combo = QComboBox()
        self.language_combo.setObjectName("languageCombo")
        for code in i18n.SUPPORTED_LANGUAGES:
            self.language_combo.addItem(i18n.LANGUAGE_NAMES[code], code)
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(i18n.current().language))
        )
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        self.language_combo.setAccessibleName(_("Language"))
        top.addWidget(self.language_combo)
        outer.addLayout(top)

        self.reason_label = _plain_label(reason, "lockReasonLabel")
        self.reason_label.setVisible(bool(reason))
        outer.addWidget(self.reason_label)

        path_label = _plain_label(
            _("Profile folder: {path}").format(path=self.profile_path), "profilePathLabel"
        )
        path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(path_label)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.role_group = QButtonGroup(self)
        self.monitor_radio = QRadioButton(_("Monitor — records visits, interviews and evidence"))
        self.monitor_radio.setObjectName("roleMonitor")
        self.coordinator_radio = QRadioButton(
            _("Coordinator — imports bundles, manages trusted devices")
        )
        self.coordinator_radio.setObjectName("roleCoordinator")
        self.monitor_radio.setChecked(True)
        self.role_group.addButton(self.monitor_radio)
        self.role_group.addButton(self.coordinator_radio)
        if self.create_mode:
            roles = QVBoxLayout()
            roles.addWidget(self.monitor_radio)
            roles.addWidget(self.coordinator_radio)
            form.addRow(_("Role:"), roles)

        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setObjectName("passphraseEdit")
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName(_("Passphrase"))
        self.passphrase_edit.setMinimumWidth(360)
        form.addRow(_("Passphrase:"), self.passphrase_edit)

        self.confirm_edit = QLineEdit()
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit.setAccessibleName(_("Repeat the passphrase"))
        self.strength_bar = QProgressBar()
        self.strength_bar.setObjectName("strengthBar")
        self.strength_bar.setRange(0, 5)
        self.strength_bar.setTextVisible(False)
        self.strength_bar.setMaximumHeight(8)
        self.strength_label = _plain_label("", "strengthLabel")
        if self.create_mode:
            form.addRow(_("Repeat:"), self.confirm_edit)
            form.addRow(_("Strength:"), self.strength_bar)
            form.addRow("", self.strength_label)
            self.passphrase_edit.textChanged.connect(self._on_passphrase_edited)
            self.confirm_edit.textChanged.connect(self._update_button)
        else:
            self.passphrase_edit.textChanged.connect(self._update_button)
        outer.addLayout(form)

        # What the keyboard is doing, so a wrong passphrase is not a mystery (never what was typed).
        self.keyboard_label = _plain_label("", "keyboardLabel")
        self.caps_label = _plain_label(_("Caps Lock is on."), "capsLockLabel")
        self.caps_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.caps_label.setVisible(False)
        keys = QHBoxLayout()
        keys.addWidget(self.keyboard_label)
        keys.addWidget(self.caps_label)
        keys.addStretch(1)
        outer.addLayout(keys)
        self._keys = KeyboardWatcher(self)
        self._keys.changed.connect(self._on_keyboard_changed)
        self.passphrase_edit.installEventFilter(self._keys)
        self.confirm_edit.installEventFilter(self._keys)
        self.mismatch_label = _plain_label(_("The two passphrases differ."), "mismatchLabel")
        self.mismatch_label.setStyleSheet("color: #b00020;")
        self.mismatch_label.setVisible(False)
        if self.create_mode:
            outer.addWidget(self.mismatch_label)

        self.show_check = QPushButton(_("Show passphrase"))
        self.show_check.setObjectName("showPassphraseButton")
        self.show_check.setCheckable(True)
        self.show_check.toggled.connect(self._on_show_toggled)

        self.error_label = _plain_label("", "unlockErrorLabel")
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.setVisible(False)
        outer.addWidget(self.error_label)

        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyBar")
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumHeight(8)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setVisible(False)
        self.busy_label = _plain_label("", "busyLabel")
        self.busy_label.setVisible(False)
        outer.addWidget(self.busy_bar)
        outer.addWidget(self.busy_label)

        buttons = QHBoxLayout()
        buttons.addWidget(self.show_check)
        self.suggest_button = QPushButton(_("Suggest a passphrase"))
        self.suggest_button.setObjectName("suggestPassphraseButton")
        self.suggest_button.setToolTip(
            _("Five uncommon words of the interface language, drawn at random; learn them.")
        )
        self.suggest_button.clicked.connect(self.suggest_passphrase)
        if self.create_mode:
            buttons.addWidget(self.suggest_button)
        else:
            self.suggest_button.hide()
        buttons.addStretch(1)
        self.submit_button = QPushButton(_("Create profile") if self.create_mode else _("Unlock"))
        self.submit_button.setObjectName("unlockButton")
        self.submit_button.setDefault(True)
        self.submit_button.setAutoDefault(True)
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(self.submit_button)
        outer.addLayout(buttons)

        if self.create_mode:
            hint = _plain_label(
                _(
                    "Choose a passphrase of several uncommon words. Without it nothing in "
                    "the profile can be read, not even by the organisation: learn it by heart, "
                    "and if you write it down, never keep the paper with the laptop."
                ),
                "createHint",
            )
            outer.addWidget(hint)
        outer.addStretch(1)

        self.passphrase_edit.returnPressed.connect(self._on_return)
        self.confirm_edit.returnPressed.connect(self._on_return)
        self._update_strength()
        self.passphrase_edit.setFocus()

    # --- behaviour -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _on_language_changed(self, _index: int) -> None:
        code = self.language_combo.currentData()
        if code and code != i18n.current().language:
            self.language_requested.emit(str(code))

    def _on_show_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.passphrase_edit.setEchoMode(mode)
        self.confirm_edit.setEchoMode(mode)
        self.show_check.setText(_("Hide passphrase") if shown else _("Show passphrase"))

    def _on_keyboard_changed(self) -> None:
        self.caps_label.setVisible(bool(self._keys.caps_lock))
        script = self._keys.script
        if script == "cyrillic":
            self.keyboard_label.setText(_("Keyboard: Cyrillic letters"))
        elif script == "latin":
            self.keyboard_label.setText(_("Keyboard: Latin letters"))
        else:
            self.keyboard_label.setText("")

    def suggest_passphrase(self) -> str:
        """Fill both fields with uncommon words of the interface language, shown."""
        text = profile_service.suggest_passphrase(i18n.current().language)
        self.passphrase_edit.setText(text)
        self.confirm_edit.setText(text)
        self.show_check.setChecked(True)
        self._update_strength()
        return text

    def _on_passphrase_edited(self, _text: str) -> None:
        self._acceptable = False
        self._update_button()
        self._strength_timer.start()

    def _on_return(self) -> None:
        if self.submit_button.isEnabled():
            self.submit()

    def _update_strength(self) -> None:
        if not self.create_mode:
            self._update_button()
            return
        text = self.passphrase_edit.text()
        if not text:
            self.strength_bar.setValue(0)
            self.strength_label.setText(
                _("Use at least four uncommon words; spaces and any alphabet are fine.")
            )
            self._acceptable = False
            self._update_button()
            return
        strength = profile_service.passphrase_strength(text)
        score = max(0, min(4, strength.score))
        self.strength_bar.setValue(score + 1)
        self.strength_bar.setStyleSheet(
            f"QProgressBar::chunk {{ background-color: {STRENGTH_COLOURS[score]}; }}"
        )
        parts = [_("Strength: {word}.").format(word=_(STRENGTH_WORDS[score]))]
        if strength.warning:
            parts.append(_(strength.warning))
        if not strength.acceptable and strength.suggestions:
            parts.append(_(strength.suggestions[0]))
        if not strength.acceptable:
            parts.append(_("Not strong enough yet."))
        self.strength_label.setText(" ".join(parts))
        self._acceptable = strength.acceptable
        self._update_button()

    def _update_button(self, *_args: Any) -> None:
        if self.busy:
            self.submit_button.setEnabled(False)
            return
        text = self.passphrase_edit.text()
        if self.create_mode:
            same = text == self.confirm_edit.text()
            ok = self._acceptable and same
            self.mismatch_label.setVisible(bool(self.confirm_edit.text()) and not same)
        else:
            ok = bool(text)
        self.submit_button.setEnabled(ok)

    def selected_role(self) -> Role:
        return Role.COORDINATOR if self.coordinator_radio.isChecked() else Role.MONITOR

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def submit(self) -> None:
        if self.busy:
            return
        passphrase = self.passphrase_edit.text()
        self.show_error("")
        if self.create_mode:
            if passphrase != self.confirm_edit.text():
                self.show_error(
                    FieldkitError(ErrorCode.PASSPHRASE_MISMATCH).message(i18n.current())
                )
                return
            task = Task(
                profile_service.create_profile,
                self.profile_path,
                passphrase,
                self.selected_role(),
                plain=True,
                name="create_profile",
            )
            self.busy_label.setText(_("Creating the encrypted profile…"))
        else:
            task = Task(
                profile_service.open_profile,
                self.profile_path,
                passphrase,
                plain=True,
                name="open_profile",
            )
            self.busy_label.setText(_("Deriving the key and opening the profile…"))
        self._set_busy(True)
        task.signals.succeeded.connect(self._on_task_succeeded)
        task.signals.failed.connect(self._on_task_failed)
        task.signals.finished.connect(self._on_task_finished)
        self._task = task
        self._runner.start(task)

    def _on_task_finished(self) -> None:
        self._set_busy(False)
        if self._retry:
            self._retry = False
            self.passphrase_edit.setFocus()
            self.passphrase_edit.selectAll()

    def _set_busy(self, busy: bool) -> None:
        if not busy:
            self._task = None
        self.busy_bar.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.passphrase_edit.setEnabled(not busy)
        self.confirm_edit.setEnabled(not busy)
        self.language_combo.setEnabled(not busy)
        self.monitor_radio.setEnabled(not busy)
        self.coordinator_radio.setEnabled(not busy)
        self._update_button()

    def _on_task_succeeded(self, vault: object) -> None:
        self.passphrase_edit.clear()
        self.confirm_edit.clear()
        self.unlocked.emit(vault)

    def _on_task_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        if isinstance(exc, FieldkitError) and exc.code is ErrorCode.WRONG_PASSPHRASE:
            self.show_error(
                _("Wrong passphrase. Check the keyboard layout and Caps Lock, then try again.")
            )
            self._retry = True  # select the text once the field is enabled again
            return
        if not isinstance(exc, FieldkitError):
            log.error("profile could not be opened: %s", type(exc).__name__)
        self.show_error(error_text(exc))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._task is not None:
            self._task.cancel.cancel()
        super().closeEvent(event)

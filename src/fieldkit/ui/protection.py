"""Profile → Protection at unlock: the two opt-in protections of ``fieldkit protect`` in the
desktop program.

* Erase after failed unlocks: on or off, with the number (3, 5, 10 or 20 in a row).
* A duress passphrase: set (twice, with the same strength check as a new passphrase) or removed.

Each part says plainly what it does not protect against (the user guide, section 14). Setting a
duress passphrase derives a key (Argon2id), so every change runs as a task off the GUI thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _, ngettext
from fieldkit.services import protection
from fieldkit.ui import dialogs
from fieldkit.ui.common import fitting_size, plain_label
from fieldkit.ui.messages import error_text
from fieldkit.ui.profile_tools import ERROR_STYLE, StrengthMeter, password_edit
from fieldkit.ui.tasks import Task, TaskRunner
from fieldkit.ui.unlock import TIME_STRENGTH_DEBOUNCE_MS

log = logging.getLogger(__name__)

ERASE_AFTER_CHOICES = protection.ERASE_AFTER_CHOICES
WARNING_STYLE = "background: #fff4ce; padding: 6px;"


def erase_after_warning() -> str:
    return _(
        "What it does not protect against: someone who copies the laptop's disk first (police "
        "and border services usually do) can try passphrases on the copy forever; the counter is "
        "on this disk and is not secret, so whoever can write to the profile folder can reset or "
        "remove it. It only stops someone guessing at the keyboard; a long passphrase is the real "
        "defence. It can also erase your own work if you mistype too often, for example on the "
        "wrong keyboard layout."
    )


def duress_warning() -> str:
    return _(
        "What it does not protect against: anyone who copied the disk before you typed it still "
        "has the encrypted profile and can force you for the real passphrase; the empty profile "
        "shows no history, which an experienced examiner may find suspicious; the profile's "
        "settings file shows that a duress passphrase was set; and destroying data during a "
        "search can be a crime or make your situation worse. Talk to your organisation and a "
        "lawyer before you set one, and use it only when it is safe for you."
    )


def _warning_label(text: str, name: str) -> QLabel:
    label = plain_label(text, name)
    label.setWordWrap(True)
    label.setStyleSheet(WARNING_STYLE)
    return label


class ProtectionDialog(QDialog):
    """Erase after failed unlocks and the duress passphrase, each applied as a task."""

    def __init__(self, vault: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("protectionDialog")
        self.setWindowTitle(_("Protection at unlock"))
        self.vault = vault
        self.runner = runner
        self.task: Task | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TIME_STRENGTH_DEBOUNCE_MS)
        self._timer.timeout.connect(self._update_strength)

        outer = QVBoxLayout(self)
        # The explanations are long in every language: they scroll on a small screen.
        scroll = QScrollArea(self)
        scroll.setObjectName("protectionScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)
        layout.addWidget(
            plain_label(
                _(
                    "Both protections are off unless you turn them on. Read what each does not "
                    "protect against before you do."
                ),
                "protectionIntro",
            )
        )

        erase_box = QGroupBox(_("Erase after failed unlocks"), self)
        erase_box.setObjectName("eraseAfterBox")
        erase_layout = QVBoxLayout(erase_box)
        row = QHBoxLayout()
        self.erase_check = QCheckBox(_("Erase the profile after"), erase_box)
        self.erase_check.setObjectName("eraseAfterCheck")
        self.erase_count = QComboBox(erase_box)
        self.erase_count.setObjectName("eraseAfterCount")
        self.erase_count.setAccessibleName(_("Failed unlocks in a row"))
        for count in ERASE_AFTER_CHOICES:
            self.erase_count.addItem(
                ngettext("{n} failed unlock in a row", "{n} failed unlocks in a row", count).format(
                    n=count
                ),
                count,
            )
        self.erase_apply = QPushButton(_("Apply"), erase_box)
        self.erase_apply.setObjectName("eraseAfterApply")
        self.erase_apply.clicked.connect(self.apply_erase_after)
        row.addWidget(self.erase_check)
        row.addWidget(self.erase_count, 1)
        row.addWidget(self.erase_apply)
        erase_layout.addLayout(row)
        self.erase_status = plain_label("", "eraseAfterStatus")
        erase_layout.addWidget(self.erase_status)
        erase_layout.addWidget(
            plain_label(
                _(
                    "After that many wrong passphrases in a row, fieldkit erases the profile (key "
                    "file first). A correct unlock starts the count again. Work the organisation "
                    "has not acknowledged is lost, like any erase."
                ),
                "eraseAfterExplanation",
            )
        )
        erase_layout.addWidget(_warning_label(erase_after_warning(), "eraseAfterWarning"))
        self.erase_check.toggled.connect(self._update_buttons)
        self.erase_count.currentIndexChanged.connect(self._update_buttons)
        layout.addWidget(erase_box)

        duress_box = QGroupBox(_("Duress passphrase"), self)
        duress_box.setObjectName("duressBox")
        duress_layout = QVBoxLayout(duress_box)
        self.duress_status = plain_label("", "duressStatus")
        duress_layout.addWidget(self.duress_status)
        duress_layout.addWidget(
            plain_label(
                _(
                    "If someone forces you to unlock, you may type the duress passphrase instead "
                    "of your own. fieldkit then destroys the key file (your real profile can never "
                    "be opened again, by anyone, including you) and opens a new, empty profile "
                    "with that passphrase."
                ),
                "duressExplanation",
            )
        )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.duress_edit = password_edit("duressPassphraseEdit", _("Duress passphrase"))
        self.duress_repeat = password_edit("duressRepeatEdit", _("Repeat the duress passphrase"))
        form.addRow(_("Duress passphrase:"), self.duress_edit)
        form.addRow(_("Repeat:"), self.duress_repeat)
        self.strength = StrengthMeter(duress_box)
        form.addRow(_("Strength:"), self.strength)
        duress_layout.addLayout(form)
        buttons = QHBoxLayout()
        self.duress_set = QPushButton(_("Set the duress passphrase"), duress_box)
        self.duress_set.setObjectName("duressSetButton")
        self.duress_set.clicked.connect(self.set_duress)
        self.duress_remove = QPushButton(_("Remove the duress passphrase"), duress_box)
        self.duress_remove.setObjectName("duressRemoveButton")
        self.duress_remove.clicked.connect(self.remove_duress)
        buttons.addWidget(self.duress_set)
        buttons.addWidget(self.duress_remove)
        buttons.addStretch(1)
        duress_layout.addLayout(buttons)
        duress_layout.addWidget(_warning_label(duress_warning(), "duressWarning"))
        self.duress_edit.textChanged.connect(self._on_duress_edited)
        self.duress_repeat.textChanged.connect(self._update_buttons)
        layout.addWidget(duress_box)
        layout.addStretch(1)

        self.error_label = plain_label("", "protectionError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setVisible(False)
        outer.addWidget(self.error_label)
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setObjectName("protectionBusy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumHeight(8)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setVisible(False)
        outer.addWidget(self.busy_bar)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        outer.addWidget(close)

        self.status = protection.protection_status(vault.path)
        self._show_status()
        self.resize(fitting_size(self, 680, 760))

    # --- state ---

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _show_status(self) -> None:
        status = self.status
        self.erase_check.blockSignals(True)
        self.erase_check.setChecked(status.erase_after is not None)
        self.erase_check.blockSignals(False)
        if status.erase_after in ERASE_AFTER_CHOICES:
            self.erase_count.setCurrentIndex(ERASE_AFTER_CHOICES.index(status.erase_after))
        elif status.erase_after is None:
            self.erase_count.setCurrentIndex(ERASE_AFTER_CHOICES.index(10))
        if status.erase_after is None:
            self.erase_status.setText(_("Now: off."))
        else:
            self.erase_status.setText(
                ngettext(
                    "Now: on, after {n} failed unlock in a row.",
                    "Now: on, after {n} failed unlocks in a row.",
                    status.erase_after,
                ).format(n=status.erase_after)
                + " "
                + ngettext(
                    "{n} failed unlock since the last correct one.",
                    "{n} failed unlocks since the last correct one.",
                    status.failures,
                ).format(n=status.failures)
            )
        self.duress_status.setText(
            _("Now: a duress passphrase is set.")
            if status.duress
            else _("Now: no duress passphrase is set.")
        )
        self._update_buttons()

    def _wanted_erase_after(self) -> int | None:
        if not self.erase_check.isChecked():
            return None
        return int(self.erase_count.currentData())

    def _update_buttons(self, *_args: Any) -> None:
        idle = not self.busy
        self.erase_count.setEnabled(idle and self.erase_check.isChecked())
        self.erase_check.setEnabled(idle)
        self.erase_apply.setEnabled(idle and self._wanted_erase_after() != self.status.erase_after)
        phrase = self.duress_edit.text()
        self.duress_set.setEnabled(
            idle
            and bool(phrase)
            and self.strength.acceptable
            and phrase == self.duress_repeat.text()
        )
        self.duress_remove.setEnabled(idle and self.status.duress)
        self.duress_edit.setEnabled(idle)
        self.duress_repeat.setEnabled(idle)

    def _on_duress_edited(self, _text: str) -> None:
        self.strength.acceptable = False
        self._update_buttons()
        self._timer.start()

    def _update_strength(self) -> None:
        self.strength.update_for(self.duress_edit.text())
        self._update_buttons()

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # --- changes ---

    def apply_erase_after(self) -> Task | None:
        if self.busy:
            return None
        count = self._wanted_erase_after()
        if count is not None and not dialogs.confirm_destructive(
            self,
            _("Erase after failed unlocks"),
            ngettext(
                "After {n} wrong passphrase in a row the profile will be erased, with everything "
                "the organisation has not acknowledged.",
                "After {n} wrong passphrases in a row the profile will be erased, with everything "
                "the organisation has not acknowledged.",
                count,
            ).format(n=count),
            _("Turn it on"),
        ):
            return None
        return self._start(protection.set_erase_after, count, name="protect_erase_after")

    def set_duress(self) -> Task | None:
        if self.busy:
            return None
        self._timer.stop()
        self._update_strength()
        phrase = self.duress_edit.text()
        if phrase != self.duress_repeat.text():
            self.show_error(error_text(FieldkitError(ErrorCode.PASSPHRASE_MISMATCH)))
            return None
        if not self.strength.acceptable:
            self.show_error(_("The duress passphrase is not strong enough yet."))
            return None
        if not dialogs.confirm_destructive(
            self,
            _("Duress passphrase"),
            _(
                "Typed at unlock, this passphrase destroys the profile for good and opens an "
                "empty one. Set it?"
            ),
            _("Set the duress passphrase"),
        ):
            return None
        return self._start(protection.set_duress_passphrase, phrase, name="protect_duress")

    def remove_duress(self) -> Task | None:
        if self.busy:
            return None
        return self._start(protection.set_duress_passphrase, None, name="protect_no_duress")

    def _start(self, fn: Any, value: Any, *, name: str) -> Task:
        self.show_error("")
        task = Task(fn, self.vault, value, plain=True, name=name)
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        task.signals.finished.connect(self._on_finished)
        self.task = task
        self.busy_bar.setVisible(True)
        self._update_buttons()
        self.runner.start(task)
        return task

    def _on_succeeded(self, status: object) -> None:
        assert isinstance(status, protection.ProtectionStatus)
        if self.task is not None and self.task.name != "protect_erase_after":
            self.duress_edit.clear()
            self.duress_repeat.clear()
        self.status = status
        self._show_status()

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        if not isinstance(exc, FieldkitError):
            log.error("protection not changed: %s", type(exc).__name__)
        self.show_error(error_text(exc))

    def _on_finished(self) -> None:
        self.task = None
        self.busy_bar.setVisible(False)
        self._update_buttons()

    def done(self, result: int) -> None:
        # A lock closes the dialog with done(): forget what was typed.
        self.duress_edit.clear()
        self.duress_repeat.clear()
        super().done(result)

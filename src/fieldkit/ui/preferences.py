"""Preferences: interface language, idle lock, lock with the screen.

Emits:
    accepted_settings(object AppSettings): the new settings (frozen), when the user saves them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fieldkit import i18n
from fieldkit.i18n import _
from fieldkit.ui.common import plain_label
from fieldkit.ui.settings import MAX_IDLE_LOCK_MINUTES, AppSettings


class PreferencesDialog(QDialog):
    accepted_settings = Signal(object)

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle(_("Preferences"))
        self._settings = settings
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.language_combo = QComboBox(self)
        self.language_combo.setObjectName("prefLanguage")
        for code in i18n.SUPPORTED_LANGUAGES:
            self.language_combo.addItem(i18n.LANGUAGE_NAMES[code], code)
        self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(settings.language)))
        form.addRow(_("Language:"), self.language_combo)
        self.idle_spin = QSpinBox(self)
        self.idle_spin.setObjectName("prefIdleMinutes")
        self.idle_spin.setRange(1, MAX_IDLE_LOCK_MINUTES)
        self.idle_spin.setValue(settings.idle_lock_minutes)
        self.idle_spin.setSuffix(" " + _("min"))
        form.addRow(_("Lock after idle time:"), self.idle_spin)
        self.screen_check = QCheckBox(_("Lock when the screen locks or the computer sleeps"), self)
        self.screen_check.setObjectName("prefLockOnScreenLock")
        self.screen_check.setChecked(settings.lock_on_screen_lock)
        form.addRow("", self.screen_check)
        layout.addLayout(form)
        note = plain_label(
            _(
                "These preferences are stored unencrypted on this computer; they reveal nothing "
                "about your casework."
            )
        )
        note.setStyleSheet("color: palette(dark);")
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.setObjectName("prefButtons")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def value(self) -> AppSettings:
        return self._settings.model_copy(
            update={
                "language": str(self.language_combo.currentData()),
                "idle_lock_minutes": int(self.idle_spin.value()),
                "lock_on_screen_lock": self.screen_check.isChecked(),
            }
        )

    def accept(self) -> None:
        value = self.value()
        super().accept()
        self.accepted_settings.emit(value)

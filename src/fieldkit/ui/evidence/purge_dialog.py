"""The confirmation before an original is crypto-erased, with an optional reason for custody."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from fieldkit.i18n import _
from fieldkit.ui.forms.common import ERROR_STYLE, plain_label


class PurgeDialog(QDialog):
    """The destructive confirmation of erasing one original, with an optional reason."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("purgeEvidenceDialog")
        self.setWindowTitle(_("Erase the original"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        warning = plain_label(
            _("Erase the original of “{name}” from this device? This cannot be undone.").format(
                name=name
            ),
            self,
        )
        warning.setObjectName("purgeWarning")
        warning.setWordWrap(True)
        warning.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        layout.addWidget(warning)
        text = plain_label(
            _(
                "The stored file and its previews are destroyed (its key first). The item's "
                "description, SHA-256 and chain of custody stay, with an entry saying when it "
                "was erased. Erase only what the organisation already holds, or what must not "
                "stay on this device."
            ),
            self,
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("purgeReason")
        self.reason_edit.setPlaceholderText(_("optional; kept in the custody log"))
        form.addRow(_("Reason:"), self.reason_edit)
        layout.addLayout(form)
        buttons = QDialogButtonBox(self)
        erase = buttons.addButton(_("Erase original"), QDialogButtonBox.ButtonRole.AcceptRole)
        assert erase is not None
        erase.setObjectName("purgeConfirm")
        erase.setAutoDefault(False)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        cancel.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def reason(self) -> str:
        return self.reason_edit.text().strip()

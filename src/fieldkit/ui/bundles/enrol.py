"""Enrolment (monitor) with the comparison code, and receipts from the organisation."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.bundles.common import (
    code_label,
)
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import fitting_size, plain_label, short_id
from fieldkit.ui.messages import show_error
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


# --- enrolment (monitor) ----------------------------------------------------------------------


class EnrolDialog(QDialog):
    """Monitor: enrol this device with the organisation's card and show the comparison code."""

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("enrolDialog")
        self.setWindowTitle(_("Enrol with the organisation"))
        self.vault = vault
        self.clipboard = clipboard
        self.result_value: Any = None
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                _(
                    "1. Choose the organisation card (org.pub) you received from the coordinator.\n"
                    "2. Choose where to save this device's public key, and give that file to the "
                    "coordinator.\n"
                    "3. Compare the code shown here with the coordinator's, in person."
                )
            )
        )
        self.enrol_button = QPushButton(_("Choose the organisation card…"), self)
        self.enrol_button.setObjectName("enrolButton")
        self.enrol_button.clicked.connect(self._on_enrol_clicked)
        layout.addWidget(self.enrol_button)
        self.status_label = plain_label("", "enrolStatusLabel")
        layout.addWidget(self.status_label)
        self.code_edit = code_label("", "enrolCodeEdit")
        self.code_edit.setVisible(False)
        layout.addWidget(self.code_edit)
        # The laptop counts as enrolled as soon as the card is stored; when the codes differ,
        # the card may not be the organisation's, so it must not be kept.
        self.differ_button = QPushButton(_("The codes differ…"), self)
        self.differ_button.setObjectName("enrolCodesDifferButton")
        self.differ_button.setVisible(False)
        self.differ_button.clicked.connect(self._on_codes_differ)
        layout.addWidget(self.differ_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(fitting_size(self, 620, 320))

    def _on_enrol_clicked(self) -> None:
        from fieldkit.services import trust

        card = dialogs.open_file(
            self, _("Choose the organisation card"), _("Organisation card (*.pub);;All files (*)")
        )
        if card is None:
            return
        out = dialogs.save_file(
            self,
            _("Save this device's public key"),
            _("Device key (*.pub);;All files (*)"),
            suggested_name=f"device-{short_id(self.vault.device_id)}.pub",
        )
        if out is None:
            return
        try:
            result = trust.enrol(self.vault, card, out)
        except Exception as exc:
            show_error(self, exc)
            return
        self.result_value = result
        self.status_label.setText(
            _(
                "Enrolled with {org}. Give {path} to the coordinator, then compare this code "
                "with theirs, digit for digit:"
            ).format(org=result.org_name, path=out)
        )
        self.code_edit.setText(result.code)
        self.code_edit.setVisible(True)
        self.differ_button.setVisible(True)

    def _on_codes_differ(self) -> None:
        from fieldkit.services import trust

        if not dialogs.confirm_destructive(
            self,
            _("The codes differ"),
            _(
                "The card may not be your organisation's. fieldkit forgets it, and this "
                "laptop encrypts no bundle to it. Bundles already written stay as they are."
            ),
            _("Forget the card"),
        ):
            return
        try:
            name = trust.withdraw_enrolment(self.vault)
        except Exception as exc:
            show_error(self, exc)
            return
        self.result_value = None
        self.code_edit.setVisible(False)
        self.differ_button.setVisible(False)
        self.status_label.setText(
            _(
                "The card of {org} was forgotten: this laptop is not enrolled. Do not use that "
                "card again; get the card from the coordinator in person and enrol again."
            ).format(org=name)
        )


# --- receipts ---------------------------------------------------------------------------------


class ReceiptsDialog(QDialog):
    """Coordinator: write a signed receipt for a device's imported bundles."""

    def __init__(self, vault: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receiptsDialog")
        self.setWindowTitle(_("Receipts"))
        self.vault = vault
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                _(
                    "A receipt tells a monitor's laptop what the organisation holds, so it can "
                    "stop carrying it. Receipts are signed by the organisation key."
                )
            )
        )
        self.list = QListWidget(self)
        self.list.setObjectName("receiptDeviceList")
        layout.addWidget(self.list, 1)
        self.write_button = QPushButton(_("Write receipt…"), self)
        self.write_button.setObjectName("receiptWriteButton")
        self.write_button.clicked.connect(self._on_write_clicked)
        layout.addWidget(self.write_button)
        self.status_label = plain_label("", "receiptStatusLabel")
        layout.addWidget(self.status_label)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        from fieldkit.services import trust

        self.devices = trust.list_devices(vault)
        for device in self.devices:
            self.list.addItem(
                _("{label} — last bundle {seq}").format(label=device.label, seq=device.last_seq)
            )
        if self.devices:
            self.list.setCurrentRow(0)
        self.write_button.setEnabled(bool(self.devices))
        self.resize(fitting_size(self, 560, 380))

    def _on_write_clicked(self) -> None:
        from fieldkit.services.bundles import write_device_receipt

        row = self.list.currentRow()
        if not 0 <= row < len(self.devices):
            return
        folder = dialogs.choose_directory(self, _("Where should the receipt go?"))
        if folder is None:
            return
        try:
            path = write_device_receipt(self.vault, self.devices[row].device_id, folder)
        except Exception as exc:
            show_error(self, exc)
            return
        self.status_label.setText(_("Receipt written: {path}").format(path=path))


def apply_receipt_interactively(parent: QWidget, vault: Any) -> Any:
    """Monitor: apply a receipt from the organisation; offer to erase acknowledged originals."""
    from fieldkit.services.bundles import apply_receipt, purge_acknowledged, receipt_summary

    path = dialogs.open_file(parent, _("Choose the receipt"), _("Receipts (*.json);;All files (*)"))
    if path is None:
        return None
    try:
        result = apply_receipt(vault, path)
    except Exception as exc:
        show_error(parent, exc)
        return None
    dialogs.inform(parent, _("Receipt applied"), "\n".join(receipt_summary(result)))
    if result.erasable and dialogs.confirm_destructive(
        parent,
        _("Erase acknowledged evidence?"),
        _(
            "The organisation holds the evidence originals up to this receipt. Erase them from "
            "this laptop now? Their metadata, hashes and custody history stay."
        ),
        _("Erase originals"),
    ):
        try:
            purged = purge_acknowledged(vault)
        except Exception as exc:
            show_error(parent, exc)
            return result
        dialogs.inform(
            parent,
            _("Originals erased"),
            ngettext(
                "{n} evidence original was erased.",
                "{n} evidence originals were erased.",
                len(purged.purged),
            ).format(n=len(purged.purged)),
        )
    return result

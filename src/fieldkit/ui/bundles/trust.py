"""Trust (coordinator): organisation keys and trusted devices, with the comparison code."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.bundles.common import (
    STATUS_TEXTS,
    alarm_text,
    code_label,
    held_text,
    mono_item,
)
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import fitting_size, heading, plain_label, short_id
from fieldkit.ui.messages import error_text, is_cancelled, show_error
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)


# --- trust (coordinator) ----------------------------------------------------------------------


class TrustDialog(QDialog):
    """Organisation keys and the devices trusted to send bundles, with their comparison codes."""

    COL_LABEL, COL_DEVICE, COL_KEY, COL_STATUS, COL_SEQ, COL_ENROLLED, COL_CODE = range(7)

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trustDialog")
        self.setWindowTitle(_("Organisation and trusted devices"))
        self.vault = vault
        self.runner = runner
        self.clipboard = clipboard
        self.devices: list[Any] = []
        layout = QVBoxLayout(self)

        layout.addWidget(heading(_("Organisation"), 1.15))
        self.org_label = plain_label("", "orgLabel")
        layout.addWidget(self.org_label)
        org_row = QHBoxLayout()
        self.org_name_edit = QLineEdit(self)
        self.org_name_edit.setObjectName("orgNameEdit")
        self.org_name_edit.setPlaceholderText(_("Organisation name"))
        self.init_button = QPushButton(_("Create organisation keys"), self)
        self.init_button.setObjectName("orgInitButton")
        self.init_button.clicked.connect(self._on_init_clicked)
        self.card_button = QPushButton(_("Save organisation card…"), self)
        self.card_button.setObjectName("orgCardButton")
        self.card_button.setToolTip(
            _("The public card monitors' devices enrol with; it holds no secret.")
        )
        self.card_button.clicked.connect(self._on_card_clicked)
        org_row.addWidget(self.org_name_edit, 1)
        self.identity_button = QPushButton(_("Back up the decryption key…"), self)
        self.identity_button.setObjectName("orgIdentityButton")
        self.identity_button.setToolTip(
            _("Write the organisation's decryption key for an offline backup")
        )
        self.identity_button.clicked.connect(self._on_identity_clicked)
        org_row.addWidget(self.init_button)
        org_row.addWidget(self.card_button)
        org_row.addWidget(self.identity_button)
        layout.addLayout(org_row)

        layout.addWidget(heading(_("Trusted devices"), 1.15))
        self.table = QTableWidget(0, 7, self)
        self.table.setObjectName("trustTable")
        self.table.setHorizontalHeaderLabels(
            [
                _("Label"),
                _("Device"),
                _("Key"),
                _("State"),
                _("Last bundle"),
                _("Enrolled"),
                _("Comparison code"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COL_LABEL, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        enrol_box = QFormLayout()
        self.label_edit = QLineEdit(self)
        self.label_edit.setObjectName("deviceLabelEdit")
        self.label_edit.setPlaceholderText(_("e.g. laptop of monitor M-04"))
        enrol_box.addRow(_("New device label:"), self.label_edit)
        layout.addLayout(enrol_box)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(_("Enrol device from its key file…"), self)
        self.add_button.setObjectName("trustAddButton")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.revoke_button = QPushButton(_("Revoke…"), self)
        self.revoke_button.setObjectName("trustRevokeButton")
        self.revoke_button.clicked.connect(self._on_revoke_clicked)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.alarm_label = plain_label("", "trustAlarmLabel")
        self.alarm_label.setStyleSheet(
            "color: white; background: #b00020; padding: 6px; font-weight: bold;"
        )
        self.alarm_label.setVisible(False)
        layout.addWidget(self.alarm_label)
        self.held_label = plain_label("", "trustHeldLabel")
        self.held_label.setVisible(False)
        layout.addWidget(self.held_label)
        self.held: list[dict[str, Any]] = []
        self.held_task: Task | None = None
        self.held_list = QListWidget(self)
        self.held_list.setObjectName("trustHeldList")
        self.held_list.setMaximumHeight(120)
        self.held_list.currentRowChanged.connect(self._update_held_buttons)
        layout.addWidget(self.held_list)
        held_buttons = QHBoxLayout()
        self.held_import_button = QPushButton(_("Import again…"), self)
        self.held_import_button.setObjectName("trustHeldImportButton")
        self.held_import_button.setToolTip(
            _("Import the kept copy of this bundle, after its device was enrolled in person")
        )
        self.held_import_button.clicked.connect(self._on_held_import_clicked)
        self.held_discard_button = QPushButton(_("Discard…"), self)
        self.held_discard_button.setObjectName("trustHeldDiscardButton")
        self.held_discard_button.setToolTip(
            _("Delete the kept copy of this bundle; nothing from it is imported")
        )
        self.held_discard_button.clicked.connect(self._on_held_discard_clicked)
        held_buttons.addWidget(self.held_import_button)
        held_buttons.addWidget(self.held_discard_button)
        held_buttons.addStretch(1)
        layout.addLayout(held_buttons)
        self.held_status = plain_label("", "trustHeldStatus")
        self.held_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.held_status)
        self.code_hint = plain_label("", "trustCodeHint")
        layout.addWidget(self.code_hint)
        self.code_edit = code_label("", "trustCodeEdit")
        self.code_edit.setVisible(False)
        layout.addWidget(self.code_edit)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(fitting_size(self, 940, 560))
        self.refresh()

    def _on_identity_clicked(self) -> None:
        """The organisation's decryption key, after the warning (ui/profile_tools.py)."""
        from fieldkit.ui.profile_tools import IdentityExport

        self.identity_export = IdentityExport(self, self.vault, self.runner)
        self.identity_export.start()

    def refresh(self) -> None:
        from fieldkit.services import trust

        try:
            org = trust.org_info(self.vault)
        except FieldkitError as exc:
            if exc.code is not ErrorCode.ORG_NOT_INITIALISED:
                raise
            org = None
        if org is None:
            self.org_label.setText(
                _(
                    "This profile has no organisation keys yet. Create them once, in the office, "
                    "then give each monitor the organisation card."
                )
            )
        else:
            self.org_label.setText(
                _("{name} · organisation {id} · signing key {key}").format(
                    name=org.name, id=short_id(org.org_id), key=org.key_id
                )
            )
        self.org_name_edit.setVisible(org is None)
        self.init_button.setVisible(org is None)
        self.card_button.setEnabled(org is not None)
        self.identity_button.setEnabled(org is not None)
        self.add_button.setEnabled(org is not None)
        self.label_edit.setEnabled(org is not None)
        self.devices = trust.list_devices(self.vault)
        self.table.setRowCount(0)
        for device in self.devices:
            row = self.table.rowCount()
            self.table.insertRow(row)
            status = _("active") if device.status == "active" else _("revoked")
            cells = [
                device.label,
                short_id(device.device_id),
                device.key_id,
                status,
                str(device.last_seq),
                device.enrolled_at[:10],
                device.code or "",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == self.COL_CODE:
                    mono_item(item)
                self.table.setItem(row, col, item)
        self.revoke_button.setEnabled(bool(self.devices))
        self._show_alarms_and_held()

    def _show_alarms_and_held(self) -> None:
        from fieldkit.services.bundles import list_alarms, list_quarantined

        labels = {d.device_id: d.label for d in self.devices}
        lines = [alarm_text(a, labels) for a in list_alarms(self.vault)]
        self.alarm_label.setText("\n".join(lines))
        self.alarm_label.setVisible(bool(lines))
        chosen = self._selected_held()
        self.held = list_quarantined(self.vault)
        self.held_label.setText(
            ngettext(
                "{n} bundle is held for review:",
                "{n} bundles are held for review:",
                len(self.held),
            ).format(n=len(self.held))
        )
        self.held_list.clear()
        for h in self.held:
            self.held_list.addItem(held_text(h))  # plain text: the file name comes from outside
        ids = [h["id"] for h in self.held]
        if chosen is not None and chosen["id"] in ids:
            self.held_list.setCurrentRow(ids.index(chosen["id"]))
        elif self.held:
            self.held_list.setCurrentRow(0)
        for widget in (self.held_label, self.held_list):
            widget.setVisible(bool(self.held))
        self._update_held_buttons()

    def _selected_held(self) -> dict[str, Any] | None:
        row = self.held_list.currentRow()
        return self.held[row] if 0 <= row < len(self.held) else None

    def _update_held_buttons(self, *_args: object) -> None:
        held = self._selected_held()
        busy = self.held_task is not None and not self.held_task.is_done
        self.held_import_button.setVisible(bool(self.held))
        self.held_discard_button.setVisible(bool(self.held))
        self.held_import_button.setEnabled(
            held is not None and bool(held["held_file"]) and not busy
        )
        self.held_discard_button.setEnabled(held is not None and not busy)
        if held is not None and not held["held_file"] and not busy:
            self.held_status.setText(_no_copy_text(held))

    def _on_held_discard_clicked(self) -> None:
        from fieldkit.services.bundles import discard_held

        held = self._selected_held()
        if held is None:
            self.held_status.setText(_("Choose a held bundle in the list first."))
            return
        if not dialogs.confirm_destructive(
            self,
            _("Discard held bundle"),
            _(
                "Discard held bundle {id} ({name})? Its kept copy is deleted and nothing from it "
                "is imported. This cannot be undone."
            ).format(id=held["id"], name=held["file_name"] or "?"),
            _("Discard"),
        ):
            return
        task = Task(discard_held, self.vault, int(held["id"]), plain=True, name="discard_held")
        task.signals.succeeded.connect(self._on_held_discarded)
        task.signals.failed.connect(self._on_held_task_failed)
        self._start_held_task(task, _("Discarding…"))

    def _on_held_import_clicked(self) -> None:
        from fieldkit.services.bundles import import_held

        held = self._selected_held()
        if held is None:
            self.held_status.setText(_("Choose a held bundle in the list first."))
            return
        if not held["held_file"]:
            self.held_status.setText(_no_copy_text(held))
            return
        folder = dialogs.choose_directory(self, _("Where should the receipt go?"))
        if folder is None:
            return
        task = Task(
            import_held, self.vault, int(held["id"]), receipt_dir=folder, name="import_held"
        )
        task.signals.succeeded.connect(self._on_held_imported)
        task.signals.failed.connect(self._on_held_task_failed)
        self._start_held_task(task, _("Importing…"))

    def _start_held_task(self, task: Task, text: str) -> None:
        self.held_task = task
        task.signals.finished.connect(self._update_held_buttons)
        self.held_status.setText(text)
        self._update_held_buttons()
        self.runner.start(task)

    def _on_held_discarded(self, info: object) -> None:
        data: Any = info
        self.refresh()
        self.held_status.setText(
            _("Discarded held bundle {id} ({name}); nothing from it was imported.").format(
                id=data["id"], name=data["file_name"] or "?"
            )
        )

    def _on_held_imported(self, report: object) -> None:
        from fieldkit.services.bundles.wording import record_counts_text

        r: Any = report
        self.refresh()
        lines = [
            _("Held bundle imported: {status}.").format(
                status=_(STATUS_TEXTS.get(r.status, r.status))
            ),
            _("Record versions: {n} ({counts})").format(n=r.records, counts=record_counts_text(r)),
        ]
        if r.receipt:
            lines.append(_("Receipt written: {path}").format(path=r.receipt))
        self.held_status.setText("\n".join(lines))

    def _on_held_task_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.refresh()
        if is_cancelled(exc):
            self.held_status.setText(_("Cancelled; nothing was changed."))
        else:
            self.held_status.setText(_("Not done: {reason}").format(reason=error_text(exc)))

    def reject(self) -> None:
        if self.held_task is not None and not self.held_task.is_done:
            self.held_task.cancel.cancel()
        super().reject()

    def _on_init_clicked(self) -> None:
        from fieldkit.services import trust

        name = self.org_name_edit.text().strip()
        if not name:
            self.org_label.setText(_("Enter the organisation's name first."))
            return
        try:
            trust.init_org(self.vault, name)
        except Exception as exc:
            show_error(self, exc)
            return
        self.refresh()
        from fieldkit.ui.profile_tools import offer_key_backups

        self.key_backups = offer_key_backups(self, self.vault, self.runner)

    def _on_card_clicked(self) -> None:
        from fieldkit.services import trust

        out = dialogs.save_file(
            self,
            _("Save the organisation card"),
            _("Organisation card (*.pub);;All files (*)"),
            suggested_name="org.pub",
        )
        if out is None:
            return
        try:
            trust.write_card(self.vault, out)
        except Exception as exc:
            show_error(self, exc)
            return
        dialogs.inform(
            self,
            _("Organisation card saved"),
            _("Saved to {path}. Copy it to each monitor's laptop to enrol it.").format(path=out),
        )

    def _on_add_clicked(self) -> None:
        from fieldkit.services import trust

        label = self.label_edit.text().strip()
        if not label:
            self.code_hint.setText(_("Give the device a label first (who carries it)."))
            self.label_edit.setFocus()
            return
        path = dialogs.open_file(
            self, _("Choose the device's key file"), _("Device key (*.pub);;All files (*)")
        )
        if path is None:
            return
        try:
            device = trust.add_device(self.vault, path, label)
        except Exception as exc:
            show_error(self, exc)
            return
        self.label_edit.clear()
        self.refresh()
        self.show_code(device)

    def show_code(self, device: Any) -> None:
        self.code_hint.setText(
            _(
                "Read this code aloud with the monitor, in person. It must match the code on "
                "the monitor's screen digit for digit; if it does not, revoke the device at once."
            )
        )
        self.code_edit.setText(device.code or "")
        self.code_edit.setVisible(bool(device.code))

    def _on_revoke_clicked(self) -> None:
        from fieldkit.services import trust

        row = self.table.currentRow()
        if not 0 <= row < len(self.devices):
            self.code_hint.setText(_("Choose a device in the list first."))
            return
        device = self.devices[row]
        if not dialogs.confirm_destructive(
            self,
            _("Revoke device"),
            _(
                "Revoke {label}? Its bundles after number {seq} will be held for review instead "
                "of imported."
            ).format(label=device.label, seq=device.last_seq),
            _("Revoke"),
        ):
            return
        try:
            trust.revoke_device(self.vault, device.device_id)
        except Exception as exc:
            show_error(self, exc)
            return
        self.refresh()


def _no_copy_text(held: dict[str, Any]) -> str:
    """What to do with a held bundle of which only its identification was kept."""
    return _(
        "Only what identifies held bundle {id} was kept, not the bundle itself "
        "(signed by key {key}). Enrol that device in person, then import the bundle "
        "file again (Import bundles): its SHA-256 {sha} shows it is the same file."
    ).format(id=held["id"], key=held["key_id"], sha=held.get("file_sha256") or "?")

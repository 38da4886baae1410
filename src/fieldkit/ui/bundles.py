"""Bundles in the desktop program: export (monitor), import with a verification report
(coordinator), organisation keys and trusted devices with the comparison code, enrolment,
receipts.

Every slow step runs as a :class:`Task` with progress and cancel; every file and message dialog
goes through ``ui/dialogs.py``. Text from a bundle (file names, labels) is shown as plain text.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import N_, _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import heading, plain_label, short_id
from fieldkit.ui.messages import error_text, is_cancelled, show_error
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

BUNDLE_FILTER = N_("fieldkit bundles (*.fkb *.age);;All files (*)")
STAGE_TEXTS = {
    "records": N_("Collecting records…"),
    "evidence": N_("Adding evidence originals…"),
    "encrypting": N_("Encrypting…"),
    "writing": N_("Writing the bundle…"),
    "decrypting": N_("Decrypting…"),
    "verifying": N_("Checking signatures and checksums…"),
    "importing": N_("Importing…"),
}
STATUS_TEXTS = {
    "imported": N_("imported"),
    "flagged": N_("imported, flagged"),
    "already_imported": N_("already imported"),
    "verified": N_("verified"),
    "refused": N_("REFUSED"),
}
# One text per alarm kind (``list_alarms`` items carry ``kind``): an equivocation is two different
# bundles with one number; a fork is a bundle that does not continue the chain already imported.
ALARM_TEXTS = {
    "equivocation": N_(
        "ALARM: device {label} sent two different bundles numbered {seq}. Its key may be "
        "cloned or stolen: revoke it and talk to the monitor in person."
    ),
    "fork": N_(
        "ALARM: bundle {seq} of device {label} does not continue the chain of bundles already "
        "imported from it, so two different histories exist. Its key may be cloned or stolen: "
        "revoke it and talk to the monitor in person."
    ),
}
ALARM_UNKNOWN_KIND = N_(
    "ALARM ({kind}): device {label}, bundle {seq}. Its key may be cloned or stolen: revoke it "
    "and talk to the monitor in person."
)
CHAIN_TEXTS = {
    "first": N_("first bundle of this device"),
    "linked": N_("follows the previous bundle"),
    "pending": N_("an earlier bundle is missing"),
}


def _mono(widget: QWidget, scale: float = 1.0) -> None:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    widget.setFont(font)


def _stage_text(stage: str) -> str:
    text = STAGE_TEXTS.get(stage)
    return _(text) if text else _("Working…")


def _progress_value(bar: QProgressBar, done: int, total: int) -> None:
    if total <= 0:
        bar.setRange(0, 0)
        return
    bar.setRange(0, 1000)
    bar.setValue(int(1000 * min(done, total) / total))


def _human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def alarm_text(alarm: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """One alarm from ``list_alarms`` in words, by its kind; the device by its label if known."""
    device_id = str(alarm.get("device_id") or "")
    label = (labels or {}).get(device_id) or short_id(device_id) or "?"
    kind = str(alarm.get("kind") or "")
    template = ALARM_TEXTS.get(kind)
    if template is None:
        return _(ALARM_UNKNOWN_KIND).format(kind=kind or "?", label=label, seq=alarm.get("seq"))
    return _(template).format(label=label, seq=alarm.get("seq"))


def held_text(held: dict[str, Any]) -> str:
    """One held bundle from ``list_quarantined`` in words; the reason comes from the service."""
    from fieldkit.services.bundles import held_reason_text

    return _("No. {id} · {name}: {reason} (received {when})").format(
        id=held.get("id"),
        name=held.get("file_name") or "?",
        reason=held_reason_text(str(held.get("reason") or "")),
        when=str(held.get("received_at") or "")[:16].replace("T", " "),
    )


def code_label(code: str, object_name: str) -> QLineEdit:
    """The comparison code, large, monospaced and selectable."""
    edit = QLineEdit(code)
    edit.setObjectName(object_name)
    edit.setReadOnly(True)
    edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
    _mono(edit, 1.6)
    edit.setMinimumWidth(420)
    return edit


# --- export (monitor) -------------------------------------------------------------------------


class _DestinationPage(QWizardPage):
    def __init__(self, wizard: ExportWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle(_("Where should the bundle go?"))
        self.setSubTitle(
            _(
                "Choose the USB stick (or a folder on it). The bundle holds everything the "
                "organisation has not acknowledged yet, encrypted to the organisation and "
                "signed by this device: someone who takes the stick can read nothing."
            )
        )
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setObjectName("exportFolderEdit")
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setPlaceholderText(_("No folder chosen"))
        row.addWidget(self.folder_edit, 1)
        self.choose_button = QPushButton(_("Choose folder…"), self)
        self.choose_button.setObjectName("exportChooseFolder")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        row.addWidget(self.choose_button)
        layout.addLayout(row)
        self.note = plain_label("", "exportNote")
        layout.addWidget(self.note)
        layout.addStretch(1)

    def _on_choose_clicked(self) -> None:
        folder = dialogs.choose_directory(self, _("Choose where to write the bundle"))
        if folder is not None:
            self.set_folder(folder)

    def set_folder(self, folder: Path) -> None:
        self._wizard.destination = folder
        self.folder_edit.setText(str(folder))
        self.note.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        folder = self._wizard.destination
        return folder is not None and folder.is_dir()


class _RunPage(QWizardPage):
    """Runs one task when shown; complete when the task has finished."""

    def __init__(self, wizard: QWizard, title: str) -> None:
        super().__init__(wizard)
        self.setTitle(title)
        self.setCommitPage(True)
        layout = QVBoxLayout(self)
        self.stage_label = plain_label("", "runStageLabel")
        layout.addWidget(self.stage_label)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("runProgressBar")
        self.bar.setRange(0, 1000)
        layout.addWidget(self.bar)
        self.cancel_button = QPushButton(_("Cancel"), self)
        self.cancel_button.setObjectName("runCancelButton")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(1)
        self.done = False

    def isComplete(self) -> bool:
        return self.done

    def mark_done(self) -> None:
        self.done = True
        self.cancel_button.setEnabled(False)
        self.completeChanged.emit()


class ExportWizard(QWizard):
    """Monitor: write a bundle to a folder, with progress, cancel and a result page.

    Emits:
        exported(object ExportResult)
    """

    exported = Signal(object)

    def __init__(self, vault: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportWizard")
        self.setWindowTitle(_("Export a bundle"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.vault = vault
        self.runner = runner
        self.destination: Path | None = None
        self.task: Task | None = None
        self.result_value: Any = None
        self.error: BaseException | None = None
        self.destination_page = _DestinationPage(self)
        self.run_page = _RunPage(self, _("Writing the bundle"))
        self.run_page.cancel_button.clicked.connect(self.cancel_export)
        self.result_page = QWizardPage(self)
        self.result_page.setTitle(_("Result"))
        result_layout = QVBoxLayout(self.result_page)
        self.result_label = plain_label("", "exportResultLabel")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        result_layout.addWidget(self.result_label)
        result_layout.addStretch(1)
        self.addPage(self.destination_page)
        self.addPage(self.run_page)
        self.addPage(self.result_page)
        self.currentIdChanged.connect(self._on_page_changed)
        self.resize(640, 420)

    def _on_page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.run_page and self.task is None:
            self.start_export()

    def start_export(self) -> None:
        from fieldkit.services.bundles import export_bundle

        assert self.destination is not None
        self.run_page.stage_label.setText(_stage_text("records"))
        task = Task(export_bundle, self.vault, self.destination, name="export_bundle")
        task.signals.progress.connect(self._on_task_progress)
        task.signals.succeeded.connect(self._on_task_succeeded)
        task.signals.failed.connect(self._on_task_failed)
        self.task = task
        self.runner.start(task)

    def cancel_export(self) -> None:
        if self.task is not None and not self.task.is_done:
            self.task.cancel.cancel()
            self.run_page.stage_label.setText(_("Cancelling…"))
            self.run_page.cancel_button.setEnabled(False)

    def _on_task_progress(self, done: int, total: int, stage: str) -> None:
        self.run_page.stage_label.setText(_stage_text(stage))
        _progress_value(self.run_page.bar, done, total)

    def _on_task_succeeded(self, result: object) -> None:
        self.result_value = result
        r: Any = result
        self.run_page.bar.setRange(0, 1000)
        self.run_page.bar.setValue(1000)
        self.run_page.stage_label.setText(_("Done."))
        lines = [
            _("The bundle was written and verified on the stick."),
            "",
            _("File: {path}").format(path=r.path),
            _("Bundle number {seq} of this device").format(seq=r.seq),
            ngettext("{n} record version", "{n} record versions", r.records).format(n=r.records),
            ngettext("{n} evidence item", "{n} evidence items", r.evidence).format(n=r.evidence),
            _("Size: {size}").format(size=_human_size(r.encrypted_bytes)),
            _("SHA-256: {hash}").format(hash=r.bundle_hash),
            "",
            _(
                "Keep this laptop's copy until the organisation sends a receipt; the next "
                "bundle repeats everything not yet acknowledged."
            ),
        ]
        self.result_label.setText("\n".join(lines))
        self.run_page.mark_done()
        self.exported.emit(result)
        self.next()

    def _on_task_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.error = exc
        if is_cancelled(exc):
            text = _("The export was cancelled; nothing was left on the stick.")
        elif isinstance(exc, FieldkitError) and exc.code is ErrorCode.NOTHING_TO_EXPORT:
            text = error_text(exc)
        elif isinstance(exc, FieldkitError) and exc.code is ErrorCode.NOT_ENROLLED:
            # The shared message names the command line; say where it is in the program.
            text = _(
                "This device is not enrolled with an organisation yet, so there is no one to "
                "encrypt the bundle to. Enrol first: Organisation → Enrol with the organisation."
            )
        else:
            text = _("The export failed: {reason}").format(reason=error_text(exc))
        self.run_page.stage_label.setText(text)
        self.result_label.setText(text)
        self.run_page.mark_done()
        self.next()

    def reject(self) -> None:
        self.cancel_export()
        super().reject()


# --- import (coordinator) ---------------------------------------------------------------------


class _ChooseBundlesPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle(_("Which bundles?"))
        self.setSubTitle(
            _(
                "Add the bundle files from the stick. Each is decrypted, its signature checked "
                "against the trusted devices, and imported completely or not at all."
            )
        )
        layout = QVBoxLayout(self)
        self.list = QListWidget(self)
        self.list.setObjectName("importBundleList")
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton(_("Add bundles…"), self)
        self.add_button.setObjectName("importAddBundles")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button = QPushButton(_("Remove"), self)
        self.remove_button.setObjectName("importRemoveBundle")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.receipt_check = QCheckBox(
            _("Write a receipt next to each imported bundle, for the monitor"), self
        )
        self.receipt_check.setObjectName("importWriteReceipts")
        self.receipt_check.setChecked(True)
        layout.addWidget(self.receipt_check)

    def _on_add_clicked(self) -> None:
        paths = dialogs.open_files(self, _("Choose bundles"), _(BUNDLE_FILTER))
        self.add_paths(paths)

    def add_paths(self, paths: list[Path]) -> None:
        for path in paths:
            if path not in self._wizard.paths:
                self._wizard.paths.append(path)
                self.list.addItem(str(path))
        self.completeChanged.emit()

    def _on_remove_clicked(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            del self._wizard.paths[row]
            self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self._wizard.paths)


class BundleReportTable(QTableWidget):
    """One row per bundle: file, result, signer, sequence, counts, conflicts, reason."""

    COL_FILE, COL_STATUS, COL_SIGNER, COL_SEQ, COL_RECORDS, COL_EVIDENCE, COL_CONFLICTS = range(7)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 7, parent)
        self.setObjectName("bundleReportTable")
        self.setHorizontalHeaderLabels(
            [
                _("Bundle"),
                _("Result"),
                _("Signed by"),
                _("No."),
                _("Records (new / same)"),
                _("Evidence"),
                _("Conflicts"),
            ]
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 7):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def add_report(self, path: Path, report: Any, error: BaseException | None) -> int:
        row = self.rowCount()
        self.insertRow(row)
        cells = [path.name]
        if report is not None and error is None:
            status = _(STATUS_TEXTS.get(report.status, report.status))
            signer = report.signer_label or (short_id(report.device_id or "") or "")
            cells += [
                status,
                signer,
                "" if report.seq is None else str(report.seq),
                f"{report.records} ({report.records_new} / {report.records_same})",
                str(report.evidence),
                str(len(report.conflicts)),
            ]
        else:
            cells += [_("REFUSED"), "", "", "", "", ""]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == self.COL_STATUS:
                refused = error is not None or (report is not None and not report.ok)
                flagged = report is not None and (report.conflicts or report.status == "flagged")
                colour = "#b00020" if refused else ("#b35c00" if flagged else "#2b8a3e")
                item.setForeground(Qt.GlobalColor.white)
                item.setBackground(_qcolor(colour))
            self.setItem(row, col, item)
        return row


def _qcolor(name: str) -> Any:
    from PySide6.QtGui import QColor

    return QColor(name)


def report_details(path: Path, report: Any, error: BaseException | None) -> str:
    """The full verification report of one bundle, in words."""
    lines = [_("Bundle: {name}").format(name=str(path))]
    if error is not None:
        lines.append(_("Refused: {reason}").format(reason=error_text(error)))
        lines.append(_("Nothing from this bundle was imported."))
        return "\n".join(lines)
    r = report
    lines.append(_("Result: {status}").format(status=_(STATUS_TEXTS.get(r.status, r.status))))
    if r.signer_label or r.device_id:
        lines.append(
            _("Signed by: {label} (device {device}, key {key})").format(
                label=r.signer_label or "?", device=r.device_id or "?", key=r.key_id or "?"
            )
        )
    if r.seq is not None:
        chain = _(CHAIN_TEXTS[r.chain]) if r.chain in CHAIN_TEXTS else ""
        lines.append(
            _("Sequence number: {seq}").format(seq=r.seq) + (f" — {chain}" if chain else "")
        )
    if r.gaps:
        lines.append(
            _("Missing earlier bundles: {numbers}").format(numbers=", ".join(map(str, r.gaps)))
        )
    lines.append(
        _("Records: {n} ({new} new, {same} already present)").format(
            n=r.records, new=r.records_new, same=r.records_same
        )
    )
    lines.append(_("Evidence items: {n}").format(n=r.evidence))
    lines.append(_("Audit entries: {n}").format(n=r.audit_entries))
    lines.append(_("Custody events: {n}").format(n=r.custody_events))
    if r.conflicts:
        lines.append(
            ngettext(
                "{n} conflict: both versions are kept for a person to resolve.",
                "{n} conflicts: both versions are kept for a person to resolve.",
                len(r.conflicts),
            ).format(n=len(r.conflicts))
        )
        for conflict in r.conflicts[:20]:
            rid = str(conflict.get("record_id", conflict.get("id", "?")))
            lines.append(
                "  • "
                + _("record {id}, revision {rev}").format(
                    id=short_id(rid), rev=conflict.get("revision", "?")
                )
            )
    if r.refusal:
        reason = r.refusal.get("message") or r.refusal.get("code") or ""
        lines.append(_("Refused: {reason}").format(reason=reason))
    if r.bundle_hash:
        lines.append(_("SHA-256: {hash}").format(hash=r.bundle_hash))
    if r.receipt:
        lines.append(_("Receipt written: {path}").format(path=r.receipt))
    return "\n".join(lines)


class ImportWizard(QWizard):
    """Coordinator: import several bundles, one after the other, and show a report per bundle.

    Emits:
        imported(int count): how many bundles were imported (after the last one).
    """

    imported = Signal(int)

    def __init__(self, vault: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importWizard")
        self.setWindowTitle(_("Import bundles"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.vault = vault
        self.runner = runner
        self.paths: list[Path] = []
        self.results: list[tuple[Path, Any, BaseException | None]] = []
        self.task: Task | None = None
        self._index = 0
        self._current = Path()
        self._cancelled = False
        self.choose_page = _ChooseBundlesPage(self)
        self.run_page = _RunPage(self, _("Verifying and importing"))
        self.run_page.cancel_button.clicked.connect(self.cancel_import)
        self.report_page = QWizardPage(self)
        self.report_page.setTitle(_("Verification report"))
        layout = QVBoxLayout(self.report_page)
        self.summary_label = plain_label("", "importSummaryLabel")
        layout.addWidget(self.summary_label)
        self.report_table = BundleReportTable(self.report_page)
        self.report_table.itemSelectionChanged.connect(self._on_report_selection_changed)
        layout.addWidget(self.report_table, 1)
        self.details = QPlainTextEdit(self.report_page)
        self.details.setObjectName("importReportDetails")
        self.details.setReadOnly(True)
        layout.addWidget(self.details, 1)
        self.addPage(self.choose_page)
        self.addPage(self.run_page)
        self.addPage(self.report_page)
        self.currentIdChanged.connect(self._on_page_changed)
        self.resize(900, 620)

    def _on_page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.run_page and self.task is None and not self.results:
            self._index = 0
            self._start_next()

    def _start_next(self) -> None:
        from fieldkit.services.bundles import import_bundle

        if self._index >= len(self.paths) or self._cancelled:
            self._finish()
            return
        path = self.paths[self._index]
        self.run_page.stage_label.setText(
            _("Bundle {i} of {n}: {name}").format(
                i=self._index + 1, n=len(self.paths), name=path.name
            )
        )
        task = Task(
            import_bundle,
            self.vault,
            path,
            write_receipt=self.choose_page.receipt_check.isChecked(),
            name="import_bundle",
        )
        task.signals.progress.connect(self._on_task_progress)
        task.signals.succeeded.connect(self._on_task_succeeded)
        task.signals.failed.connect(self._on_task_failed)
        self._current = path
        self.task = task
        self.runner.start(task)

    def _on_task_progress(self, done: int, total: int, _stage: str) -> None:
        n = max(1, len(self.paths))
        share = 1000 // n
        self.run_page.bar.setRange(0, 1000)
        inner = int(share * done / total) if total > 0 else 0
        self.run_page.bar.setValue(self._index * share + inner)

    def _on_task_succeeded(self, report: object) -> None:
        self._on_one_done(self._current, report, None)

    def _on_task_failed(self, exc: object) -> None:
        self._on_one_done(self._current, None, exc)

    def _on_one_done(self, path: Path, report: Any, error: Any) -> None:
        if error is not None and is_cancelled(error):
            self._cancelled = True
        else:
            self.results.append((path, report, error))
        self.task = None
        self._index += 1
        self._start_next()

    def cancel_import(self) -> None:
        self._cancelled = True
        if self.task is not None:
            self.task.cancel.cancel()
        self.run_page.stage_label.setText(_("Cancelling…"))
        self.run_page.cancel_button.setEnabled(False)

    def _finish(self) -> None:
        self.run_page.bar.setRange(0, 1000)
        self.run_page.bar.setValue(1000)
        for path, report, error in self.results:
            self.report_table.add_report(path, report, error)
        ok = sum(1 for _p, r, e in self.results if e is None and r is not None and r.imported)
        refused = sum(1 for _p, _r, e in self.results if e is not None)
        parts = [
            ngettext("{n} bundle imported.", "{n} bundles imported.", ok).format(n=ok),
        ]
        if refused:
            parts.append(
                ngettext(
                    "{n} bundle refused; nothing from it was imported.",
                    "{n} bundles refused; nothing from them was imported.",
                    refused,
                ).format(n=refused)
            )
        skipped = len(self.paths) - len(self.results)
        if skipped:
            parts.append(
                ngettext(
                    "{n} bundle not processed (cancelled).",
                    "{n} bundles not processed (cancelled).",
                    skipped,
                ).format(n=skipped)
            )
        self.summary_label.setText(" ".join(parts))
        if self.results:
            self.report_table.selectRow(0)
        self.run_page.mark_done()
        self.imported.emit(ok)
        self.next()

    def _on_report_selection_changed(self) -> None:
        row = self.report_table.currentRow()
        if 0 <= row < len(self.results):
            self.details.setPlainText(report_details(*self.results[row]))

    def reject(self) -> None:
        self.cancel_import()
        super().reject()


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
        self.resize(940, 560)
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
                    _mono_item(item)
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
            self.held_status.setText(
                _(
                    "No copy of held bundle {id} was kept; import the file from the stick "
                    "instead (Import bundles)."
                ).format(id=held["id"])
            )
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
        r: Any = report
        self.refresh()
        lines = [
            _("Held bundle imported: {status}.").format(
                status=_(STATUS_TEXTS.get(r.status, r.status))
            ),
            _("Records: {n} ({new} new, {same} already present)").format(
                n=r.records, new=r.records_new, same=r.records_same
            ),
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


def _mono_item(item: QTableWidgetItem) -> None:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    item.setFont(QFont(font))


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
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(620, 320)

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
        self.resize(560, 380)

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
    from fieldkit.services.bundles import apply_receipt, purge_acknowledged

    path = dialogs.open_file(parent, _("Choose the receipt"), _("Receipts (*.json);;All files (*)"))
    if path is None:
        return None
    try:
        result = apply_receipt(vault, path)
    except Exception as exc:
        show_error(parent, exc)
        return None
    dialogs.inform(
        parent,
        _("Receipt applied"),
        ngettext(
            "The organisation acknowledged {n} bundle; everything up to change {mark} is safe.",
            "The organisation acknowledged {n} bundles; everything up to change {mark} is safe.",
            len(result.bundles),
        ).format(n=len(result.bundles), mark=result.acknowledged_through),
    )
    if dialogs.confirm_destructive(
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

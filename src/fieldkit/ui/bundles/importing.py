"""Import (coordinator): the wizard that verifies bundles and shows the verification report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.bundles.common import (
    BUNDLE_FILTER,
    CHAIN_TEXTS,
    STATUS_TEXTS,
    RunPage,
    qcolor,
)
from fieldkit.ui.common import fitting_size, plain_label, short_id
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)


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
                _("Record versions"),
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
        from fieldkit.services.bundles.wording import record_counts_text

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
                f"{report.records} ({record_counts_text(report)})",
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
                item.setBackground(qcolor(colour))
            self.setItem(row, col, item)
        return row


def report_details(path: Path, report: Any, error: BaseException | None) -> str:
    """The full verification report of one bundle, in words."""
    from fieldkit.services.bundles.wording import record_counts_text, refusal_next_step

    lines = [_("Bundle: {name}").format(name=str(path))]
    if error is not None:
        lines.append(_("Refused: {reason}").format(reason=error_text(error)))
        lines.append(_("Nothing from this bundle was imported."))
        step = refusal_next_step(getattr(getattr(error, "code", None), "value", None))
        if step:
            lines.append(step)
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
        from fieldkit.services.bundles.sequence import gaps_text

        lines.append(_("Missing earlier bundles: {numbers}").format(numbers=gaps_text(r.gaps)))
    lines.append(
        _("Record versions: {n} ({counts})").format(n=r.records, counts=record_counts_text(r))
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
        step = refusal_next_step(r.refusal.get("code"))
        if step:
            lines.append(step)
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
        self.run_page = RunPage(self, _("Verifying and importing"))
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
        self.resize(fitting_size(self, 900, 620))

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

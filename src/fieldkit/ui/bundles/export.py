"""Export (monitor): the wizard that writes a signed, encrypted bundle to a folder or stick."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.bundles.common import (
    RunPage,
    human_size,
    progress_value,
    stage_text,
)
from fieldkit.ui.common import fitting_size, plain_label
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)


# --- export (monitor) -------------------------------------------------------------------------


class _DestinationPage(QWizardPage):
    def __init__(self, wizard: ExportWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle(_("Where should the bundle go?"))
        layout = QVBoxLayout(self)
        # The explanation wraps in the page itself (a wizard's subtitle is cut off in Russian
        # and Ukrainian and on small screens).
        self.explanation = plain_label(
            _(
                "Choose the USB stick (or a folder on it). The bundle holds everything the "
                "organisation has not acknowledged yet, encrypted to the organisation and "
                "signed by this device: someone who takes the stick can read nothing."
            ),
            "exportExplanation",
        )
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)
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
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.enrolled = _is_enrolled(wizard.vault)
        if not self.enrolled:
            # Said before a folder is chosen, not after the export has run (usability F-11).
            self.note.setText(not_enrolled_text())
            self.note.setStyleSheet("color: #b00020;")
            self.folder_edit.setEnabled(False)
            self.choose_button.setEnabled(False)

    def _on_choose_clicked(self) -> None:
        folder = dialogs.choose_directory(self, _("Choose where to write the bundle"))
        if folder is not None:
            self.set_folder(folder)

    def set_folder(self, folder: Path) -> None:
        self._wizard.destination = folder
        self.folder_edit.setText(str(folder))
        if self.enrolled:
            self.note.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        folder = self._wizard.destination
        return self.enrolled and folder is not None and folder.is_dir()

    def validatePage(self) -> bool:
        return self.isComplete()


def not_enrolled_text() -> str:
    # The shared message names the command line; say where it is in the program.
    return _(
        "This device is not enrolled with an organisation yet, so there is no one to "
        "encrypt the bundle to. Enrol first: Organisation → Enrol with the organisation."
    )


def _is_enrolled(vault: Any) -> bool:
    """Whether the laptop has an organisation card to encrypt a bundle to."""
    from fieldkit.services import trust

    try:
        trust.enrolled_card(vault)
    except FieldkitError as exc:
        # Any other trouble is for the export itself to report, with its reason.
        return exc.code is not ErrorCode.NOT_ENROLLED
    return True


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
        self.run_page = RunPage(self, _("Writing the bundle"))
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
        self.resize(fitting_size(self, 640, 420))

    def _on_page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.run_page and self.task is None:
            self.start_export()

    def start_export(self) -> None:
        from fieldkit.services.bundles import export_bundle

        assert self.destination is not None
        self.run_page.stage_label.setText(stage_text("records"))
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
        self.run_page.stage_label.setText(stage_text(stage))
        progress_value(self.run_page.bar, done, total)

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
            _("Size: {size}").format(size=human_size(r.encrypted_bytes)),
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
            text = not_enrolled_text()
        else:
            text = _("The export failed: {reason}").format(reason=error_text(exc))
        self.run_page.stage_label.setText(text)
        self.result_label.setText(text)
        self.run_page.mark_done()
        self.next()

    def reject(self) -> None:
        self.cancel_export()
        super().reject()

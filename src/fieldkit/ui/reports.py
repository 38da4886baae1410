"""Signed PDF reports from the desktop program: the case file and the visit report.

:class:`ReportDialog` asks for the report's language (independent of the interface language),
who it is addressed to (the audience of the disclosure policy, docs/disclosure.md), whether real
names may be printed (case file only, with a warning), and who prepared it; then
where to save, and runs ``ReportService.case_file`` / ``visit_report`` as a task with progress
and Cancel. The same dialog serves the case view, the visit editor and the review window.

Emits:
    saved(object ReportResult): the PDF and its signature were written.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit import i18n
from fieldkit.domain.disclosure import Audience, audience_label
from fieldkit.i18n import _
from fieldkit.ui import dialogs
from fieldkit.ui.common import language, plain_label, short_id
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

CASE_FILE = "case"
VISIT_REPORT = "visit"

STAGE_WORDS = {
    "gathering": lambda: _("Reading the records…"),
    "rendering": lambda: _("Laying out the pages…"),
}


# "Prepared by" of the last report saved, per unlocked profile: in memory only (a monitor's
# code is no preference for the plaintext settings file) and gone with the profile at lock.
_PREPARED_BY: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def remembered_prepared_by(vault: Any) -> str:
    try:
        return _PREPARED_BY.get(vault, "")
    except TypeError:  # a handle that cannot be weakly referenced remembers nothing
        return ""


def remember_prepared_by(vault: Any, text: str) -> None:
    with contextlib.suppress(TypeError):
        _PREPARED_BY[vault] = text


def forget_prepared_by(vault: Any) -> None:
    with contextlib.suppress(TypeError, KeyError):
        del _PREPARED_BY[vault]


class ReportDialog(QDialog):
    """Options of one report, then the save dialog and the task."""

    saved = Signal(object)

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        kind: str,
        record_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if kind not in (CASE_FILE, VISIT_REPORT):
            raise ValueError(kind)
        self.setObjectName("reportDialog")
        self.vault = vault
        self.runner = runner
        self.kind = kind
        self.record_id = record_id
        self.task: Task | None = None
        self.result: Any = None
        self.out_path: Path | None = None
        case = kind == CASE_FILE
        self.setWindowTitle(_("Case file (PDF)") if case else _("Visit report (PDF)"))
        self.setMinimumWidth(520)

        layout = QVBoxLayout(self)
        intro = plain_label(
            _(
                "A signed PDF for lawyers: the case, persons by pseudonym, interviews with "
                "consent, injuries, linked visits and the evidence index with SHA-256 and "
                "custody."
            )
            if case
            else _(
                "A signed PDF for the national preventive mechanism: facility, conditions per "
                "area, the visit form, findings and the facility's recommendation history. "
                "Visit reports never carry names."
            ),
            "reportIntro",
        )
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.language_combo = QComboBox(self)
        self.language_combo.setObjectName("reportLanguage")
        for code in i18n.SUPPORTED_LANGUAGES:
            self.language_combo.addItem(i18n.LANGUAGE_NAMES[code], code)
        self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(language())))
        self.language_combo.setToolTip(
            _("Headings, labels and numbers; what was entered is printed as it was written.")
        )
        form.addRow(_("Language of the report:"), self.language_combo)
        self.audience_combo = QComboBox(self)
        self.audience_combo.setObjectName("reportAudience")
        if not case:
            self.audience_combo.addItem(_("as the visit's report confidentiality says"), None)
        for audience in Audience:
            self.audience_combo.addItem(audience_label(audience, i18n.current()), audience.value)
        self.audience_combo.setToolTip(
            _(
                "What the addressee may not have (by the consents recorded) is left out or "
                "listed as withheld."
            )
        )
        form.addRow(_("Addressed to:"), self.audience_combo)
        self.prepared_by = QLineEdit(self)
        self.prepared_by.setObjectName("reportPreparedBy")
        self.prepared_by.setPlaceholderText(_("a code, for example M-003"))
        self.prepared_by.setText(remembered_prepared_by(vault))
        form.addRow(_("Prepared by:"), self.prepared_by)
        self.names_check = QCheckBox(_("Print real names where consent allows"), self)
        self.names_check.setObjectName("reportIncludeNames")
        self.names_warning = plain_label(
            _(
                "Only persons whose interview grants publication with name, not declined or "
                "withdrawn, are named; everyone else stays pseudonymous. A PDF is not "
                "encrypted: a file with names puts those people at risk if it is lost. Give it "
                "only to the lawyer who needs it."
            ),
            "reportNamesWarning",
        )
        self.names_warning.setStyleSheet("color: #b00020;")
        self.names_warning.setVisible(False)
        self.names_check.toggled.connect(self._on_names_toggled)
        layout.addLayout(form)
        # Outside the form layout: a word-wrapped label that appears later is given its full
        # height there (inside a form row it overlapped the lines below).
        if case:
            layout.addWidget(self.names_check)
            layout.addWidget(self.names_warning)
        else:
            self.names_check.setVisible(False)
        note = plain_label(
            _(
                "The PDF is an ordinary, unencrypted file, with a signature file beside it. Save "
                "it to an encrypted disk."
            ),
            "reportNote",
        )
        layout.addWidget(note)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("reportProgress")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status_label = plain_label("", "reportStatus")
        self.status_label.setVisible(False)
        layout.addWidget(self.status_label)

        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton(_("Save as PDF…"), self)
        self.save_button.setObjectName("reportSaveButton")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _on_names_toggled(self, checked: bool) -> None:
        self.names_warning.setVisible(checked)
        self.adjustSize()

    @property
    def report_language(self) -> str:
        return str(self.language_combo.currentData() or "en")

    def _suggested_name(self) -> str:
        stem = "case" if self.kind == CASE_FILE else "visit"
        return f"{stem}-{short_id(self.record_id)}-{self.report_language}.pdf"

    def start(self, out: Path | None = None) -> Task | None:
        """Ask where to save (unless ``out`` is given) and start writing; None if not started."""
        if self.task is not None:
            return None
        if out is None:
            out = dialogs.save_file(
                self,
                _("Save the case file") if self.kind == CASE_FILE else _("Save the visit report"),
                _("PDF (*.pdf)"),
                suggested_name=self._suggested_name(),
                confirm_overwrite=False,
            )
        if out is None:
            return None
        if out.suffix.lower() != ".pdf":
            out = out.with_name(out.name + ".pdf")
        overwrite = False
        if out.exists() or out.with_name(out.name + ".minisig").exists():
            if not dialogs.ask(
                self,
                _("Replace the file?"),
                _("{path} already exists. Replace it and its signature?").format(path=out),
                yes_text=_("Replace"),
                no_text=_("Cancel"),
            ):
                return None
            overwrite = True
        from fieldkit.services.reports import ReportService

        service = ReportService(self.vault)
        fn = service.case_file if self.kind == CASE_FILE else service.visit_report
        kwargs: dict[str, Any] = {
            "overwrite": overwrite,
            "prepared_by": self.prepared_by.text().strip(),
        }
        audience = self.audience_combo.currentData()
        if audience is not None:
            kwargs["audience"] = str(audience)
        if self.kind == CASE_FILE:
            kwargs["include_names"] = self.names_check.isChecked()
        self.out_path = out
        task = Task(
            fn, self.record_id, out, self.report_language, name=f"report_{self.kind}", **kwargs
        )
        task.signals.progress.connect(self._on_progress)
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        task.signals.finished.connect(self._on_finished)
        self.task = task
        self._set_busy(True)
        self._show_status(_("Writing the report…"))
        self.runner.start(task)
        return task

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)
        self.save_button.setEnabled(not busy)
        for widget in (
            self.language_combo,
            self.audience_combo,
            self.prepared_by,
            self.names_check,
        ):
            widget.setEnabled(not busy)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")
        self.status_label.setVisible(bool(text))

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        words = STAGE_WORDS.get(stage)
        if words is not None:
            self._show_status(words())
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_succeeded(self, result: Any) -> None:
        self.result = result
        remember_prepared_by(self.vault, self.prepared_by.text().strip())
        self.saved.emit(result)
        self.accept()
        dialogs.inform(
            self.parentWidget(),
            _("Report saved"),
            i18n.ngettext(
                "Saved {path} ({pages} page) and its signature {signature}.",
                "Saved {path} ({pages} pages) and its signature {signature}.",
                result.pages,
            ).format(path=result.path, pages=result.pages, signature=result.signature_path.name),
            _("SHA-256 of the PDF: {hash}").format(hash=result.sha256)
            + self._withheld_since_text(result),
        )

    @staticmethod
    def _withheld_since_text(result: Any) -> str:
        count = int(getattr(result, "withheld_since", 0) or 0)
        if not count:
            return ""
        return "\n\n" + i18n.ngettext(
            "{count} item an earlier file for this audience disclosed is now withheld, because a "
            "consent changed (listed on the first page). The earlier file cannot be recalled: "
            "tell its recipient.",
            "{count} items an earlier file for this audience disclosed are now withheld, because "
            "a consent changed (listed on the first page). The earlier file cannot be recalled: "
            "tell its recipient.",
            count,
        ).format(count=count)

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        if is_cancelled(exc):
            self._show_status(_("Cancelled; nothing was written."))
            return
        if not hasattr(exc, "code"):
            log.error("report not written: %s", type(exc).__name__)
        self._show_status(error_text(exc), error=True)

    def _on_finished(self) -> None:
        self.task = None
        self._set_busy(False)

    def reject(self) -> None:
        if self.task is not None:
            self.task.cancel.cancel()
        super().reject()


def open_report_dialog(
    parent: QWidget, vault: Any, runner: TaskRunner, kind: str, record_id: str
) -> ReportDialog:
    """Show the report dialog (window-modal, tracked so a lock closes it)."""
    dialog = ReportDialog(vault, runner, kind, record_id, parent)
    dialogs.show_dialog(dialog)
    return dialog

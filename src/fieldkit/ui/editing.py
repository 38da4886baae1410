"""Record editors in their own windows: opens the form renderer, links new records to a case.

The form renderer (``ui/forms/renderer.py``) edits one record; this host opens it in a dialog,
keeps one window per record, asks before closing one with unsaved changes, and empties them all
on lock.

Emits:
    record_saved(str form_id, str record_id): a revision was written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from fieldkit.i18n import _
from fieldkit.ui import dialogs
from fieldkit.ui.common import fitting_size, type_name
from fieldkit.ui.messages import show_error
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# Which field of a new record points at the case it is created from.
CASE_PRESETS: dict[str, tuple[str, bool]] = {
    "interview": ("cases", True),
    "visit": ("allegation_records", True),
    "recommendation": ("origin_case", False),
}


@dataclass
class Services:
    """What the form renderer needs: the records service and, when present, evidence."""

    records: Any
    evidence: Any = None


def make_services(vault: Any) -> Services:
    from fieldkit.services.records import RecordService

    evidence = None
    try:
        from fieldkit.services.evidence import EvidenceService

        evidence = EvidenceService(vault)
    except Exception as exc:  # evidence is optional for the forms
        log.debug("evidence service unavailable: %s", type(exc).__name__)
    return Services(records=RecordService(vault), evidence=evidence)


class RecordEditorDialog(QDialog):
    """One FormEditor in a window; closing it asks about unsaved changes."""

    def __init__(self, editor: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordEditorDialog")
        self.editor = editor
        self.case_id: str | None = None
        self._force = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(editor)
        self.report_button: QPushButton | None = None
        self.resize(fitting_size(self, 980, 720))

    def add_report_button(self, text: str, slot: Any) -> QPushButton:
        """A button beside the form's own (the visit report of a saved visit)."""
        button = QPushButton(text, self)
        button.setObjectName("editorReportButton")
        button.clicked.connect(lambda _c=False: slot())
        row = getattr(self.editor, "button_row", None)
        if isinstance(row, QHBoxLayout):
            row.insertWidget(1, button)  # after the status text, before Check and Save
        else:
            own = QHBoxLayout()
            own.addStretch(1)
            own.addWidget(button)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.addLayout(own)
        self.report_button = button
        button.setEnabled(bool(self.editor.record_id))
        return button

    def force_close(self) -> None:
        self._force = True
        self.close()

    def reject(self) -> None:
        if self._force or self.editor.maybe_leave():
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._force or self.editor.maybe_leave():
            event.accept()
            super().closeEvent(event)
        else:
            event.ignore()


class RecordEditorHost(QObject):
    record_saved = Signal(str, str)

    def __init__(self, parent_widget: QWidget, vault: Any, runner: TaskRunner) -> None:
        super().__init__(parent_widget)
        self._parent_widget = parent_widget
        self._vault = vault
        self._runner = runner
        self._services: Services | None = None
        self.open_editors: list[RecordEditorDialog] = []

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = make_services(self._vault)
        return self._services

    def _existing(self, record_id: str) -> RecordEditorDialog | None:
        for dialog in self.open_editors:
            if dialog.editor.record_id == record_id:
                return dialog
        return None

    def edit(self, form_id: str, record_id: str) -> RecordEditorDialog | None:
        existing = self._existing(record_id)
        if existing is not None:
            existing.raise_()
            existing.activateWindow()
            return existing
        return self._open(form_id, record_id=record_id)

    def create(self, form_id: str) -> RecordEditorDialog | None:
        return self._open(form_id)

    def create_for_case(self, form_id: str, case_id: str) -> RecordEditorDialog | None:
        initial: dict[str, Any] = {}
        preset = CASE_PRESETS.get(form_id)
        if preset is not None:
            field_id, multiple = preset
            initial[field_id] = [case_id] if multiple else case_id
        dialog = self._open(form_id, initial=initial, case_id=case_id)
        if dialog is not None and form_id == "person":
            dialog.case_id = case_id  # linked to the case once saved
        return dialog

    def _open(
        self,
        form_id: str,
        record_id: str | None = None,
        initial: dict[str, Any] | None = None,
        case_id: str | None = None,
    ) -> RecordEditorDialog | None:
        try:
            from fieldkit.ui.forms.renderer import FormEditor

            editor = FormEditor(
                self.services, form_id, record_id=record_id, initial=initial, case_id=case_id
            )
        except Exception as exc:
            show_error(self._parent_widget, exc, _("The form cannot be opened"))
            return None
        dialog = RecordEditorDialog(editor, self._parent_widget)
        dialog.setWindowTitle(type_name(editor.form_id))
        editor.saved.connect(lambda rid, _rev, d=dialog: self._on_editor_saved(d, rid))
        if editor.form_id == "visit":
            dialog.add_report_button(
                _("Visit report (PDF)…"), lambda d=dialog: self._visit_report(d)
            )
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        self.open_editors.append(dialog)
        dialogs.show_dialog(dialog)
        return dialog

    def _visit_report(self, dialog: RecordEditorDialog) -> Any:
        """The visit report of the visit in ``dialog`` (its last saved revision)."""
        record_id = dialog.editor.record_id
        if not record_id:
            return None
        if dialog.editor.dirty and not dialogs.ask(
            dialog,
            _("Visit report"),
            _(
                "The form has unsaved changes. The report shows the last saved revision of the "
                "visit. Make the report anyway?"
            ),
            yes_text=_("Make the report"),
            no_text=_("Cancel"),
        ):
            return None
        from fieldkit.ui.reports import VISIT_REPORT, open_report_dialog

        return open_report_dialog(dialog, self._vault, self._runner, VISIT_REPORT, record_id)

    def _forget(self, dialog: RecordEditorDialog) -> None:
        if dialog in self.open_editors:
            self.open_editors.remove(dialog)
            dialog.deleteLater()

    def _on_editor_saved(self, dialog: RecordEditorDialog, record_id: str) -> None:
        form_id = dialog.editor.form_id
        if dialog.report_button is not None:
            dialog.report_button.setEnabled(True)
        if dialog.case_id and form_id == "person":
            try:
                self.services.records.link_person(record_id, dialog.case_id)
            except Exception as exc:
                show_error(dialog, exc, _("The person was saved but not linked to the case"))
            dialog.case_id = None
        self.record_saved.emit(form_id, record_id)

    def has_unsaved_changes(self) -> bool:
        return any(bool(d.editor.dirty) for d in self.open_editors)

    def discard_all(self) -> None:
        """On lock: forget every entry and close every editor without asking."""
        for dialog in list(self.open_editors):
            try:
                dialog.editor.clear()
            except Exception as exc:
                log.error("editor could not be cleared: %s", type(exc).__name__)
            dialog.force_close()
            self._forget(dialog)
        self._services = None

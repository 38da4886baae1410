"""Record editors in their own windows: opens the form renderer, links new records to a case.

The form renderer (``ui/forms/renderer.py``) edits one record; this host opens it in a window
that does not block the main window (several can be open), keeps one window per record, asks
before closing one with unsaved changes, keeps a draft of every open editor inside the encrypted
profile (``ui/drafts.py``), reopens those drafts after an unlock, and empties every editor on lock.

Emits:
    record_saved(str form_id, str record_id): a revision was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from fieldkit.i18n import _
from fieldkit.ui import dialogs
from fieldkit.ui.common import fitting_size, plain_label, type_name
from fieldkit.ui.drafts import DraftKeeper, new_draft_key
from fieldkit.ui.messages import show_error
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# Which field of a new record points at the case it is created from.
CASE_PRESETS: dict[str, tuple[str, bool]] = {
    "interview": ("cases", True),
    "visit": ("allegation_records", True),
    "recommendation": ("origin_case", False),
}


# Answers a new record starts with (the usual one; the person can change it).
NEW_RECORD_DEFAULTS: dict[str, dict[str, Any]] = {
    "case": {"monitoring_status": "active"},
    "recommendation": {"implementation_status": "not_implemented"},
}


def linked_initial(form_id: str, parent: Any) -> dict[str, Any]:
    """What a record created from a reference field of ``parent`` (a FormEditor) starts with."""
    initial: dict[str, Any] = dict(NEW_RECORD_DEFAULTS.get(form_id, {}))
    source = parent.value()
    if form_id == "recommendation" and parent.form_id == "visit":
        initial["origin"] = "visit"
        if parent.record_id:
            initial["origin_visit"] = parent.record_id
        if isinstance(source.get("facility"), str):
            initial["facility"] = source["facility"]
    elif form_id == "person" and parent.form_id == "interview":
        from fieldkit.domain.forms import CODE_FORMAT

        code = source.get("interviewee_code")
        if isinstance(code, str) and CODE_FORMAT.match(code):
            initial["pseudonym"] = code
    elif form_id == "interview" and parent.form_id == "visit" and parent.record_id:
        initial["visit"] = parent.record_id
    return initial


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
    """One FormEditor in a window; closing it asks about unsaved changes.

    Emits:
        discard_requested(): the person asked to throw the restored draft away.
    """

    discard_requested = Signal()

    def __init__(self, editor: Any, parent: QWidget | None = None, draft_key: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("recordEditorDialog")
        self.editor = editor
        self.case_id: str | None = None
        # The case the editor was opened for (its reference pickers prefer that case).
        self.editor_case_id: str | None = None
        self.draft_key = draft_key or new_draft_key()
        self.restored = False
        self.linked_once = False
        self._force = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.draft_bar = QWidget(self)
        self.draft_bar.setObjectName("draftBar")
        bar = QHBoxLayout(self.draft_bar)
        bar.setContentsMargins(6, 4, 6, 4)
        self.draft_label = plain_label(
            _(
                "Restored from the draft kept when the profile was locked or the program "
                "stopped. Nothing of it is saved as a record yet."
            ),
            "draftLabel",
        )
        bar.addWidget(self.draft_label, 1)
        self.discard_draft_button = QPushButton(_("Throw the draft away"), self.draft_bar)
        self.discard_draft_button.setObjectName("discardDraftButton")
        self.discard_draft_button.clicked.connect(self._on_discard_draft_clicked)
        bar.addWidget(self.discard_draft_button)
        self.draft_bar.setStyleSheet("#draftBar { background: #fff4ce; border-radius: 3px; }")
        self.draft_bar.hide()
        layout.addWidget(self.draft_bar)
        layout.addWidget(editor)
        self.report_button: QPushButton | None = None
        # A visible way out besides Esc; closing asks about unsaved changes as Esc does.
        self.close_button = QPushButton(_("Close"), self)
        self.close_button.setObjectName("editorCloseButton")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(lambda _c=False: self.close())
        row = getattr(editor, "button_row", None)
        if isinstance(row, QHBoxLayout):
            row.addWidget(self.close_button)
        else:
            own_row = QHBoxLayout()
            own_row.addStretch(1)
            own_row.addWidget(self.close_button)
            layout.addLayout(own_row)
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

    def show_restored(self) -> None:
        self.restored = True
        self.draft_bar.show()

    def _on_discard_draft_clicked(self) -> None:
        if dialogs.confirm_destructive(
            self,
            _("Throw the draft away?"),
            _("What was typed in this form since it was last saved is lost."),
            _("Throw away"),
        ):
            self.discard_requested.emit()

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
        self._locking = False
        self.drafts = DraftKeeper(vault, _snapshot, self)

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
        return self._open(form_id, initial=dict(NEW_RECORD_DEFAULTS.get(form_id, {})))

    def create_linked(
        self, parent: Any, fdef: Any, done: Callable[[str, str], None]
    ) -> RecordEditorDialog | None:
        """A new record for a reference field of the editor ``parent``, in its own window;
        once saved it is chosen in that field at once (``done(record_id, label)``)."""
        from fieldkit.ui.forms.base import creatable_form

        form_id = creatable_form(fdef)
        if form_id is None:
            return None
        dialog = self._open(
            form_id, initial=linked_initial(form_id, parent), case_id=parent.case_id
        )
        if dialog is None:
            return None
        if form_id == "person" and parent.case_id:
            dialog.case_id = parent.case_id  # linked to the case once saved

        def on_saved(record_id: str, _revision: int) -> None:
            if dialog.linked_once:
                return
            dialog.linked_once = True
            try:
                label = self.services.records.get(record_id).title or record_id[:8]
            except Exception:
                label = record_id[:8]
            try:
                done(record_id, label)
            except RuntimeError:  # the form it was made from was closed meanwhile
                log.debug("the form a record was created from is gone")

        dialog.editor.saved.connect(on_saved)
        return dialog

    def create_for_case(self, form_id: str, case_id: str) -> RecordEditorDialog | None:
        initial: dict[str, Any] = dict(NEW_RECORD_DEFAULTS.get(form_id, {}))
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
        draft: Any = None,
    ) -> RecordEditorDialog | None:
        try:
            from fieldkit.ui.forms.renderer import FormEditor

            editor = FormEditor(
                self.services,
                form_id,
                record_id=record_id,
                initial=initial,
                case_id=case_id,
                create_ref=self.create_linked,
            )
            if draft is not None:
                editor.restore_draft(
                    draft.data, bool(draft.context.get("confidential")), draft.base_revision
                )
        except Exception as exc:
            show_error(self._parent_widget, exc, _("The form cannot be opened"))
            return None
        dialog = RecordEditorDialog(
            editor, self._parent_widget, draft_key=draft.key if draft is not None else ""
        )
        dialog.editor_case_id = case_id
        dialog.setWindowTitle(type_name(editor.form_id))
        editor.saved.connect(lambda rid, _rev, d=dialog: self._on_editor_saved(d, rid))
        editor.edited.connect(lambda d=dialog: self.drafts.touched(d.draft_key))
        dialog.discard_requested.connect(lambda d=dialog: self._discard_draft(d))
        self.drafts.watch(dialog.draft_key, dialog)
        if editor.form_id == "visit":
            dialog.add_report_button(
                _("Visit report (PDF)…"), lambda d=dialog: self._visit_report(d)
            )
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        self.open_editors.append(dialog)
        dialogs.show_window(dialog)
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
            # Closed by the person with nothing unsaved (saved, or changes discarded): the draft
            # goes. Closed by a lock: the draft stays, to be restored after unlocking.
            keep = self._locking or bool(dialog.editor.dirty)
            self.drafts.forget(dialog.draft_key, discard=not keep)
            dialog.deleteLater()

    def _discard_draft(self, dialog: RecordEditorDialog) -> None:
        self.drafts.discard(dialog.draft_key)
        dialog.editor._set_dirty(False)
        dialog.force_close()
        self._forget(dialog)

    def _on_editor_saved(self, dialog: RecordEditorDialog, record_id: str) -> None:
        form_id = dialog.editor.form_id
        self.drafts.discard(dialog.draft_key)
        dialog.draft_bar.hide()
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

    def keep_drafts(self) -> None:
        """Before a lock (or a language switch): write every open editor's draft and wait."""
        self._locking = True
        self.drafts.flush()

    def restore_drafts(self) -> int:
        """After unlocking: reopen every kept draft in its editor; returns how many."""
        try:
            drafts = self.drafts.service.list()
        except Exception as exc:
            show_error(self._parent_widget, exc, _("The drafts could not be read"))
            return 0
        restored = 0
        for draft in drafts:
            dialog = self._open(
                draft.form_id, record_id=draft.record_id, case_id=draft.case_id, draft=draft
            )
            if dialog is None:
                continue  # the draft stays; it is offered again next time
            dialog.case_id = draft.context.get("link_case_id")
            dialog.show_restored()
            restored += 1
        return restored

    def discard_all(self) -> None:
        """On lock: forget every entry and close every editor without asking (drafts stay)."""
        self._locking = True
        for dialog in list(self.open_editors):
            try:
                dialog.editor.clear()
            except Exception as exc:
                log.error("editor could not be cleared: %s", type(exc).__name__)
            dialog.force_close()
            self._forget(dialog)
        self.drafts.stop()
        self._services = None


def _snapshot(dialog: RecordEditorDialog) -> Any:
    """The draft of a window's editor; None when it holds nothing unsaved."""
    from fieldkit.services.drafts import Draft

    editor = dialog.editor
    if not editor.dirty or editor.read_only:
        return None
    return Draft(
        key=dialog.draft_key,
        form_id=editor.form_id,
        data=editor.value(),
        record_id=editor.record_id,
        base_revision=editor.revision if editor.record_id else None,
        case_id=dialog.editor_case_id,
        context={
            "confidential": bool(editor.confidential.isChecked()),
            "link_case_id": dialog.case_id,
        },
    )

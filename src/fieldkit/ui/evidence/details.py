"""One evidence item in detail: integrity, description, embedded metadata, custody; verify, export.

The SHA-256 is selectable and in a monospace font so it can be read out or compared. Embedded
metadata that can locate or identify someone (GPS position, device serial numbers) stays hidden
until "Show sensitive metadata" is ticked. Verifying, exporting and erasing run as tasks;
exporting first warns that the copy is a plain file outside the encrypted profile, and the service
records it in the item's custody log. "Erase original…" (``EvidenceService.purge``) destroys the
stored file after a destructive confirmation; the item's SHA-256 and custody log stay.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.evidence import (
    CUSTODY_ACTION_LABELS,
    CustodyEvent,
    CustodyPurpose,
    EvidenceItem,
    ItemState,
    PreviewStatus,
    custody_purpose_text,
)
from fieldkit.domain.profile import ROLE_LABELS, Role
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.common import type_name
from fieldkit.ui.evidence.describe import (
    DescribeDialog,
    _describe,
    _scope_label,
    record_choices,
)
from fieldkit.ui.evidence.hash_view import HashView
from fieldkit.ui.evidence.labels import (
    _COPY_ROLE_LABELS,
    _FLAG_LABELS,
    _ITEM_TYPE_LABELS,
    _METADATA_LABELS,
    _VERIFICATION_LABELS,
    _VERIFY_TEXT,
    COL_HASH,
    SENSITIVE_METADATA,
    _label,
    format_metadata_value,
    format_timestamp,
    human_size,
)
from fieldkit.ui.evidence.purge_dialog import PurgeDialog
from fieldkit.ui.forms.common import ERROR_STYLE, plain_label
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)


class EvidenceDetails(QWidget):
    """The details of one evidence item.

    Emits:
        changed(str item_id): the item's custody log changed (verified or exported).
    """

    changed = Signal(str)

    def __init__(self, evidence: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evidenceDetails")
        self.evidence = evidence
        self.runner = runner
        self.item: EvidenceItem | None = None
        self.events: list[CustodyEvent] = []
        self.task: Task | None = None
        self.last_verify: Any = None
        self.last_export: Any = None
        self._build()
        self.show_item(None)

    # --- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.preview = QLabel(self)
        self.preview.setObjectName("evidencePreview")
        self.preview.setFixedSize(160, 160)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("border: 1px solid palette(mid);")
        top.addWidget(self.preview)
        head = QVBoxLayout()
        self.title = plain_label("", self)
        self.title.setObjectName("evidenceTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.title.setFont(font)
        head.addWidget(self.title)
        self.flags = plain_label("", self)
        self.flags.setObjectName("evidenceFlags")
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet("color: #8a0050;")
        head.addWidget(self.flags)
        # Two by two: in one row they ran off a 1024 px screen in Russian ("Стереть оригинал").
        buttons = QGridLayout()
        self.verify_button = QPushButton(_("Verify integrity"), self)
        self.verify_button.setObjectName("evidenceVerify")
        self.export_button = QPushButton(_("Export original…"), self)
        self.export_button.setObjectName("evidenceExport")
        self.purge_button = QPushButton(_("Erase original…"), self)
        self.purge_button.setObjectName("evidencePurge")
        self.purge_button.setToolTip(
            _("Destroy the stored file on this device; its SHA-256 and custody log stay")
        )
        self.describe_button = QPushButton(_("Describe and link…"), self)
        self.describe_button.setObjectName("evidenceDescribe")
        self.describe_button.setToolTip(
            _("Title, description, when and where it was captured, its interview, visit, persons")
        )
        buttons.addWidget(self.describe_button, 0, 0)
        buttons.addWidget(self.verify_button, 0, 1)
        buttons.addWidget(self.export_button, 1, 0)
        buttons.addWidget(self.purge_button, 1, 1)
        buttons.setColumnStretch(2, 1)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("evidenceTaskProgress")
        self.progress.hide()
        head.addWidget(self.progress)
        self.result = plain_label("", self)
        self.result.setObjectName("evidenceResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.result)
        head.addStretch(1)
        top.addLayout(head, 1)
        layout.addLayout(top)
        # The actions get a row of their own: beside the preview they were clipped on a small
        # screen in Ukrainian and Russian.
        layout.addLayout(buttons)

        facts = QGroupBox(_("Integrity and description"), self)
        form = QFormLayout(facts)
        # A value wider than what is left beside its label goes under it (the hash on 1024 px).
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.sha256 = HashView(facts)
        self.sha256.setObjectName("evidenceSha256")
        form.addRow(_("SHA-256"), self.sha256)
        self.fact_labels: dict[str, QLabel] = {}
        for key, label in (
            ("size", _("Size")),
            ("type", _("Type")),
            ("original_name", _("Original file name")),
            ("collected_by", _("Collected by")),
            ("collected_at", _("Collected at")),
            ("content_created_at", _("Captured at")),
            ("place_created", _("Captured where")),
            ("capture_device", _("Capture device")),
            ("copy_role", _("Copy")),
            ("verification", _("Verification")),
            ("description", _("Description")),
            ("links", _("Linked to")),
        ):
            value = plain_label("", facts)
            value.setObjectName(f"evidence_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fact_labels[key] = value
            form.addRow(label, value)
        layout.addWidget(facts)

        meta_box = QGroupBox(_("Embedded metadata"), self)
        meta_layout = QVBoxLayout(meta_box)
        # Short, so the panel is not wider than its place in Russian or Ukrainian; what is
        # sensitive is in the tooltip and in the warning under the title.
        self.show_sensitive = QCheckBox(_("Show sensitive metadata"), meta_box)
        self.show_sensitive.setToolTip(_("Show sensitive metadata (GPS position, serial numbers)"))
        self.show_sensitive.setObjectName("evidenceShowSensitive")
        meta_layout.addWidget(self.show_sensitive)
        self.metadata = QTableWidget(0, 2, meta_box)
        self.metadata.setObjectName("evidenceMetadata")
        self.metadata.setHorizontalHeaderLabels([_("Field"), _("Value")])
        self.metadata.verticalHeader().setVisible(False)
        self.metadata.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metadata.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.metadata.horizontalHeader().setStretchLastSection(True)
        self.metadata.setMaximumHeight(150)
        meta_layout.addWidget(self.metadata)
        layout.addWidget(meta_box)

        custody_box = QGroupBox(_("Chain of custody"), self)
        custody_layout = QVBoxLayout(custody_box)
        self.custody = QTableWidget(0, 5, custody_box)
        self.custody.setObjectName("evidenceCustody")
        self.custody.setHorizontalHeaderLabels(
            [_("When (UTC)"), _("Action"), _("By"), _("Purpose"), _("SHA-256 after")]
        )
        self.custody.verticalHeader().setVisible(False)
        self.custody.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.custody.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.custody.horizontalHeader().setStretchLastSection(True)
        custody_layout.addWidget(self.custody)
        layout.addWidget(custody_box, 1)

        self.show_sensitive.toggled.connect(self._fill_metadata)
        self.describe_button.clicked.connect(self.describe)
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self.export_original)
        self.purge_button.clicked.connect(self.purge)

    # --- showing ------------------------------------------------------------------------------

    def show_item(self, item: EvidenceItem | None, pixmap: QPixmap | None = None) -> None:
        """Show ``item`` (None: nothing selected). Reads its custody log from the service."""
        self.item = item
        self.result.clear()
        self.result.setStyleSheet("")
        self.show_sensitive.setChecked(False)
        if item is None:
            self.title.setText(_("No evidence item selected"))
            self.flags.clear()
            self.sha256.clear()
            for label in self.fact_labels.values():
                label.clear()
            self.metadata.setRowCount(0)
            self.custody.setRowCount(0)
            self.preview.clear()
            self.events = []
            self.verify_button.setEnabled(False)
            self.export_button.setEnabled(False)
            self.purge_button.setEnabled(False)
            self.describe_button.setEnabled(False)
            return
        self.title.setText(item.title or item.original_name)
        self.set_preview(pixmap)
        self.sha256.setText(item.sha256)
        facts = self.fact_labels
        facts["size"].setText(
            ngettext("{human} ({bytes} byte)", "{human} ({bytes} bytes)", item.size).format(
                human=human_size(item.size), bytes=item.size
            )
        )
        facts["type"].setText(
            f"{_label(_ITEM_TYPE_LABELS, item.item_type.value)} · {item.media_type}"
        )
        facts["original_name"].setText(item.original_name)
        facts["collected_by"].setText(_collector_label(item.collected_by))
        facts["collected_at"].setText(format_timestamp(item.collected_at))
        facts["content_created_at"].setText(item.content_created_at or "")
        facts["capture_device"].setText(item.capture_device or "")
        facts["copy_role"].setText(_label(_COPY_ROLE_LABELS, item.copy_role.value))
        facts["verification"].setText(_label(_VERIFICATION_LABELS, item.verification_status.value))
        facts["description"].setText(item.description or "")
        facts["place_created"].setText(item.place_created or "")
        facts["links"].setText(self._links_text(item))
        flags = [_(_FLAG_LABELS.get(f.value, f.value)) for f in item.sensitive_flags]
        notes = []
        if flags:
            notes.append(_("Sensitive: {flags}").format(flags=", ".join(flags)))
        declined = self._declined_media(item)
        if declined:
            notes.append(
                _(
                    "The interviewee declined or withdrew consent to: {scopes}. This item never "
                    "leaves in an output for anyone outside the organisation."
                ).format(scopes=", ".join(declined))
            )
        if item.preview_status == PreviewStatus.HOSTILE:
            notes.append(
                _(
                    "This file was refused as an image: it may be crafted to attack "
                    "viewers. Do not open it outside fieldkit."
                )
            )
        if item.state == ItemState.PURGED:
            notes.append(
                _("Purged: the file was destroyed on this device; its record and custody remain.")
            )
        self.flags.setText("\n".join(notes))
        self._fill_metadata()
        self.reload_custody()
        stored = item.state == ItemState.STORED
        self.describe_button.setEnabled(True)
        self.verify_button.setEnabled(stored)
        self.export_button.setEnabled(stored)
        self.purge_button.setEnabled(stored)

    def _links_text(self, item: EvidenceItem) -> str:
        """What the item is linked to, by title (the ids mean nothing to a person)."""
        links = item.links
        wanted = [x for x in (links.case_id, links.interview_id, links.visit_id) if x]
        wanted.extend(links.person_ids)
        if not wanted:
            return ""
        try:
            from fieldkit.services.records import RecordService

            found = RecordService(self.evidence.vault).summaries_of(wanted)
        except Exception:
            log.exception("could not read the linked records")
            found = {}
        parts = []
        for record_id in wanted:
            summary = found.get(record_id)
            if summary is None:
                parts.append(record_id[:8])
            else:
                parts.append(f"{type_name(summary.type)}: {summary.title or record_id[:8]}")
        return "\n".join(parts)

    def _declined_media(self, item: EvidenceItem) -> list[str]:
        """The media consent scopes the linked interview's person declined or withdrew, as
        the interview stands now."""
        try:
            decisions = self.evidence.media_consent(item.id)
        except Exception:
            log.exception("could not read the linked interview's consent")
            return []
        return [_scope_label(scope) for scope, status in decisions.items() if status == "declined"]

    # --- describing and linking ---------------------------------------------------------------

    def describe(self) -> Task | None:
        """Edit the title, description, capture time and place and the links, as at intake."""
        if self.item is None or self.task is not None:
            return None
        item = self.item
        dialog = DescribeDialog(item, record_choices(self.evidence.vault), self)
        try:
            if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
                return None
            update = dialog.description_update()
            links = dialog.links()
        finally:
            dialog.deleteLater()
        task = Task(
            _describe, self.evidence, item.id, update, links, plain=True, name="evidence-describe"
        )
        self._start(task, _("Saving…"))
        task.signals.succeeded.connect(lambda fresh: self._on_describe_done(fresh))
        self.runner.start(task)
        return task

    def _on_describe_done(self, fresh: EvidenceItem) -> None:
        if self.item is None or self.item.id != fresh.id:
            return
        self.show_item(fresh)
        self._show_result(_("Saved."), ok=True)
        self.changed.emit(fresh.id)

    def set_preview(self, pixmap: QPixmap | None) -> None:
        if pixmap is None or pixmap.isNull():
            self.preview.clear()
            self.preview.setText(_("No preview"))
            return
        self.preview.setPixmap(
            pixmap.scaled(
                self.preview.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def metadata_rows(self) -> list[tuple[str, str]]:
        """(label, shown value) of each embedded metadata entry, sensitive ones masked."""
        if self.item is None or not self.item.embedded_metadata:
            return []
        rows = []
        reveal = self.show_sensitive.isChecked()
        for key in sorted(self.item.embedded_metadata):
            value = self.item.embedded_metadata[key]
            label = _(_METADATA_LABELS[key]) if key in _METADATA_LABELS else key
            if key in SENSITIVE_METADATA and not reveal:
                shown = _("hidden (sensitive)")
            else:
                shown = format_metadata_value(key, value)
            rows.append((label, shown))
        return rows

    def _fill_metadata(self) -> None:
        rows = self.metadata_rows()
        self.metadata.setRowCount(len(rows))
        for index, (label, shown) in enumerate(rows):
            self.metadata.setItem(index, 0, QTableWidgetItem(label))
            cell = QTableWidgetItem(shown)
            if shown == _("hidden (sensitive)"):
                cell.setForeground(Qt.GlobalColor.darkMagenta)
            self.metadata.setItem(index, 1, cell)

    def reload_custody(self) -> None:
        if self.item is None:
            return
        try:
            self.events = list(self.evidence.custody_events(self.item.id))
        except Exception as exc:
            self.events = []
            self._show_result(error_text(exc), ok=False)
        self.custody.setRowCount(len(self.events))
        for row, event in enumerate(self.events):
            label = CUSTODY_ACTION_LABELS.get(event.action, event.action.value)
            cells = [
                format_timestamp(event.at).removesuffix(" UTC"),
                _(label),
                event.actor,
                custody_purpose_text(event.purpose, _),
                (event.hash_after or "")[:16],
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == COL_HASH and event.hash_after:
                    item.setToolTip(event.hash_after)
                self.custody.setItem(row, column, item)

    def _show_result(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        self.result.setStyleSheet("color: #1b5e20;" if ok else ERROR_STYLE + " font-weight: bold;")

    # --- verify -------------------------------------------------------------------------------

    def verify(self) -> Task | None:
        """Re-hash the stored file in a task; the result shows here and goes to custody."""
        if self.item is None or self.task is not None:
            return None
        item_id = self.item.id
        task = Task(self.evidence.verify, item_id, name="evidence-verify")
        self._start(task, _("Verifying…"))
        task.signals.succeeded.connect(lambda results, i=item_id: self._on_verify_done(i, results))
        self.runner.start(task)
        return task

    def _on_verify_done(self, item_id: str, results: Any) -> None:
        result = results[0] if results else None
        self.last_verify = result
        if self.item is None or self.item.id != item_id or result is None:
            return
        text = _(_VERIFY_TEXT.get(result.status, result.status))
        self._show_result(text, ok=bool(result.ok))
        self.reload_custody()
        self.changed.emit(item_id)

    # --- export -------------------------------------------------------------------------------

    def export_original(self) -> Task | None:
        """Warn, ask where, and write the original as a plain file; custody records it."""
        if self.item is None or self.task is not None:
            return None
        item = self.item
        if not dialogs.ask(
            self,
            _("Export the original"),
            _(
                "The exported copy is a plain, unencrypted file outside the protected profile. "
                "Anyone who can reach the place you save it to can open it, and deleting it later "
                "may not remove it from the disk or stick. The export is recorded in the item's "
                "chain of custody.\n\nExport the original anyway?"
            ),
            yes_text=_("Export"),
            no_text=_("Cancel"),
        ):
            return None
        destination = dialogs.save_file(
            self, _("Export the original"), suggested_name=Path(item.original_name).name
        )
        if destination is None:
            return None
        task = Task(
            self.evidence.export,
            item.id,
            destination,
            purpose=CustodyPurpose.EXPORTED_FROM_DESKTOP.value,
            name="evidence-export",
        )
        self._start(task, _("Exporting…"))
        task.signals.succeeded.connect(lambda result, i=item.id: self._on_export_done(i, result))
        self.runner.start(task)
        return task

    def _on_export_done(self, item_id: str, result: Any) -> None:
        self.last_export = result
        if self.item is None or self.item.id != item_id:
            return
        self._show_result(
            _("Exported to {path}; its SHA-256 was checked while writing.").format(
                path=result.path
            ),
            ok=True,
        )
        self.reload_custody()
        self.changed.emit(item_id)

    # --- purge --------------------------------------------------------------------------------

    def purge(self) -> Task | None:
        """Confirm (with an optional reason for the custody log), then erase the original."""
        if self.item is None or self.task is not None or self.item.state != ItemState.STORED:
            return None
        item = self.item
        dialog = PurgeDialog(item.title or item.original_name, self)
        try:
            if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
                return None
            reason = dialog.reason()
        finally:
            dialog.deleteLater()
        task = Task(
            self.evidence.purge, item.id, reason=reason or None, plain=True, name="evidence-purge"
        )
        self._start(task, _("Erasing the original…"))
        task.signals.succeeded.connect(lambda _r, i=item.id: self._on_purge_done(i))
        self.runner.start(task)
        return task

    def _on_purge_done(self, item_id: str) -> None:
        if self.item is None or self.item.id != item_id:
            return
        try:
            fresh = self.evidence.get(item_id)
        except Exception as exc:
            self._show_result(error_text(exc), ok=False)
            return
        self.show_item(fresh)
        self._show_result(
            _("The original was erased from this device; its SHA-256 and custody log remain."),
            ok=True,
        )
        self.changed.emit(item_id)

    # --- tasks --------------------------------------------------------------------------------

    def _start(self, task: Task, text: str) -> None:
        self.task = task
        self.verify_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.purge_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()
        self.result.setText(text)
        self.result.setStyleSheet("")
        task.signals.progress.connect(self._on_task_progress)
        task.signals.failed.connect(self._on_task_failed)
        task.signals.finished.connect(self._on_task_finished)

    def _on_task_progress(self, done: int, total: int, _stage: str) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 / total))

    def _on_task_failed(self, exc: BaseException) -> None:
        if is_cancelled(exc):
            self._show_result(_("Cancelled; nothing was written."), ok=False)
        else:
            self._show_result(error_text(exc), ok=False)
        self.reload_custody()

    def _on_task_finished(self) -> None:
        self.task = None
        self.progress.hide()
        stored = self.item is not None and self.item.state == ItemState.STORED
        self.verify_button.setEnabled(stored)
        self.export_button.setEnabled(stored)
        self.purge_button.setEnabled(stored)

    def cancel_task(self) -> None:
        if self.task is not None:
            self.task.cancel.cancel()

    def clear(self) -> None:
        """On lock: cancel what runs and forget the item."""
        self.cancel_task()
        self.show_item(None)
        self.last_verify = None
        self.last_export = None


def _collector_label(actor: str | None) -> str:
    """Who collected the item: a profile role in the interface language, else as recorded."""
    if not actor:
        return ""
    if actor in Role._value2member_map_:
        return _(ROLE_LABELS[Role(actor)])
    return actor

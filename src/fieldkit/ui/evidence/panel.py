"""The evidence of a case: thumbnails, drag and drop intake with progress and cancel, details.

Thumbnails come from ``EvidenceService.thumbnail`` (decrypted in memory) through tasks and are
turned into pixmaps with ``QPixmap.loadFromData``; nothing is written to a temporary file. Files
are added by dropping them on the panel or with "Add files…"; the intake runs as one task with a
progress dialog whose Cancel stops it between chunks (the file being added is discarded by the
service; files already added stay and are reported).

Entry point for the case view::

    panel = EvidencePanel(vault_or_services, task_runner, case_id=case_id, parent=...)
    panel.clear()            # on lock
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListView,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import EvidenceItem, ItemState
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.evidence.describe import intake_describe_task
from fieldkit.ui.evidence.details import EvidenceDetails
from fieldkit.ui.evidence.labels import human_size
from fieldkit.ui.forms.common import ERROR_STYLE, plain_label
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 96
PROGRESS_STEPS = 1000

IdRole = Qt.ItemDataRole.UserRole + 1


def evidence_service(services: Any) -> Any:
    """The EvidenceService behind what the main window passes (services bundle, service, vault)."""
    found = getattr(services, "evidence", None)
    if found is not None:
        return found
    if hasattr(services, "list_items") and hasattr(services, "add"):
        return services
    from fieldkit.services.evidence import EvidenceService

    return EvidenceService(services)


@dataclass
class IntakeOutcome:
    """What one intake did: the items added, duplicates found, files that failed, cancel."""

    added: list[EvidenceItem] = field(default_factory=list)
    duplicates: list[tuple[str, EvidenceItem]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    skipped: int = 0


def run_intake(
    evidence: Any,
    paths: Sequence[Path],
    links: dict[str, Any],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> IntakeOutcome:
    """Add files one after another (in a task; no widgets here). Stops at cancel.

    Progress is reported over the bytes of all files; the stage is the index of the file.
    """
    outcome = IntakeOutcome()
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    total = sum(sizes)
    base = 0
    for index, path in enumerate(paths):
        if cancel is not None and cancel.cancelled:
            outcome.cancelled = True
            break

        def step(done: int, _total: int, _stage: str, offset: int = base, i: int = index) -> None:
            if progress is not None:
                progress(offset + done, total, str(i))

        step(0, 0, "")
        try:
            result = evidence.add(path, progress=step, cancel=cancel, **links)
        except FieldkitError as exc:
            if exc.code == ErrorCode.CANCELLED:
                outcome.cancelled = True
                break
            outcome.failed.append((path.name, exc.message()))
            log.debug("intake of one file failed: %s", exc.code.value)
        except OSError as exc:
            outcome.failed.append((path.name, exc.strerror or type(exc).__name__))
        else:
            if result.status == "duplicate":
                outcome.duplicates.append((path.name, result.item))
            else:
                outcome.added.append(result.item)
        base += sizes[index]
    return outcome


class EvidenceListModel(QAbstractListModel):
    """Evidence items as a list with thumbnails (DecorationRole) and ids (IdRole)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[EvidenceItem] = []
        self.thumbnails: dict[str, QPixmap] = {}
        self._icons: dict[str, QPixmap] = {}
        self._placeholder: QIcon | None = None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title or item.original_name
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._icons.get(item.id)
            if pixmap is not None:
                return pixmap
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [
                item.original_name,
                f"{human_size(item.size)} · {item.media_type}",
                f"SHA-256 {item.sha256[:16]}…",
            ]
            if item.state == ItemState.PURGED:
                lines.append(_("purged"))
            return "\n".join(lines)
        if role == IdRole:
            return item.id
        return None

    def set_placeholder(self, icon: QIcon) -> None:
        self._placeholder = icon

    def set_items(self, items: Sequence[EvidenceItem]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def set_thumbnail(self, item_id: str, pixmap: QPixmap) -> None:
        self.thumbnails[item_id] = pixmap
        self._icons[item_id] = pixmap.scaled(
            THUMBNAIL_SIZE,
            THUMBNAIL_SIZE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        for row, item in enumerate(self.items):
            if item.id == item_id:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def replace_item(self, fresh: EvidenceItem) -> None:
        """A newer view of an item; an erased original loses its thumbnail."""
        for row, item in enumerate(self.items):
            if item.id == fresh.id:
                self.items[row] = fresh
                if fresh.state == ItemState.PURGED:
                    self.thumbnails.pop(fresh.id, None)
                    self._icons.pop(fresh.id, None)
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    def item_at(self, row: int) -> EvidenceItem | None:
        return self.items[row] if 0 <= row < len(self.items) else None

    def clear(self) -> None:
        self.beginResetModel()
        self.items = []
        self.thumbnails = {}
        self._icons = {}
        self.endResetModel()


class EvidencePanel(QWidget):
    """Evidence of one case (or interview) with intake, thumbnails and details.

    Emits:
        intake_finished(object outcome): an intake ended (an :class:`IntakeOutcome`).
        intake_described(object items): what was entered at intake for the new items was saved
            (the list of fresh :class:`EvidenceItem`).
        item_selected(str item_id): an item was selected.
    """

    intake_finished = Signal(object)
    intake_described = Signal(object)
    item_selected = Signal(str)

    def __init__(
        self,
        services: Any,
        task_runner: TaskRunner,
        case_id: str | None = None,
        parent: QWidget | None = None,
        *,
        interview_id: str | None = None,
        visit_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("evidencePanel")
        self.evidence = evidence_service(services)
        self.runner = task_runner
        self.case_id = case_id
        self.interview_id = interview_id
        self.visit_id = visit_id
        self.intake_task: Task | None = None
        self.progress_dialog: QProgressDialog | None = None
        self._intake_paths: list[Path] = []
        self._thumbnail_tasks: dict[str, Task] = {}
        # Bumped on clear(): results of tasks started before a lock are dropped.
        self._generation = 0
        self.setAcceptDrops(True)
        self._build()
        self.reload()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.add_button = QPushButton(_("Add files…"), self)
        self.add_button.setObjectName("evidenceAddFiles")
        bar.addWidget(self.add_button)
        hint = plain_label(
            _(
                "or drop files here. Originals are encrypted into the profile; "
                "the files you add are left where they are."
            ),
            self,
        )
        hint.setWordWrap(True)
        bar.addWidget(hint, 1)
        layout.addLayout(bar)
        self.status = plain_label("", self)
        self.status.setObjectName("evidenceStatus")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.model = EvidenceListModel(self)
        self.model.set_placeholder(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.view = QListView(splitter)
        self.view.setObjectName("evidenceList")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.view.setGridSize(QSize(THUMBNAIL_SIZE + 40, THUMBNAIL_SIZE + 44))
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(True)
        self.view.setModel(self.model)
        self.details = EvidenceDetails(self.evidence, self.runner)
        # The details are taller than a small laptop screen allows: they scroll, so the main
        # window fits 1280×720.
        self.details_scroll = QScrollArea(splitter)
        self.details_scroll.setObjectName("evidenceDetailsScroll")
        self.details_scroll.setWidgetResizable(True)
        self.details_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.details_scroll.setWidget(self.details)
        self.view.setMinimumWidth(THUMBNAIL_SIZE + 48)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details_scroll)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([THUMBNAIL_SIZE + 80, 3 * (THUMBNAIL_SIZE + 80)])
        self.details_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout.addWidget(splitter, 1)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.details.changed.connect(self._on_details_changed)

    def set_case(self, case_id: str | None, services: Any = None) -> None:
        """Show another case's evidence (and, after an unlock, pass the new profile handle)."""
        self.clear()
        if services is not None:
            self.evidence = evidence_service(services)
            self.details.evidence = self.evidence
        self.case_id = case_id
        self.reload()

    # --- list and thumbnails ------------------------------------------------------------------

    def reload(self) -> None:
        """Read the list again (a quick query) and fetch missing thumbnails in tasks."""
        selected = self.details.item.id if self.details.item is not None else None
        try:
            items = self.evidence.list_items(case_id=self.case_id)
        except Exception as exc:
            self._set_status(error_text(exc), error=True)
            items = []
        self.model.set_items(items)
        for item in items:
            if item.id not in self.model.thumbnails and item.state == ItemState.STORED:
                self._load_thumbnail(item.id)
        if selected is not None:
            self.select(selected)

    def _load_thumbnail(self, item_id: str) -> None:
        if item_id in self._thumbnail_tasks:
            return
        task = Task(self.evidence.thumbnail, item_id, plain=True, name="evidence-thumbnail")
        task.signals.succeeded.connect(
            lambda data, i=item_id, g=self._generation: self._on_thumbnail_loaded(i, data, g)
        )
        task.signals.finished.connect(lambda i=item_id: self._thumbnail_tasks.pop(i, None))
        self._thumbnail_tasks[item_id] = task
        self.runner.start(task)

    def _on_thumbnail_loaded(self, item_id: str, data: Any, generation: int) -> None:
        if not data or generation != self._generation:
            return
        pixmap = QPixmap()
        if not pixmap.loadFromData(bytes(data), "JPEG"):
            log.debug("a thumbnail could not be decoded")
            return
        self.model.set_thumbnail(item_id, pixmap)
        if self.details.item is not None and self.details.item.id == item_id:
            self.details.set_preview(pixmap)

    def select(self, item_id: str) -> bool:
        for row, item in enumerate(self.model.items):
            if item.id == item_id:
                self.view.setCurrentIndex(self.model.index(row, 0))
                return True
        return False

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.model.item_at(current.row()) if current.isValid() else None
        if item is None:
            self.details.show_item(None)
            return
        self.details.show_item(item, self.model.thumbnails.get(item.id))
        self.item_selected.emit(item.id)

    def _on_details_changed(self, item_id: str) -> None:
        try:
            fresh = self.evidence.get(item_id)
        except Exception:
            return
        self.model.replace_item(fresh)

    # --- intake -------------------------------------------------------------------------------

    def _on_add_clicked(self) -> None:
        paths = dialogs.open_files(self, _("Add evidence files"))
        if paths:
            self.add_files(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if (
            self.intake_task is None
            and mime.hasUrls()
            and all(url.isLocalFile() for url in mime.urls())
        ):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_files(paths)

    def add_files(self, paths: Sequence[Path]) -> Task | None:
        """Start the intake of ``paths`` as one task with a progress dialog; None if nothing to do.

        Folders and anything that is not a regular file are skipped and reported.
        """
        if self.intake_task is not None:
            self._set_status(_("Files are still being added; wait for them to finish."), error=True)
            return None
        files = [Path(p) for p in paths if Path(p).is_file()]
        skipped = len(paths) - len(files)
        if not files:
            self._set_status(_("Nothing to add: only files can be added, not folders."), error=True)
            return None
        links = {"case_id": self.case_id}
        if self.interview_id:
            links["interview_id"] = self.interview_id
        if self.visit_id:
            links["visit_id"] = self.visit_id
        task = Task(run_intake, self.evidence, files, links, name="evidence-intake")
        task.signals.progress.connect(self._on_intake_progress)
        task.signals.succeeded.connect(
            lambda outcome, s=skipped, g=self._generation: self._on_intake_succeeded(outcome, s, g)
        )
        task.signals.failed.connect(lambda exc, g=self._generation: self._on_intake_failed(exc, g))
        task.signals.finished.connect(self._on_intake_finished)
        self.intake_task = task
        self._intake_paths = files
        self.add_button.setEnabled(False)
        dialog = QProgressDialog(
            _("Adding {name}…").format(name=files[0].name), _("Cancel"), 0, PROGRESS_STEPS, self
        )
        dialog.setObjectName("evidenceIntakeProgress")
        dialog.setWindowTitle(_("Adding evidence"))
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        dialog.canceled.connect(self.cancel_intake)
        self.progress_dialog = dialog
        dialogs.show_dialog(dialog)
        self.runner.start(task)
        return task

    def cancel_intake(self) -> None:
        """Ask the running intake to stop (the file being added is discarded by the service)."""
        if self.intake_task is not None:
            self.intake_task.cancel.cancel()
            if self.progress_dialog is not None:
                self.progress_dialog.setLabelText(_("Cancelling…"))

    def _on_intake_progress(self, done: int, total: int, stage: str) -> None:
        dialog = self.progress_dialog
        if dialog is None:
            return
        if total > 0:
            dialog.setValue(min(int(done * PROGRESS_STEPS / total), PROGRESS_STEPS - 1))
        if stage.isdigit() and int(stage) < len(self._intake_paths):
            index = int(stage)
            dialog.setLabelText(
                _("Adding {name} ({number} of {count})…").format(
                    name=self._intake_paths[index].name,
                    number=index + 1,
                    count=len(self._intake_paths),
                )
            )

    def _on_intake_succeeded(self, outcome: IntakeOutcome, skipped: int, generation: int) -> None:
        self._end_intake()
        if generation != self._generation:
            return  # locked meanwhile: show nothing
        outcome.skipped = skipped
        lines = []
        if outcome.added:
            lines.append(
                ngettext(
                    "{count} file was added.", "{count} files were added.", len(outcome.added)
                ).format(count=len(outcome.added))
            )
        for name, item in outcome.duplicates:
            lines.append(
                _("{name} is already stored as evidence ({title}); it was not added again.").format(
                    name=name, title=item.title or item.original_name
                )
            )
        for name, reason in outcome.failed:
            lines.append(_("{name} was not added: {reason}").format(name=name, reason=reason))
        if skipped:
            lines.append(
                ngettext(
                    "{count} folder or special file was skipped.",
                    "{count} folders or special files were skipped.",
                    skipped,
                ).format(count=skipped)
            )
        if outcome.cancelled:
            lines.insert(
                0,
                _(
                    "Cancelled. The file being added when you cancelled was "
                    "discarded; files added before it are kept."
                ),
            )
        self._set_status("\n".join(lines), error=bool(outcome.failed or outcome.cancelled))
        self.reload()
        if outcome.added:
            self.select(outcome.added[-1].id)
            self._offer_describe(outcome.added)
        self.intake_finished.emit(outcome)

    def _offer_describe(self, added: Sequence[EvidenceItem]) -> None:
        """Deliverable F-4 at intake: description, capture time and place, links, skippable."""
        task = intake_describe_task(self, self.evidence, added)
        if task is None:
            return
        task.signals.succeeded.connect(
            lambda fresh, g=self._generation: self._on_described(fresh, g)
        )
        task.signals.failed.connect(
            lambda exc, g=self._generation: self._on_describe_failed(exc, g)
        )
        self.runner.start(task)

    def _on_described(self, fresh: list[EvidenceItem], generation: int) -> None:
        if generation != self._generation:
            return
        self.reload()
        if fresh:
            self.select(fresh[-1].id)
        self.intake_described.emit(fresh)

    def _on_describe_failed(self, exc: BaseException, generation: int) -> None:
        if generation == self._generation:
            self._set_status(error_text(exc), error=True)

    def _on_intake_failed(self, exc: BaseException, generation: int) -> None:
        self._end_intake()
        if generation != self._generation:
            return
        if is_cancelled(exc):
            self._set_status(_("Cancelled; nothing was added."), error=True)
        else:
            self._set_status(error_text(exc), error=True)
        self.reload()
        self.intake_finished.emit(IntakeOutcome(cancelled=is_cancelled(exc)))

    def _on_intake_finished(self) -> None:
        self._end_intake()

    def _end_intake(self) -> None:
        self.intake_task = None
        self._intake_paths = []
        self.add_button.setEnabled(True)
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect(self.cancel_intake)
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "color: #1b5e20;")
        self.status.setVisible(bool(text))

    # --- lock ---------------------------------------------------------------------------------

    def clear(self) -> None:
        """On lock: cancel running work, drop every thumbnail and item from memory."""
        self._generation += 1
        if self.intake_task is not None:
            self.intake_task.cancel.cancel()
        for task in list(self._thumbnail_tasks.values()):
            task.cancel.cancel()
        self._thumbnail_tasks.clear()
        self.details.clear()
        self.model.clear()
        self.status.clear()
        self.status.hide()

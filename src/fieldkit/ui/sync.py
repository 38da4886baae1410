"""Sync (monitor): send what the organisation has not acknowledged over the network, with
progress and cancel, and bring the receipt back (``services.sync.sync``).

:func:`install_sync_action` adds the action to the main window's File menu and toolbar (monitor
profiles only); :class:`SyncDialog` runs one sync as a task. The service is Qt-free; this
module only shows what it reports.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.profile import Role
from fieldkit.i18n import _
from fieldkit.services import sync as sync_service
from fieldkit.ui import dialogs
from fieldkit.ui.bundles.common import human_size, progress_value
from fieldkit.ui.common import plain_label
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

PROXY_ENV = "FIELDKIT_SYNC_PROXY"


def result_text(result: sync_service.SyncResult) -> str:
    return "\n".join(result.summary_lines())


class SyncDialog(QDialog):
    """One sync with the organisation's server: a proxy field, progress, cancel, the outcome.

    Attributes for callers and tests: ``task`` (running or last), ``result_value``, ``error``.
    """

    def __init__(self, vault: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncDialog")
        self.setWindowTitle(_("Sync with the organisation"))
        self.vault = vault
        self.runner = runner
        self.task: Task | None = None
        self.result_value: sync_service.SyncResult | None = None
        self.error: BaseException | None = None
        layout = QVBoxLayout(self)
        intro = plain_label(
            _(
                "Sends every bundle the organisation has not acknowledged to its server and "
                "brings the receipt back. The connection is encrypted and checked against the "
                "organisation card. An interrupted sync continues where it stopped."
            ),
            "syncIntro",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.proxy_edit = QLineEdit(self)
        self.proxy_edit.setObjectName("syncProxyEdit")
        self.proxy_edit.setPlaceholderText(_("none (direct connection)"))
        self.proxy_edit.setText(os.environ.get(PROXY_ENV, ""))
        self.proxy_edit.setToolTip(
            _("For Tor: socks5://127.0.0.1:9050 (Tor Browser: socks5://127.0.0.1:9150)")
        )
        form.addRow(_("Proxy:"), self.proxy_edit)
        layout.addLayout(form)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("syncProgress")
        self.bar.setRange(0, 0)
        self.bar.setVisible(False)
        layout.addWidget(self.bar)
        self.status_label = plain_label("", "syncStatus", self)
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        buttons = QDialogButtonBox(self)
        self.start_button = QPushButton(_("Sync now"), self)
        self.start_button.setObjectName("syncStart")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton(_("Cancel"), self)
        self.cancel_button.setObjectName("syncCancel")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton(_("Close"), self)
        self.close_button.setObjectName("syncClose")
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(buttons)
        self.start_button.clicked.connect(self.start_sync)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.close_button.clicked.connect(self.reject)

    @property
    def running(self) -> bool:
        return self.task is not None and self.cancel_button.isEnabled()

    def start_sync(self) -> None:
        if self.running:
            return
        self.result_value, self.error = None, None
        proxy = self.proxy_edit.text().strip() or None
        task = Task(sync_service.sync, self.vault, proxy=proxy, name="sync")
        task.signals.progress.connect(self._on_progress)
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        self.task = task
        self.start_button.setEnabled(False)
        self.proxy_edit.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 0)
        self.bar.setVisible(True)
        self.status_label.setText(_("Connecting to the organisation's server…"))
        self.runner.start(task)

    def cancel_sync(self) -> None:
        if self.running and self.task is not None:
            self.task.cancel.cancel()
            self.cancel_button.setEnabled(False)
            self.status_label.setText(_("Stopping…"))

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        progress_value(self.bar, done, total)
        if total:
            self.status_label.setText(
                _("Sending: {done} of {total}").format(
                    done=human_size(done), total=human_size(total)
                )
            )

    def _finish(self, text: str) -> None:
        self.bar.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        self.proxy_edit.setEnabled(True)
        self.status_label.setText(text)

    def _on_succeeded(self, result: object) -> None:
        assert isinstance(result, sync_service.SyncResult)
        self.result_value = result
        self._finish(result_text(result))

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.error = exc
        if is_cancelled(exc):
            self._finish(
                _("Sync was cancelled. What the server received is kept; the next sync goes on.")
            )
        else:
            self._finish(error_text(exc))

    def reject(self) -> None:
        self.cancel_sync()
        super().reject()


def install_sync_action(
    window: Any, menu: QMenu, toolbar: QToolBar, before: QAction | None = None
) -> QAction | None:
    """Add "Sync with the organisation" to the File menu (before ``before``) and the toolbar
    of a monitor's main window (``window.vault``, ``window.runner``, ``window.role``); None
    for a coordinator."""
    if window.role != Role.MONITOR:
        return None
    action = QAction(_("S&ync with the organisation…"), window)
    action.setObjectName("actionSync")
    action.setShortcut("Ctrl+Shift+S")
    action.setStatusTip(_("Send bundles to the organisation's server and bring the receipt back"))

    def open_dialog() -> None:
        dialogs.show_dialog(SyncDialog(window.vault, window.runner, window))

    action.triggered.connect(open_dialog)
    if before is not None:
        menu.insertAction(before, action)
    else:
        menu.addAction(action)
    toolbar.addAction(action)
    window.action_sync = action
    return action

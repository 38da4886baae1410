"""The main window: menus and shortcuts, the record list with search and filters, the case view.

Its parts live in ``main_menus``, ``main_list``, ``main_status`` and ``main_windows`` (see
``main_base``, which declares the signals below).

It calls services only; the vault is passed through as the opaque "unlocked profile" handle.

Emits:
    lock_requested(): the user chose Lock.
    quit_requested(): the user chose Quit.
    settings_changed(object AppSettings): the user saved new preferences.
    passphrase_changed(): the passphrase was changed; the program locks the profile.
    erase_requested(): the user confirmed a quick erase twice; the program locks and erases.
"""

from __future__ import annotations

import base64
from typing import Any

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QWidget,
)

from fieldkit.domain.profile import Role
from fieldkit.i18n import _, ngettext
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import (
    fitting_size,
)
from fieldkit.ui.editing import RecordEditorHost
from fieldkit.ui.main_base import TIME_SEARCH_DEBOUNCE_MS
from fieldkit.ui.main_menus import MenuActions
from fieldkit.ui.main_status import StatusIndicators
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner


class MainWindow(MenuActions, StatusIndicators):
    """The main window, joined from its parts (see ``main_base``)."""

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        settings: AppSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.vault = vault
        self.runner = runner
        self.clipboard = clipboard
        self.settings = settings
        self.role: Role = vault.role
        self._closing_for_lock = False

        from fieldkit.services.records import RecordService
        from fieldkit.services.search import SearchService

        self.records = RecordService(vault)
        self.search_service = SearchService(vault)
        self.editors = RecordEditorHost(self, vault, runner)
        self.editors.record_saved.connect(self._on_record_saved)

        self.setWindowTitle(self._title())
        self.resize(fitting_size(self, 1200, 780))
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status_bar()
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(TIME_SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.reload)
        self.restore_layout(settings)
        self.reload()

    def _title(self) -> str:
        # Whole phrases: Ukrainian and Russian decline the role word inside the title. No
        # "fieldkit" here: the window system adds the program's name after the title.
        if self.role == Role.MONITOR:
            return _("Monitor profile")
        if self.role == Role.LAWYER:
            return _("Lawyer profile (read-only)")
        return _("Coordinator profile")

    # --- state, lock and close ----------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        return self.editors.has_unsaved_changes()

    def restore_drafts(self) -> int:
        """Reopen the forms that were open at the last lock, crash or quit, and say so."""
        count = self.editors.restore_drafts()
        if count:
            text = ngettext(
                "{n} unsaved form was restored from its encrypted draft. Save it to keep it as a "
                "record, or throw the draft away.",
                "{n} unsaved forms were restored from their encrypted drafts. Save them to keep "
                "them as records, or throw the drafts away.",
                count,
            ).format(n=count)
            self.drafts_banner.setText(text)
            self.drafts_banner.show()
            self.statusBar().showMessage(text, 10000)
        return count

    def clear(self) -> None:
        """Empty every model and view (on lock): nothing from the profile stays in memory."""
        self._search_timer.stop()
        self.editors.discard_all()
        self.case_view.clear()
        self.detail_stack.setCurrentIndex(0)
        self.model.clear()
        self.search_edit.clear()
        self.count_label.clear()
        from fieldkit.ui.reports import forget_prepared_by

        forget_prepared_by(self.vault)

    def restore_layout(self, settings: AppSettings) -> None:
        if settings.window_geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(settings.window_geometry)))
        if settings.window_state:
            self.restoreState(QByteArray(base64.b64decode(settings.window_state)))

    def layout_settings(self) -> dict[str, str]:
        return {
            "window_geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode(),
            "window_state": base64.b64encode(bytes(self.saveState().data())).decode(),
        }

    def close_for_lock(self) -> None:
        self._closing_for_lock = True
        self.clear()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing_for_lock:
            event.accept()
            return
        # Unsaved forms are kept as encrypted drafts by the lock that quitting runs, and
        # reopened after the next unlock: nothing to ask.
        event.ignore()
        self.quit_requested.emit()

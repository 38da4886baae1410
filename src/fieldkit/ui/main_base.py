"""What the parts of the main window share: its signals, its services and the names one part calls
in another.

The main window is put together from parts along their ideas (``main_menus``: actions and menus;
``main_list``: the record list and the case view; ``main_status``: the status bar;
``main_windows``: the other windows it opens), each a class on this base, and ``main_window``
joins them. Only the menus import the parts whose slots they are wired to; the list, status and
windows parts import this module alone and call each other through the names declared here.

Emits:
    lock_requested(): the user chose Lock.
    quit_requested(): the user chose Quit.
    settings_changed(object AppSettings): the user saved new preferences.
    passphrase_changed(): the passphrase was changed; the program locks the profile.
    erase_requested(): the user confirmed a quick erase twice; the program locks and erases.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from fieldkit.domain.profile import Role
from fieldkit.ui.case_view import CaseView
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.editing import RecordEditorHost
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner

TIME_SEARCH_DEBOUNCE_MS = 250
ALL_TYPES = ""


class MainWindowBase(QMainWindow):
    """The shared state; the methods below are the ones a part calls in another part, which
    overrides them (a part never imports another)."""

    lock_requested = Signal()
    quit_requested = Signal()
    settings_changed = Signal(object)
    passphrase_changed = Signal()
    erase_requested = Signal()

    vault: Any
    runner: TaskRunner
    clipboard: ClipboardGuard
    settings: AppSettings
    role: Role
    records: Any
    search_service: Any
    editors: RecordEditorHost
    case_view: CaseView
    _search_timer: QTimer

    # --- record list (main_list) ---

    def reload(self) -> None:
        raise NotImplementedError

    def focus_search(self) -> None:
        raise NotImplementedError

    def new_record(self, form_id: str) -> None:
        raise NotImplementedError

    def current_case_id(self) -> str | None:
        raise NotImplementedError

    def update_welcome(self) -> None:
        raise NotImplementedError

    # --- other windows (main_windows) ---

    def open_review_for(self, case_id: str) -> None:
        raise NotImplementedError

    def open_report(self, kind: str, record_id: str) -> Any:
        raise NotImplementedError

    # --- status bar (main_status) ---

    def update_enrolment(self) -> None:
        raise NotImplementedError

    # --- the window itself (main_window) ---

    def has_unsaved_changes(self) -> bool:
        raise NotImplementedError

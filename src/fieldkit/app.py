"""Composition root of the desktop program.

paths → logging (no content in logs) → settings → i18n → QApplication → unlock/create window →
main window. ``fieldkit`` with no command calls :func:`run_desktop`.

:class:`DesktopApp` owns everything that lives longer than one unlocked session: the task runner,
the clipboard guard, the lock manager, the idle watcher and the screen-lock listener. It shows the
unlock window, builds the main window once the profile is open, and goes back to the unlock window
on lock. Switching language re-creates the windows (their state is kept in the settings and in the
profile), which is simpler and safer than re-translating every widget in place.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QLibraryInfo,
    QLocale,
    QObject,
    QSocketNotifier,
    Qt,
    QTimer,
    QTranslator,
    Signal,
)
from PySide6.QtWidgets import QApplication

from fieldkit import i18n
from fieldkit.i18n import _, ngettext
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.lock import (
    REASON_ERASE,
    REASON_IDLE,
    REASON_PASSPHRASE,
    REASON_SCREEN,
    REASON_SLEEP,
    REASON_USER,
    IdleWatcher,
    LockManager,
    ScreenLockListener,
)
from fieldkit.ui.settings import AppSettings, load_settings, save_settings, settings_path
from fieldkit.ui.tasks import Task, TaskRunner
from fieldkit.ui.unlock import UnlockWindow

log = logging.getLogger(__name__)

LOG_ENV = "FIELDKIT_LOG_DIR"
QT_CATALOGUES = ("qtbase",)


# --- paths and logging ------------------------------------------------------------------------


def log_dir() -> Path:
    env = os.environ.get(LOG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_log_dir

    return Path(user_log_dir("fieldkit", appauthor=False))


def setup_logging(folder: Path | None = None) -> Path | None:
    """A rotating log file (0600) in the user's log folder; messages never carry record content."""
    folder = folder or log_dir()
    level = logging.DEBUG if os.environ.get("FIELDKIT_DEBUG") == "1" else logging.INFO
    root = logging.getLogger("fieldkit")
    root.setLevel(level)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / "fieldkit.log"
        handler = logging.handlers.TimedRotatingFileHandler(
            path, when="D", backupCount=7, encoding="utf-8"
        )
        if path.exists():
            os.chmod(path, 0o600)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path


# --- translations -----------------------------------------------------------------------------


class QtTranslations:
    """Qt's own translations (standard buttons, file dialogs) for the interface language."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._installed: list[QTranslator] = []

    def apply(self, language: str) -> bool:
        for translator in self._installed:
            self._app.removeTranslator(translator)
        self._installed.clear()
        QLocale.setDefault(QLocale(language))
        if language == "en":
            return True
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        loaded = False
        for catalogue in QT_CATALOGUES:
            translator = QTranslator(self._app)
            if translator.load(f"{catalogue}_{language}", folder):
                self._app.installTranslator(translator)
                self._installed.append(translator)
                loaded = True
            else:
                log.warning("Qt translation %s_%s not found", catalogue, language)
        return loaded


# --- the program ------------------------------------------------------------------------------


class DesktopApp(QObject):
    """Unlock window ⇄ main window, with locking and language switching.

    Emits:
        main_window_shown(object MainWindow): after every unlock (tests wait for it).
        locked(str reason): after the lock sequence ran and the unlock window is shown.
        erased(bool ok): a quick erase ended (the unlock window now offers to create a profile).
    """

    main_window_shown = Signal(object)
    locked = Signal(str)
    erased = Signal(bool)

    def __init__(
        self,
        app: QApplication,
        profile_path: Path,
        settings: AppSettings,
        *,
        settings_file: Path | None = None,
        listen_for_screen_lock: bool = True,
        session_bus: Any = None,
        system_bus: Any = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.profile_path = profile_path
        self.settings = settings
        self.settings_file = settings_file
        self.runner = TaskRunner(self)
        self.clipboard = ClipboardGuard(parent=self)
        self.lock_manager = LockManager(self.runner, self.clipboard, self)
        self.lock_manager.locked.connect(self._on_lock_manager_locked)
        self.idle = IdleWatcher(settings.idle_lock_minutes * 60_000, self)
        self.idle.idle.connect(lambda: self.lock(REASON_IDLE))
        self.screen_listener = ScreenLockListener(session_bus, system_bus, self)
        self.screen_listener.screen_locked.connect(self._on_screen_locked)
        if listen_for_screen_lock:
            self.screen_listener.start()
        self.qt_translations = QtTranslations(app)
        self.qt_translations.apply(settings.language)
        i18n.set_language(settings.language)
        self.unlock_window: UnlockWindow | None = None
        self.main_window: Any = None
        self.vault: Any = None
        self.termination_watch: tuple[Any, ...] = ()  # kept alive: see _quit_on_termination
        app.aboutToQuit.connect(self.shutdown)
        app.applicationStateChanged.connect(self._on_application_state)

    # --- windows ------------------------------------------------------------------------------

    def start(self) -> None:
        self.show_unlock()
        log.info("first window shown")  # bench/frozen.py measures the start-up time to this line

    def show_unlock(self, reason: str = "") -> UnlockWindow:
        old = self.unlock_window
        window = UnlockWindow(self.profile_path, self.runner, reason=reason)
        window.unlocked.connect(self._on_unlocked)
        window.language_requested.connect(self.set_language)
        window.resize(620, 420)
        window.show()
        window.raise_()
        window.activateWindow()
        self.unlock_window = window
        if old is not None:
            old.close()
            old.deleteLater()
        return window

    def _on_unlocked(self, vault: object) -> None:
        self.vault = vault
        self.lock_manager.set_vault(vault)
        self._show_main_window()
        if self.unlock_window is not None:
            self.unlock_window.close()
            self.unlock_window.deleteLater()
            self.unlock_window = None
        self.idle.start()

    def _show_main_window(self) -> None:
        from fieldkit.ui.main_window import MainWindow

        window = MainWindow(self.vault, self.runner, self.clipboard, self.settings)
        window.lock_requested.connect(lambda: self.lock(REASON_USER))
        window.quit_requested.connect(self.quit)
        window.settings_changed.connect(self.apply_settings)
        window.passphrase_changed.connect(self.after_passphrase_change)
        window.erase_requested.connect(self.erase_profile)
        self.lock_manager.add_on_lock(window.editors.keep_drafts, window, before=True)
        self.lock_manager.add_on_lock(window.clear, window)
        window.show()
        # Active at once, so its shortcuts (Ctrl+E, Ctrl+,) work without a click first.
        window.raise_()
        window.activateWindow()
        self.main_window = window
        window.restore_drafts()
        log.info("main window shown")
        self.main_window_shown.emit(window)

    def _close_main_window(self) -> None:
        window, self.main_window = self.main_window, None
        if window is None:
            return
        self._forget_window(window)
        self._remember_layout(window)
        window.close_for_lock()
        window.deleteLater()

    def _forget_window(self, window: Any) -> None:
        """The lock manager no longer calls into a window that is going (F-15)."""
        self.lock_manager.forget(window.editors.keep_drafts)
        self.lock_manager.forget(window.clear)

    def _remember_layout(self, window: Any) -> None:
        try:
            self.settings = self.settings.model_copy(update=window.layout_settings())
            self._save_settings()
        except Exception as exc:
            log.warning("window layout not saved: %s", type(exc).__name__)

    # --- lock ---------------------------------------------------------------------------------

    def lock(self, reason: str = REASON_USER) -> bool:
        """Run the lock sequence (tasks, dialogs, clipboard, models, keys) and show unlock."""
        if not self.lock_manager.is_unlocked:
            return False
        # Unsaved entries are kept as encrypted drafts and reopened after unlocking, so a lock
        # (asked for or automatic) never needs to ask about them.
        self.idle.stop()
        return self.lock_manager.lock(reason)

    def _on_screen_locked(self, reason: str) -> None:
        if self.settings.lock_on_screen_lock:
            self.lock(reason)  # the lock writes every draft first
        else:
            self.save_drafts_now()

    def _on_application_state(self, state: Qt.ApplicationState) -> None:
        # Another program took the keyboard, the window was minimised, or (on Windows and macOS,
        # where no D-Bus signal says so) the session was locked: write the drafts at once.
        if state != Qt.ApplicationState.ApplicationActive:
            self.save_drafts_now()

    def save_drafts_now(self) -> int:
        """Hand the drafts whose typing pause has not run out to the writer now (no waiting)."""
        window = self.main_window
        if window is None or not self.lock_manager.is_unlocked:
            return 0
        return int(window.editors.drafts.save_pending())

    def _on_lock_manager_locked(self, reason: str) -> None:
        # The unlock window appears before the main window goes, so the program never has no
        # window (Qt would quit).
        self.vault = None
        texts = {
            REASON_IDLE: ngettext(
                "Locked after {n} minute without activity.",
                "Locked after {n} minutes without activity.",
                self.settings.idle_lock_minutes,
            ).format(n=self.settings.idle_lock_minutes),
            REASON_SCREEN: _("Locked because the screen was locked."),
            REASON_SLEEP: _("Locked because the computer went to sleep."),
            REASON_USER: _("Locked."),
            REASON_PASSPHRASE: _(
                "The passphrase was changed. Unlock the profile with the new passphrase."
            ),
            REASON_ERASE: _("Erasing the profile…"),
        }
        self.show_unlock(texts.get(reason, _("Locked.")))
        self._close_main_window()
        self.locked.emit(reason)

    # --- passphrase and erase -----------------------------------------------------------------

    def after_passphrase_change(self) -> None:
        """The key file now opens with the new passphrase: lock, so the next unlock uses it."""
        self.idle.stop()
        self.lock_manager.lock(REASON_PASSPHRASE)

    def erase_profile(self) -> Task:
        """Lock (tasks stopped, dialogs closed, keys dropped), then erase in a task.

        ``services.profile.erase_profile`` destroys the key file first, then the rest.
        """
        self.idle.stop()
        if self.lock_manager.is_unlocked:
            self.lock_manager.lock(REASON_ERASE)
        else:
            self.show_unlock(_("Erasing the profile…"))
        if self.unlock_window is not None:
            self.unlock_window.setEnabled(False)
        from fieldkit.services import profile as profile_service

        task = Task(profile_service.erase_profile, self.profile_path, plain=True, name="erase")
        task.signals.succeeded.connect(self._on_erase_succeeded)
        task.signals.failed.connect(self._on_erase_failed)
        self.erase_task = task
        self.runner.start(task)
        return task

    def _on_erase_succeeded(self, _result: object) -> None:
        log.info("profile erased")
        self.show_unlock(_("The profile was erased. Nothing of it can be decrypted any more."))
        self.erased.emit(True)

    def _on_erase_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        from fieldkit.ui.messages import error_text

        log.error("erase failed: %s", type(exc).__name__)
        window = self.show_unlock(_("The profile could not be erased completely."))
        window.show_error(error_text(exc))
        self.erased.emit(False)

    # --- settings and language ----------------------------------------------------------------

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings, self.settings_file)
        except OSError as exc:
            log.warning("settings not saved: %s", type(exc).__name__)

    def apply_settings(self, settings: object) -> None:
        assert isinstance(settings, AppSettings)
        language_changed = settings.language != self.settings.language
        self.settings = settings
        self.idle.set_timeout_ms(settings.idle_lock_minutes * 60_000)
        self._save_settings()
        if language_changed:
            self.set_language(settings.language)

    def set_language(self, language: str) -> None:
        """Switch the interface language; the windows are rebuilt in the new language."""
        if language not in i18n.SUPPORTED_LANGUAGES:
            return
        i18n.set_language(language)
        self.qt_translations.apply(language)
        if self.settings.language != language:
            self.settings = self.settings.model_copy(update={"language": language})
            self._save_settings()
        # Rebuilding the windows takes about a second: the busy cursor says so meanwhile.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._rebuild_windows()
        finally:
            QApplication.restoreOverrideCursor()

    def _rebuild_windows(self) -> None:
        if self.main_window is not None:
            old = self.main_window
            self._remember_layout(old)
            case_id = old.current_case_id()
            # The open forms are kept as drafts and reopened in the new language.
            self._forget_window(old)
            old.editors.keep_drafts()
            old.editors.discard_all()
            self._show_main_window()
            new = self.main_window
            new.setGeometry(old.geometry())
            old.close_for_lock()
            old.deleteLater()
            new.raise_()
            new.activateWindow()
            if case_id:
                new.open_case(case_id)
        elif self.unlock_window is not None:
            reason = self.unlock_window.reason_label.text()
            self.show_unlock(reason)

    # --- quit ---------------------------------------------------------------------------------

    def quit(self) -> None:
        self.app.quit()

    def shutdown(self) -> None:
        """On quit: stop tasks, clear the clipboard, lock the profile, remember the layout."""
        if self.main_window is not None:
            self._remember_layout(self.main_window)
        self.idle.stop()
        with contextlib.suppress(RuntimeError, TypeError):
            self.app.applicationStateChanged.disconnect(self._on_application_state)
        if self.lock_manager.is_unlocked:
            self.lock_manager.locked.disconnect(self._on_lock_manager_locked)
            self.lock_manager.lock(REASON_USER)
        else:
            self.runner.stop_all()
            self.clipboard.clear_if_ours()
        if self.main_window is not None:
            self.main_window.close_for_lock()
            self.main_window = None
        if self.unlock_window is not None:
            self.unlock_window.close()
            self.unlock_window = None


def run_desktop(profile: Path | None) -> int:
    """Start the desktop program on ``profile`` (default: FIELDKIT_PROFILE or the user folder)."""
    os.umask(0o077)
    from fieldkit.services.profile import default_profile_path

    profile_path = Path(profile).expanduser() if profile else default_profile_path()
    setup_logging()
    log.info("desktop program starting")
    settings_file = settings_path()
    settings = load_settings(settings_file, language_hint=i18n.current().language)
    explicit = any(a == "--lang" or a.startswith("--lang=") for a in sys.argv[1:])
    if explicit or not settings_file.exists():
        # `fieldkit --lang uk` wins over the saved choice; a first start follows the system.
        settings = settings.model_copy(update={"language": i18n.current().language})
    i18n.set_language(settings.language)

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("fieldkit")
    app.setApplicationDisplayName("fieldkit")
    app.setOrganizationName("fieldkit")
    # The menu entry (packaging/linux) and the window belong together on Wayland and in docks.
    app.setDesktopFileName("org.fieldkit.fieldkit")
    _set_window_icon(app)
    app.setQuitOnLastWindowClosed(True)

    from fieldkit.ui.messages import install_excepthook

    install_excepthook()
    desktop = DesktopApp(app, profile_path, settings, settings_file=settings_file)
    _quit_on_termination(app, desktop)
    desktop.start()
    code = int(app.exec())
    log.info("desktop program stopped")
    return code


def _quit_on_termination(app: QApplication, desktop: DesktopApp) -> None:
    """SIGTERM and SIGINT (log-out, shut-down, Ctrl+C) quit as the Quit command does: locked first.

    Python runs signal handlers only when it gets control, which it does not while Qt waits for
    events; the wake-up socket gives the event loop something to read whenever a signal arrives.
    """
    if os.name == "nt":
        return  # Windows ends a windowed program with a close message, which Qt already handles
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(512)

    notifier.activated.connect(drain)
    for number in (signal.SIGTERM, signal.SIGINT):
        # Quit from the event loop itself, not from inside the notifier's callback.
        signal.signal(number, lambda *_: QTimer.singleShot(0, desktop.quit))
    desktop.termination_watch = (reader, writer, notifier)


def _set_window_icon(app: QApplication) -> None:
    """The program's icon (resources/icons) on every window and in the task bar."""
    from PySide6.QtGui import QIcon

    from fieldkit.domain.errors import FieldkitError
    from fieldkit.resource_files import resource_path

    icon = QIcon()
    try:
        for size in (16, 24, 32, 48, 64, 128, 256):
            icon.addFile(str(resource_path("icons", f"fieldkit-{size}.png")))
    except FieldkitError:
        return  # without its resources the program has bigger problems, reported elsewhere
    app.setWindowIcon(icon)

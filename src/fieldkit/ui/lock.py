"""Locking: after a set idle time, when the screen locks or the machine sleeps, or on request.

* :class:`IdleWatcher` is an application-wide event filter: any key, click, wheel or touch counts
  as activity; after ``timeout`` without any, it emits ``idle``.
* :class:`ScreenLockListener` listens on D-Bus for the screen saver and login1 signals that Linux
  desktops send (org.freedesktop.ScreenSaver and org.gnome.ScreenSaver ``ActiveChanged(true)``,
  login1 ``Session.Lock`` and ``Manager.PrepareForSleep(true)``). Where there is no D-Bus (macOS,
  Windows, a bare session) only the idle timer and the Lock action remain; ``sources`` says what
  is being listened to.
* :class:`LockManager` runs the lock sequence, in this order: cancel running tasks and wait for
  them, close every dialog, clear the clipboard if it holds our text, empty the models (the
  ``on_lock`` callbacks), lock the vault (dispose of the engine, drop the keys), then emit
  ``locked`` so the unlock screen is shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
        QEvent.Type.Shortcut,
    }
)

# Reasons for a lock (not user text; the unlock window words them).
REASON_IDLE = "idle"
REASON_SCREEN = "screen"
REASON_SLEEP = "sleep"
REASON_USER = "user"
REASON_PASSPHRASE = "passphrase"
REASON_ERASE = "erase"


class IdleWatcher(QObject):
    """Emits ``idle`` once after ``timeout_ms`` without user input; re-armed by :meth:`start`.

    Emits:
        idle(): the user has been away for the whole timeout.
    """

    idle = Signal()

    def __init__(
        self,
        timeout_ms: int,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        # The clock is injectable so a test decides when time passes, not the machine's load.
        self._clock = clock
        self._timeout_s = timeout_ms / 1000
        self._last = clock()
        self._active = False
        self._check = QTimer(self)
        self._check.timeout.connect(self._on_check_timeout)
        self._set_check_interval()

    def _set_check_interval(self) -> None:
        # Checking a clock is cheaper than restarting a timer on every mouse move.
        self._check.setInterval(max(20, min(1000, int(self._timeout_s * 1000 / 4))))

    @property
    def timeout_ms(self) -> int:
        return int(self._timeout_s * 1000)

    def set_timeout_ms(self, timeout_ms: int) -> None:
        self._timeout_s = timeout_ms / 1000
        self._set_check_interval()

    def start(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._active:
            app.installEventFilter(self)
        self._active = True
        self._last = self._clock()
        self._check.start()

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None and self._active:
            app.removeEventFilter(self)
        self._active = False
        self._check.stop()

    def touch(self) -> None:
        self._last = self._clock()

    def idle_for_s(self) -> float:
        return self._clock() - self._last

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS:
            self._last = self._clock()
        return False

    def _on_check_timeout(self) -> None:
        if self._active and self._clock() - self._last >= self._timeout_s:
            self._check.stop()
            self._active = False
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self.idle.emit()


class ScreenLockListener(QObject):
    """Turns desktop D-Bus signals into ``screen_locked(reason)``.

    Emits:
        screen_locked(str reason): REASON_SCREEN or REASON_SLEEP.
    """

    screen_locked = Signal(str)

    def __init__(
        self,
        session_bus: Any | None = None,
        system_bus: Any | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session_bus = session_bus
        self._system_bus = system_bus
        self.sources: list[str] = []

    def start(self) -> list[str]:
        """Connect to what is available; returns the names of the signals listened to."""
        try:
            from PySide6.QtCore import SLOT
            from PySide6.QtDBus import QDBusConnection
        except ImportError:  # a Qt build without D-Bus
            return []
        session = self._session_bus or QDBusConnection.sessionBus()
        system = self._system_bus or QDBusConnection.systemBus()
        wanted = [
            (session, "org.freedesktop.ScreenSaver", "ActiveChanged", "_on_active_changed(bool)"),
            (session, "org.gnome.ScreenSaver", "ActiveChanged", "_on_active_changed(bool)"),
            (session, "org.mate.ScreenSaver", "ActiveChanged", "_on_active_changed(bool)"),
            (system, "org.freedesktop.login1.Session", "Lock", "_on_session_lock()"),
            (system, "org.freedesktop.login1.Manager", "PrepareForSleep", "_on_sleep(bool)"),
        ]
        for bus, interface, name, slot in wanted:
            if not bus.isConnected():
                continue
            # PySide6 takes the SLOT() string here, whatever its type stubs say.
            if bus.connect("", "", interface, name, self, SLOT(slot)):  # type: ignore[call-overload]
                self.sources.append(f"{interface}.{name}")
        log.info("listening for screen lock on %d D-Bus signal(s)", len(self.sources))
        return list(self.sources)

    @Slot(bool)
    def _on_active_changed(self, active: bool) -> None:
        if active:
            self.screen_locked.emit(REASON_SCREEN)

    @Slot()
    def _on_session_lock(self) -> None:
        self.screen_locked.emit(REASON_SCREEN)

    @Slot(bool)
    def _on_sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:
            self.screen_locked.emit(REASON_SLEEP)


class LockManager(QObject):
    """Runs the lock sequence once per unlocked session.

    Emits:
        locked(str reason): the vault is locked; show the unlock screen.
    """

    locked = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._clipboard = clipboard
        self._vault: Any = None
        self._on_lock: list[Callable[[], None]] = []
        self._before_lock: list[Callable[[], None]] = []
        self._locking = False

    @property
    def is_unlocked(self) -> bool:
        return self._vault is not None

    def set_vault(self, vault: Any) -> None:
        self._vault = vault

    def add_on_lock(
        self, callback: Callable[[], None], owner: QObject | None = None, *, before: bool = False
    ) -> None:
        """Something to empty on lock (models, caches, previews); ``before``: something to do
        first, while the profile is still open and the windows still hold their entries (the
        drafts are written then). When ``owner`` is destroyed its callbacks are forgotten."""
        (self._before_lock if before else self._on_lock).append(callback)
        if owner is not None:
            owner.destroyed.connect(lambda _obj=None, cb=callback: self.forget(cb))

    def forget(self, callback: Callable[[], None]) -> None:
        """Drop a callback (its window is gone)."""
        for callbacks in (self._before_lock, self._on_lock):
            while callback in callbacks:
                callbacks.remove(callback)

    def lock(self, reason: str = REASON_USER) -> bool:
        """Lock now; returns False when nothing was unlocked."""
        if self._vault is None or self._locking:
            return False
        self._locking = True
        try:
            for callback in list(self._before_lock):
                try:
                    callback()
                except Exception as exc:  # keep locking whatever a view does
                    log.error("before-lock step failed: %s", type(exc).__name__)
            self._before_lock.clear()
            self._runner.stop_all()
            dialogs.close_all()
            self._clipboard.clear_if_ours()
            for callback in list(self._on_lock):
                try:
                    callback()
                except Exception as exc:  # keep locking whatever a view does
                    log.error("on-lock step failed: %s", type(exc).__name__)
            self._on_lock.clear()
            vault, self._vault = self._vault, None
            vault.lock()
            log.info("profile locked (%s)", reason)
        finally:
            self._locking = False
        self.locked.emit(reason)
        return True

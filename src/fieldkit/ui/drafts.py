"""Drafts of open editors: what a person types is kept inside the encrypted profile as they type.

:class:`DraftKeeper` watches the editors of a :class:`~fieldkit.ui.editing.RecordEditorHost`. A few
seconds after the last change (``TIME_DRAFT_DELAY_MS``) the editor's entries are read on the GUI
thread (cheap: the widgets' values, no serialisation) and handed to one worker thread, which
encodes them and writes them through :class:`~fieldkit.services.drafts.DraftService`; the GUI never
waits for the database. The hand-over coalesces: while a draft of an editor waits for the worker,
a newer one of the same editor replaces it, so only the newest is written, and a discard drops a
waiting draft. The jobs keep their order (a save that clears a draft can never be overtaken by an
older draft write). Before a lock, :meth:`flush` takes every editor's entries and waits until they
are written, while the profile is still open. Nothing is written anywhere else.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

# How long after the last keystroke a draft is written.
TIME_DRAFT_DELAY_MS = 2000
# How long a lock waits for the pending draft writes.
TIME_FLUSH_S = 10.0


def new_draft_key() -> str:
    return str(uuid.uuid4())


class DraftKeeper(QObject):
    """Debounced, coalesced, ordered draft writes for a set of editor windows.

    ``snapshot(dialog)`` gives the :class:`Draft` of a window's editor (or None when there is
    nothing to keep). Writes run on a single worker thread, in the order they were asked for;
    of the drafts of one window waiting for the worker only the newest is written.
    """

    def __init__(
        self,
        vault: Any,
        snapshot: Callable[[Any], Any],
        parent: QObject | None = None,
        *,
        delay_ms: int = TIME_DRAFT_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        from fieldkit.services.drafts import DraftService

        self._service = DraftService(vault)
        self._snapshot = snapshot
        self._delay_ms = delay_ms
        self._timers: dict[str, QTimer] = {}
        self._dialogs: dict[str, Any] = {}
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="drafts"
        )
        self._pending: list[Future[Any]] = []
        # Drafts handed over but not yet taken by the worker, by window (the newest only).
        self._waiting: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.asked = 0  # drafts handed to the worker (for tests and the benchmark)
        self.writes = 0  # drafts written

    @property
    def service(self) -> Any:
        return self._service

    # --- watching -----------------------------------------------------------------------------

    def watch(self, key: str, dialog: Any) -> None:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(self._delay_ms)
        timer.timeout.connect(lambda k=key: self.save_now(k))
        self._timers[key] = timer
        self._dialogs[key] = dialog

    def touched(self, key: str) -> None:
        """The editor ``key`` changed: write its draft once typing pauses."""
        timer = self._timers.get(key)
        if timer is not None:
            timer.start()

    def forget(self, key: str, *, discard: bool) -> None:
        """The window ``key`` is gone; ``discard`` also deletes its draft (saved or discarded)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        self._dialogs.pop(key, None)
        if discard:
            self._drop_waiting(key)
            self._submit(self._service.discard, key)

    def discard(self, key: str) -> None:
        """Delete the draft ``key`` (after the writes already asked for)."""
        timer = self._timers.get(key)
        if timer is not None:
            timer.stop()
        self._drop_waiting(key)
        self._submit(self._service.discard, key)

    # --- writing ------------------------------------------------------------------------------

    def save_now(self, key: str) -> bool:
        """Hand the draft of window ``key`` to the worker now; False if there is nothing to keep.

        When an older draft of the same window still waits, it is replaced (only the newest is
        written)."""
        timer = self._timers.get(key)
        if timer is not None:
            timer.stop()
        dialog = self._dialogs.get(key)
        if dialog is None:
            return False
        try:
            draft = self._snapshot(dialog)
        except RuntimeError:  # the window was deleted meanwhile
            return False
        if draft is None:
            return False
        self.asked += 1
        with self._lock:
            waiting = key in self._waiting
            self._waiting[key] = draft
        if not waiting:
            self._submit(self._write_waiting, key)
        return True

    def _write_waiting(self, key: str) -> None:
        with self._lock:
            draft = self._waiting.pop(key, None)
        if draft is None:  # discarded meanwhile
            return
        self._service.save(draft)
        self.writes += 1

    def _drop_waiting(self, key: str) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._executor is None:
            return
        future = self._executor.submit(fn, *args)
        future.add_done_callback(_log_failure)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(future)

    @property
    def busy(self) -> bool:
        """Whether a write or a discard asked for has not finished yet."""
        return any(not f.done() for f in self._pending)

    def save_pending(self) -> int:
        """Hand every draft whose typing pause is still running to the worker now, without
        waiting for the writes (the program went to the background or the screen locked)."""
        pending = [key for key, timer in self._timers.items() if timer.isActive()]
        return sum(1 for key in pending if self.save_now(key))

    def set_delay_ms(self, delay_ms: int) -> None:
        """The pause after the last change before a draft is written (every window)."""
        self._delay_ms = delay_ms
        for timer in self._timers.values():
            timer.setInterval(delay_ms)

    def flush(self) -> None:
        """Write every editor's draft now and wait for all writes (before a lock)."""
        for key in list(self._dialogs):
            self.save_now(key)
        self.wait()

    def wait(self, timeout_s: float = TIME_FLUSH_S) -> None:
        """Wait for the writes asked for so far."""
        for future in list(self._pending):
            try:
                future.result(timeout=timeout_s)
            except Exception as exc:  # logged by _log_failure; locking goes on
                log.debug("draft write failed: %s", type(exc).__name__)
        self._pending = [f for f in self._pending if not f.done()]

    def stop(self) -> None:
        """Stop watching and shut the worker down (pending writes finish first)."""
        for timer in self._timers.values():
            timer.stop()
        self._timers.clear()
        self._dialogs.clear()
        if self._executor is not None:
            self.wait()
            self._executor.shutdown(wait=True)
            self._executor = None


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("draft write failed: %s", type(exc).__name__)

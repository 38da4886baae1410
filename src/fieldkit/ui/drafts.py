"""Drafts of open editors: what a person types is kept inside the encrypted profile as they type.

:class:`DraftKeeper` watches the editors of a :class:`~fieldkit.ui.editing.RecordEditorHost`. A few
seconds after the last change (``TIME_DRAFT_DELAY_MS``) the editor's entries are read on the GUI
thread (cheap) and written by :class:`~fieldkit.services.drafts.DraftService` on one worker thread,
so the GUI never waits for the database and the writes keep their order (a save that clears a
draft can never be overtaken by an older draft write). Before a lock, :meth:`flush` writes what is
pending and waits for it, while the profile is still open. Nothing is written anywhere else.
"""

from __future__ import annotations

import logging
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
    """Debounced, ordered draft writes for a set of editor windows.

    ``snapshot(dialog)`` gives the :class:`Draft` of a window's editor (or None when there is
    nothing to keep). Writes run on a single worker thread, in the order they were asked for.
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
        self.writes = 0  # drafts written (for tests and the benchmark)

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
            self._submit(self._service.discard, key)

    def discard(self, key: str) -> None:
        """Delete the draft ``key`` (after the writes already asked for)."""
        timer = self._timers.get(key)
        if timer is not None:
            timer.stop()
        self._submit(self._service.discard, key)

    # --- writing ------------------------------------------------------------------------------

    def save_now(self, key: str) -> bool:
        """Queue the draft of window ``key`` for writing now; False if there is nothing to keep."""
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
        self._submit(self._write, draft)
        return True

    def _write(self, draft: Any) -> None:
        self._service.save(draft)
        self.writes += 1

    def _submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._executor is None:
            return
        future = self._executor.submit(fn, *args)
        future.add_done_callback(_log_failure)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(future)

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

"""The single path into background threads for the desktop program.

Services are synchronous and take ``progress`` and ``cancel`` keyword arguments; a :class:`Task`
runs one such call on a pool thread and reports back through :class:`TaskSignals`, which Qt
delivers on the GUI thread (queued connections). ``run()`` never touches a widget.

A :class:`TaskRunner` owns the thread pool and keeps a reference to every running task so that a
lock or quit can cancel them all and wait for them to stop.

Usage::

    task = Task(service.add, path, case_id=case_id)        # progress/cancel passed as keywords
    task.signals.progress.connect(self._on_intake_progress)
    task.signals.succeeded.connect(self._on_intake_succeeded)
    task.signals.failed.connect(self._on_intake_failed)
    runner.start(task)
    ...
    task.cancel.cancel()          # cooperative: the service stops between chunks

A function that does not take ``progress``/``cancel`` is wrapped with ``Task(fn, ..., plain=True)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from fieldkit.domain.progress import CancelToken

log = logging.getLogger(__name__)

# How long a lock or quit waits for cancelled tasks to return before going on.
TIME_WAIT_ON_STOP_MS = 2000
# Progress signals are throttled so a fast loop cannot flood the GUI thread's event queue.
PROGRESS_MIN_INTERVAL_S = 0.05


class TaskSignals(QObject):
    """Signals of one task; they are emitted from the pool thread and delivered on the GUI thread.

    Emits:
        progress(int done, int total, str stage): throttled; ``total`` is 0 when unknown.
        succeeded(object result): the return value of the function.
        failed(object exception): the exception raised (a FieldkitError for expected failures).
        finished(): always, last, after succeeded or failed.
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class Task(QRunnable):
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` on a pool thread."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        plain: bool = False,
        name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner (and the caller) keep the Python object alive
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.plain = plain
        self.name = name or getattr(fn, "__qualname__", "task")
        self.signals = TaskSignals()
        self.cancel = CancelToken()
        self.result: Any = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._last_progress = 0.0
        self._last_stage = ""

    @property
    def is_done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block the calling thread until the task has finished (for tests and shutdown)."""
        return self._done.wait(timeout_s)

    def _progress(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        final = total > 0 and done >= total
        if (
            not final
            and stage == self._last_stage
            and now - self._last_progress < PROGRESS_MIN_INTERVAL_S
        ):
            return
        self._last_progress = now
        self._last_stage = stage
        # Qt signals take C ints; clamp so a byte count above 2 GiB cannot overflow them.
        if total > 0x7FFFFFFF:
            scale = total / 0x7FFFFFFF
            done, total = int(done / scale), 0x7FFFFFFF
        self.signals.progress.emit(min(done, 0x7FFFFFFF), total, stage)

    def run(self) -> None:  # runs on a pool thread; never touches widgets
        try:
            # Cancelled while still queued (a lock came first): do not start at all.
            self.cancel.raise_if_cancelled()
            if self.plain:
                self.result = self.fn(*self.args, **self.kwargs)
            else:
                self.result = self.fn(
                    *self.args, progress=self._progress, cancel=self.cancel, **self.kwargs
                )
        except BaseException as exc:
            self.error = exc
            if not isinstance(exc, Exception):
                log.error("task %s stopped by %s", self.name, type(exc).__name__)
            else:
                # Only the type: the text may quote record content.
                log.debug("task %s failed: %s", self.name, type(exc).__name__)
            self._emit_safely(self.signals.failed, exc)
        else:
            self._emit_safely(self.signals.succeeded, self.result)
        finally:
            self._done.set()
            self._emit_safely(self.signals.finished)

    @staticmethod
    def _emit_safely(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            # The receiver (and the signals object) were deleted after a lock; nothing to tell.
            log.debug("task signal dropped after shutdown")


class TaskRunner(QObject):
    """Owns the thread pool; cancels and waits for every running task on lock or quit.

    Emits:
        busy_changed(bool): True when the first task starts, False when the last one ends.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        if max_threads is not None:
            self._pool.setMaxThreadCount(max_threads)
        self._running: list[Task] = []

    @property
    def running(self) -> tuple[Task, ...]:
        return tuple(self._running)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def start(self, task: Task) -> Task:
        was_busy = self.busy
        self._running.append(task)
        task.signals.finished.connect(lambda t=task: self._on_task_finished(t))
        self._pool.start(task)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Shorthand: build a Task and start it."""
        return self.start(Task(fn, *args, **kwargs))

    def _on_task_finished(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
            if not self._running:
                self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel.cancel()

    def stop_all(self, wait_ms: int = TIME_WAIT_ON_STOP_MS) -> bool:
        """Cancel every task and wait for the pool; True when every task has returned."""
        self.cancel_all()
        done = self._pool.waitForDone(wait_ms)
        if not done:
            log.error("background tasks did not stop within %d ms", wait_ms)
        return bool(done)

    def wait_idle(self, timeout_ms: int = 30000) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

"""The background task runner: results, failures, progress, cancellation and shutdown."""

from __future__ import annotations

import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.ui.tasks import Task, TaskRunner


def _count(n: int, *, progress: ProgressFn, cancel: CancelToken, delay: float = 0.0) -> int:
    for i in range(n):
        cancel.raise_if_cancelled()
        progress(i + 1, n, "counting")
        if delay:
            time.sleep(delay)
    return n


def test_task_runs_synchronously_and_reports(qtbot: QtBot) -> None:
    task = Task(_count, 5)
    seen: list[tuple[int, int, str]] = []
    task.signals.progress.connect(lambda d, t, s: seen.append((d, t, s)))
    results: list[object] = []
    task.signals.succeeded.connect(results.append)
    task.run()
    assert results == [5]
    assert task.result == 5
    assert task.is_done
    # Throttled, but the final step is always reported.
    assert seen[-1] == (5, 5, "counting")


def test_runner_delivers_result_on_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    gui_thread = threading.current_thread()
    where: list[threading.Thread] = []
    task = Task(_count, 3)
    task.signals.succeeded.connect(lambda _r: where.append(threading.current_thread()))
    with qtbot.waitSignal(task.signals.finished, timeout=5000):
        runner.start(task)
    assert task.result == 3
    assert where == [gui_thread]
    qtbot.waitUntil(lambda: not runner.busy, timeout=2000)


def test_failure_carries_the_exception(qtbot: QtBot) -> None:
    def boom(*, progress: ProgressFn, cancel: CancelToken) -> None:
        raise FieldkitError(ErrorCode.NOT_FOUND, what="W-017")

    runner = TaskRunner()
    task = Task(boom)
    with qtbot.waitSignal(task.signals.failed, timeout=5000) as blocker:
        runner.start(task)
    exc = blocker.args[0]
    assert isinstance(exc, FieldkitError)
    assert exc.code is ErrorCode.NOT_FOUND


def test_plain_function_gets_no_progress_arguments(qtbot: QtBot) -> None:
    task = Task(lambda a, b: a + b, 2, 3, plain=True)
    task.run()
    assert task.result == 5
    assert task.error is None


def test_stop_all_cancels_running_tasks(qtbot: QtBot) -> None:
    runner = TaskRunner()
    started = threading.Event()

    def slow(*, progress: ProgressFn, cancel: CancelToken) -> str:
        started.set()
        for _ in range(1000):
            cancel.raise_if_cancelled()
            time.sleep(0.01)
        return "not cancelled"

    task = runner.run(slow)
    busy_changes: list[bool] = []
    runner.busy_changed.connect(busy_changes.append)
    assert started.wait(5)
    t0 = time.monotonic()
    assert runner.stop_all(wait_ms=3000)
    assert time.monotonic() - t0 < 1.0
    assert isinstance(task.error, FieldkitError)
    assert task.error.code is ErrorCode.CANCELLED
    qtbot.waitUntil(lambda: not runner.busy, timeout=2000)
    assert busy_changes == [False]


def test_large_byte_counts_do_not_overflow_signal(qtbot: QtBot) -> None:
    big = 5 * 1024**3

    def fn(*, progress: ProgressFn, cancel: CancelToken) -> None:
        progress(big // 2, big, "hashing")
        progress(big, big, "hashing")

    task = Task(fn)
    seen: list[tuple[int, int]] = []
    task.signals.progress.connect(lambda d, t, _s: seen.append((d, t)))
    task.run()
    assert seen[-1][0] == seen[-1][1] == 0x7FFFFFFF
    assert 0.45 < seen[0][0] / seen[0][1] < 0.55


@pytest.mark.parametrize("n", [0, 1])
def test_busy_flag_follows_tasks(qtbot: QtBot, n: int) -> None:
    runner = TaskRunner()
    with qtbot.waitSignal(runner.busy_changed, timeout=5000) as blocker:
        runner.run(_count, n)
    assert blocker.args == [True]
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)


def test_a_task_cancelled_before_it_starts_never_runs(qtbot: QtBot) -> None:
    ran: list[bool] = []
    task = Task(lambda: ran.append(True), plain=True)
    task.cancel.cancel()
    task.run()
    assert ran == []
    assert isinstance(task.error, FieldkitError)
    assert task.error.code is ErrorCode.CANCELLED
    assert task.is_done

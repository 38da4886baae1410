"""Progress reporting and cooperative cancellation shared by every slow service.

The Qt-free layers report progress through a plain callback and stop when a token is set, so the
same service runs under a progress bar in the desktop program and under the command line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fieldkit.domain.errors import ErrorCode, FieldkitError

# done, total (0 when unknown), and a short stage name that is not user text (e.g. "hashing").
ProgressFn = Callable[[int, int, str], None]


def no_progress(done: int, total: int, stage: str) -> None:
    """A progress callback that ignores everything."""


class CancelToken:
    """Set from any thread; checked by the worker between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking at once on cancel; True when cancelled."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise FieldkitError(ErrorCode.CANCELLED)


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()

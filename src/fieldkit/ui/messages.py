"""What the user reads when something goes wrong.

Expected failures are :class:`FieldkitError`; their one message table lives in
``fieldkit.domain.errors.MESSAGES`` and is translated here with the current interface language.
Anything else is an internal error: it is logged by type only (its text may quote record content)
and shown with a neutral message.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QWidget

from fieldkit import i18n
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _
from fieldkit.ui import dialogs

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> str:
    """One readable sentence for an exception, in the current language."""
    if isinstance(exc, FieldkitError):
        return exc.message(i18n.current())
    if isinstance(exc, MemoryError):
        return _("The computer ran out of memory; close other programs and try again.")
    if isinstance(exc, OSError):
        # The OS message names a path the user chose and a reason; it carries no record content.
        reason = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        return _("A file operation failed{where}: {reason}").format(where=where, reason=reason)
    return _("Unexpected internal error ({kind}). Nothing was saved by the failed step.").format(
        kind=type(exc).__name__
    )


def is_cancelled(exc: BaseException) -> bool:
    return isinstance(exc, FieldkitError) and exc.code is ErrorCode.CANCELLED


def show_error(parent: QWidget | None, exc: BaseException, title: str | None = None) -> None:
    """A modal error message (through the dialog seam)."""
    if not isinstance(exc, FieldkitError):
        log.error("unexpected error shown to the user: %s", type(exc).__name__)
    dialogs.error(parent, title or _("Error"), error_text(exc))


def install_excepthook() -> None:
    """Unexpected errors in slots are logged (type and frames only, no values) and shown."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        frames = "".join(traceback.format_tb(tb)) if tb else ""
        log.error("unhandled %s", kind.__name__)
        log.debug("unhandled %s at\n%s", kind.__name__, frames)
        try:
            show_error(None, exc, _("Unexpected error"))
        except Exception:  # never recurse inside the hook
            log.exception("could not show the error dialog")

    sys.excepthook = hook

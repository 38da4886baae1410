"""A lazily filled table model over a paged source (records list, search results).

Rows are fetched a page at a time as the view scrolls (``canFetchMore``/``fetchMore``), so a list
of 100,000 cases opens with one page and scrolls smoothly. The source filters in SQL; there is no
proxy model. Every text is shown as plain text by the views (no rich text from records).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Protocol, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from fieldkit.i18n import N_, _
from fieldkit.ui.common import language, short_type_name

log = logging.getLogger(__name__)

PAGE_SIZE: Final = 200
IdRole: Final = Qt.ItemDataRole.UserRole + 1
RowRole: Final = Qt.ItemDataRole.UserRole + 2

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class RecordRow:
    """What a list shows of one record; built from a RecordView or a SearchHit."""

    id: str
    type: str
    title: str
    status: str | None
    date_from: str | None
    date_to: str | None
    updated_at: str
    confidential: bool
    revision: int
    snippet: str = ""
    case: str = ""


# Rows are kept as plain tuples of strings, numbers and None: the garbage collector stops tracking
# such tuples, so 100,000 loaded rows do not make its full passes (and the GUI) stall.
_FIELDS = tuple(f.name for f in fields(RecordRow))
(_ID, _TYPE, _TITLE, _STATUS, _FROM, _TO, _UPDATED, _CONF, _REV, _SNIPPET, _CASE) = range(
    len(_FIELDS)
)


def _as_tuple(row: RecordRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in _FIELDS)


class PagedSource(Protocol):
    """Where the rows come from; the model calls it on the GUI thread, one page at a time."""

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> Sequence[RecordRow]: ...


class RecordTableModel(QAbstractTableModel):
    """Lazy list of records.

    Emits:
        load_failed(object exception): a page could not be read (the profile was locked, ...).
    """

    COL_TITLE, COL_STATUS, COL_DATES, COL_UPDATED, COL_CONFIDENTIAL = range(5)
    # Shown with search results: what kind of record, its case, the matching words in context.
    COL_TYPE, COL_CASE, COL_MATCH = range(5, 8)
    _HEADERS = (
        N_("Title"),
        N_("State"),
        N_("Dates"),
        N_("Updated"),
        N_("Confidential"),
        N_("Type"),
        N_("Case"),
        N_("Found"),
    )

    load_failed = Signal(object)
    loading_changed = Signal(bool)
    source_loaded = Signal()

    def __init__(
        self,
        source: PagedSource | None = None,
        *,
        page_size: int = PAGE_SIZE,
        status_label: Callable[[str, str], str] | None = None,
        runner: Any = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._rows: list[tuple[Any, ...]] = []
        self._total = 0
        self._page_size = page_size
        # (record type, status code) -> the label shown
        self._status_label = status_label or (lambda _type, code: code)
        self._exhausted = False
        # With a TaskRunner, counts and pages are read on a pool thread and the GUI thread only
        # inserts the rows; without one (tests, small lists) they are read in place.
        self._runner = runner
        self._pending: Any = None
        if source is not None:
            self.set_source(source)

    # --- loading ------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._pending is not None

    def _set_pending(self, task: Any) -> None:
        was = self._pending is not None
        self._pending = task
        if was != (task is not None):
            self.loading_changed.emit(task is not None)

    def set_source(self, source: PagedSource | None) -> None:
        """Replace the source (new search or filter). The count and the first page arrive in one
        model reset: at once without a runner, from a background task with one."""
        self._set_pending(None)  # any page still in flight belongs to the old source
        if self._runner is not None and source is not None:
            self.beginResetModel()
            self._source = source
            self._rows = []
            self._total = 0
            self._exhausted = False
            self.endResetModel()
            from fieldkit.ui.tasks import Task

            task = Task(_first_page, source, self._page_size, plain=True, name="list-first")
            task.signals.succeeded.connect(self._on_first_page_succeeded)
            task.signals.failed.connect(self._on_page_failed)
            self._set_pending(task)
            self._runner.start(task)
            return
        error: BaseException | None = None
        self.beginResetModel()
        self._source = source
        self._rows = []
        self._exhausted = source is None
        self._total = 0
        if source is not None:
            try:
                self._total, first = _first_page(source, self._page_size)
                self._rows = [_as_tuple(row) for row in first]
                if len(first) < min(self._page_size, self._total):
                    self._exhausted = True
            except Exception as exc:
                self._exhausted = True
                self._rows = []
                error = exc
        self.endResetModel()
        if error is not None:
            self.load_failed.emit(error)
        elif source is not None:
            self.source_loaded.emit()

    def _is_current(self) -> bool:
        sender = self.sender()
        pending = self._pending
        return pending is not None and sender is pending.signals

    def _on_first_page_succeeded(self, result: object) -> None:
        if not self._is_current():
            return  # a newer source replaced this one meanwhile
        self._set_pending(None)
        total, first = cast(tuple[int, list[RecordRow]], result)
        self.beginResetModel()
        self._total = int(total)
        self._rows = [_as_tuple(row) for row in first]
        self._exhausted = len(first) < min(self._page_size, self._total)
        self.endResetModel()
        self.source_loaded.emit()

    def _on_page_failed(self, exc: object) -> None:
        if not self._is_current():
            return
        self._set_pending(None)
        self._exhausted = True
        self.load_failed.emit(exc)

    def refresh(self) -> None:
        self.set_source(self._source)

    def clear(self) -> None:
        """Drop every row (on lock)."""
        self.set_source(None)

    @property
    def total(self) -> int:
        """Rows the source has (the view may have loaded fewer so far)."""
        return self._total

    @property
    def loaded(self) -> int:
        return len(self._rows)

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self._source is None or self._exhausted:
            return False
        if self._pending is not None:
            return False
        return len(self._rows) < self._total

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        assert self._source is not None
        offset = len(self._rows)
        limit = min(self._page_size, self._total - offset)
        if self._runner is not None:
            from fieldkit.ui.tasks import Task

            task = Task(self._source.page, offset, limit, plain=True, name="list-page")
            task.signals.succeeded.connect(self._on_page_succeeded)
            task.signals.failed.connect(self._on_page_failed)
            self._set_pending(task)
            self._runner.start(task)
            return
        try:
            page = list(self._source.page(offset, limit))
        except Exception as exc:
            self._exhausted = True
            self.load_failed.emit(exc)
            return
        self._append(page, limit)

    def _on_page_succeeded(self, result: object) -> None:
        if not self._is_current():
            return
        task = self._pending
        self._set_pending(None)
        self._append(list(result), int(task.args[1]))  # type: ignore[call-overload]

    def _append(self, page: list[RecordRow], limit: int) -> None:
        if not page:
            # The source shrank since it was counted; stop asking.
            self._exhausted = True
            return
        offset = len(self._rows)
        self.beginInsertRows(QModelIndex(), offset, offset + len(page) - 1)
        self._rows.extend(_as_tuple(row) for row in page)
        self.endInsertRows()
        if len(page) < limit:
            self._exhausted = True

    def wait_loaded(self, timeout_s: float = 30.0) -> bool:
        """Block until no page is in flight, delivering the results (tests and scripts)."""
        import time

        from PySide6.QtCore import QCoreApplication

        end = time.monotonic() + timeout_s
        while self._pending is not None:
            if time.monotonic() > end:
                return False
            QCoreApplication.processEvents()
            time.sleep(0.002)
        return True

    def fetch_all_to(self, row: int) -> None:
        """Load pages until ``row`` is loaded (tests, keyboard End)."""
        self.wait_loaded()
        while row >= len(self._rows) and self.canFetchMore():
            self.fetchMore()
            self.wait_loaded()

    # --- model interface ----------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._HEADERS):
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return _(self._HEADERS[section])
        if role == Qt.ItemDataRole.DisplayRole:
            if section == self.COL_CONFIDENTIAL:
                # The whole word is wider than its column in Ukrainian and Russian; the title
                # column needs the room on a small screen (the tooltip has the word).
                return _("Conf.")
            return _(self._HEADERS[section])
        return None

    def row_at(self, row: int) -> RecordRow | None:
        return RecordRow(*self._rows[row]) if 0 <= row < len(self._rows) else None

    def row_of(self, record_id: str) -> int:
        for i, row in enumerate(self._rows):
            if row[_ID] == record_id:
                return i
        return -1

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == IdRole:
            return row[_ID]
        if role == RowRole:
            return RecordRow(*row)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == self.COL_TITLE:
                if role == Qt.ItemDataRole.ToolTipRole and row[_SNIPPET]:
                    return row[_SNIPPET]
                return row[_TITLE] or _("(untitled)")
            if col == self.COL_STATUS:
                return self._status_label(row[_TYPE], row[_STATUS]) if row[_STATUS] else ""
            if col == self.COL_DATES:
                return _date_range(row[_FROM], row[_TO])
            if col == self.COL_UPDATED:
                # The date only, so the title keeps the room on a small screen; the time is in
                # the tooltip.
                if role == Qt.ItemDataRole.ToolTipRole:
                    return _short_time(row[_UPDATED])
                return row[_UPDATED][:10] if row[_UPDATED] else ""
            if col == self.COL_CONFIDENTIAL:
                return _("confidential") if row[_CONF] else ""
            if col == self.COL_TYPE:
                return _type_label(row[_TYPE], language())
            if col == self.COL_CASE:
                return row[_CASE]
            if col == self.COL_MATCH:
                return row[_SNIPPET]
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == self.COL_CONFIDENTIAL:
            return QBrush(QColor("#b00020")) if row[_CONF] else None
        if role == Qt.ItemDataRole.AccessibleTextRole and col == self.COL_TITLE:
            return row[_TITLE]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _first_page(source: PagedSource, page_size: int) -> tuple[int, list[RecordRow]]:
    total = source.count()
    first = list(source.page(0, min(page_size, total))) if total else []
    return total, first


@functools.lru_cache(maxsize=64)
def _type_label(form_id: str, _language: str) -> str:
    # The short name ("Visit", not "Visit to a place of detention"): the title keeps the room on a
    # small screen. Per language: the windows outlive no language switch, the cache does.
    return short_type_name(form_id)


def _date_range(start: str | None, end: str | None) -> str:
    if start and end and start != end:
        return f"{start} – {end}"
    return start or end or ""


def _short_time(iso: str) -> str:
    # "2026-11-21T12:18:50+00:00" -> "2026-11-21 12:18"
    return iso[:16].replace("T", " ") if iso else ""

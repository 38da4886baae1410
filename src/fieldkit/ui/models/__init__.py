"""Item models of the desktop program."""

from fieldkit.ui.models.lazy_table import IdRole, PagedSource, RecordRow, RecordTableModel, RowRole

__all__ = ["IdRole", "PagedSource", "RecordRow", "RecordTableModel", "RowRole"]

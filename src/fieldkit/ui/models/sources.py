"""Paged sources for :class:`RecordTableModel`: the records list and full-text search.

They call services only (one unit of work per call) and turn their frozen views into rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fieldkit.ui.models.lazy_table import RecordRow


def row_from_view(view: Any) -> RecordRow:
    """A RecordView (services.records) as a list row."""
    return RecordRow(
        id=view.id,
        type=view.type,
        title=view.title,
        status=view.status,
        date_from=view.date_from,
        date_to=view.date_to,
        updated_at=view.updated_at,
        confidential=bool(view.confidential),
        revision=int(view.revision),
    )


def row_from_hit(hit: Any) -> RecordRow:
    """A SearchHit (services.search) as a list row; the snippet is kept for the tooltip."""
    from fieldkit.services.search import highlight

    return RecordRow(
        id=hit.record_id,
        type=hit.type,
        title=hit.title,
        status=hit.status,
        date_from=hit.date_from,
        date_to=hit.date_to,
        updated_at=hit.updated_at,
        confidential=bool(hit.confidential),
        revision=int(hit.revision),
        snippet=highlight(hit.snippet, "«", "»"),
        case=getattr(hit, "case_title", ""),
    )


class RecordListSource:
    """Records of some types, newest first, filtered in SQL."""

    def __init__(self, service: Any, filters: Any = None, order: str = "updated_desc") -> None:
        self._service = service
        self._filters = filters
        self._order = order

    def count(self) -> int:
        return int(self._service.count(self._filters))

    def page(self, offset: int, limit: int) -> Sequence[RecordRow]:
        views = self._service.list_summaries(
            self._filters, offset=offset, limit=limit, order=self._order
        )
        return [row_from_view(v) for v in views]


class SearchSource:
    """Full-text search results, best first."""

    def __init__(self, service: Any, query: str, filters: Any = None) -> None:
        self._service = service
        self._query = query
        self._filters = filters

    def count(self) -> int:
        return int(self._service.count(self._query, self._filters))

    def page(self, offset: int, limit: int) -> Sequence[RecordRow]:
        results = self._service.search(self._query, self._filters, offset=offset, limit=limit)
        return [row_from_hit(h) for h in results.hits]

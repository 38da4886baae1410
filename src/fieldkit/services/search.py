"""Full-text search over records, with the list filters (type, facility, dates, status)."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.storage.search import RecordFilters, SearchHit, SearchIndex
from fieldkit.storage.search_text import MARK_END, MARK_START, highlight
from fieldkit.storage.vault import Vault

__all__ = [
    "MARK_END",
    "MARK_START",
    "RecordFilters",
    "SearchHit",
    "SearchResults",
    "SearchService",
    "highlight",
]


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]
    offset: int
    has_more: bool


class SearchService:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def search(
        self,
        query: str,
        filters: RecordFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
    ) -> SearchResults:
        """Records matching every word of ``query`` (as prefixes), best first.

        Raises SEARCH_QUERY_INVALID when the query holds no word to look for.
        """
        with self._vault.session() as s:
            hits, more = SearchIndex.search(s, query, filters, offset=offset, limit=limit)
        return SearchResults(query=query, hits=tuple(hits), offset=offset, has_more=more)

    def count(self, query: str, filters: RecordFilters | None = None) -> int:
        with self._vault.session() as s:
            return SearchIndex.count(s, query, filters)

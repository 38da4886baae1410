"""Search on a hub ranks and pages as it promises: records with more of the query's words in their
title first, then newest first, page after page, for whole words, prefixes and words longer than
the indexed prefixes, with and without filters.

The hub reads one rank at a time and stops when a page is full; these tests compare every page
with the order worked out here from the records themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.records import CaseService
from fieldkit.services.search import RecordFilters, SearchService
from fieldkit.storage import search as search_storage
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE

# (words in the title, words in the body) of each case, in the order they are made.
PEOPLE = [
    ("камера", "подвал ребра"),
    ("подвал", "камера"),
    ("камера подвал", "наручники"),
    ("тиша", "камера підвал наручники"),
    ("наручники", "камера"),
    ("камера наручники", "ребра"),
    ("ребра", "камерою подвал"),
    ("тиша", "тиша"),
    ("камерою", "наручниками подвал"),
    ("подвал камера", "ребра наручники"),
    ("тиша", "камера"),
    ("наручниками", "подвальний камера"),
    ("камера", "камера"),
    ("тиша", "подвал"),
]

QUERIES = [
    "камера",
    "кам",
    "подвал",
    "камера подвал",
    "наручники",
    "наручник",
    "наручники камера",
    "подвал наручниками",
    "ребра",
    "тиша",
    "нічого",
]


def expected(query: str) -> list[tuple[int, float]]:
    """(index in PEOPLE, rank) of every match, best first."""
    terms = query.split()
    found = []
    for index, (title, body) in enumerate(PEOPLE):
        title_words, every = title.split(), title.split() + body.split()
        if all(any(w.startswith(t) for w in every) for t in terms):
            in_title = sum(any(w.startswith(t) for w in title_words) for t in terms)
            found.append((index, -float(in_title)))
    return sorted(found, key=lambda item: (item[1], -item[0]))


@pytest.fixture
def hub(tmp_path: Path, pg_database: str, fast_kdf: KdfParams) -> tuple[Vault, list[str]]:
    vault = Vault.create(
        tmp_path / "hub", STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=pg_database
    )
    cases = CaseService(vault)
    made = [cases.add(title, extra={"country": body}).id for title, body in PEOPLE]
    return vault, made


@pytest.mark.parametrize("page_size", [1, 3, 50])
@pytest.mark.parametrize("confirm_batch", [2, 200])
def test_every_page_follows_the_rank_then_newest_first(
    hub: tuple[Vault, list[str]],
    page_size: int,
    confirm_batch: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long words are confirmed on the opened text a batch at a time: small batches too.
    monkeypatch.setattr(search_storage, "CONFIRM_BATCH", confirm_batch)
    vault, made = hub
    search = SearchService(vault)
    try:
        for query in QUERIES:
            want = [(made[index], rank) for index, rank in expected(query)]
            got: list[tuple[str, float]] = []
            offset = 0
            while True:
                page = search.search(query, offset=offset, limit=page_size)
                got += [(hit.record_id, hit.rank) for hit in page.hits]
                assert page.has_more == (offset + page_size < len(want)), (query, offset)
                if not page.has_more:
                    break
                offset += page_size
            assert got == want, query
            assert search.count(query) == len(want), query
    finally:
        vault.lock()


def test_a_filter_keeps_the_order_of_what_it_leaves(hub: tuple[Vault, list[str]]) -> None:
    vault, made = hub
    search = SearchService(vault)
    try:
        people = RecordFilters(types=("case",))
        nobody = RecordFilters(types=("facility",))
        for query in ("камера", "наручники камера", "кам"):
            want = [made[index] for index, _rank in expected(query)]
            assert [h.record_id for h in search.search(query, people, limit=50).hits] == want
            assert search.search(query, nobody, limit=50).hits == ()
    finally:
        vault.lock()

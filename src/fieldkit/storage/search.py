"""Full-text search (SQLite FTS5) inside the encrypted database, and the list filters.

The index ``records_fts`` holds each live record's title and searchable text, with rowid equal to
``records.num``; it lives in the SQLCipher file like every other table, and SQLite's temporary
structures stay in memory (``temp_store=MEMORY``, checked by the engine). The index is written in
the same transaction as the record version it reflects.

Text is folded the same way when it is indexed and when it is searched (``search_text.fold_text``).
The tokenizer lowercases and, for Latin script, ignores diacritics (café = cafe); Cyrillic letters
such as й and ї stay distinct.

What a person types is never handed to FTS5 as query syntax: each word becomes a quoted prefix term
and all words must match, so quotes, ``NEAR(``, ``*`` or ``AND`` are just text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import N_, _
from fieldkit.storage import tokens
from fieldkit.storage.sealing import HubKeys, keys_of
from fieldkit.storage.search_text import fold_text, make_snippet, search_terms
from fieldkit.storage.tables.records import FTS_TABLE, RecordLinkRow, RecordRow

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 16
MAX_PAGE = 1000

_WORD_CHAR = re.compile(r"\w")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Order = Literal["updated_desc", "updated_asc", "created_desc", "title"]


def match_expression(query: str) -> str:
    """Turn what a person typed into a safe FTS5 query: every word, as a prefix, must match.

    Raises SEARCH_QUERY_INVALID when nothing searchable is left or the query is too long.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise FieldkitError(
            ErrorCode.SEARCH_QUERY_INVALID,
            reason=_("the query is longer than {limit} characters").format(limit=MAX_QUERY_CHARS),
        )
    terms = [t for t in fold_text(query).split() if _WORD_CHAR.search(t)]
    if not terms:
        raise FieldkitError(
            ErrorCode.SEARCH_QUERY_INVALID, reason=_("type at least one word or number")
        )
    if len(terms) > MAX_QUERY_TERMS:
        raise FieldkitError(
            ErrorCode.SEARCH_QUERY_INVALID,
            reason=_("use at most {limit} words").format(limit=MAX_QUERY_TERMS),
        )
    return " AND ".join('"' + term.replace('"', '""') + '"*' for term in terms)


def _valid_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class RecordFilters:
    """Filters shared by lists and search. Dates are ``YYYY-MM-DD``; a record matches a date range
    when its own range (date_from..date_to) overlaps it."""

    types: tuple[str, ...] = ()
    facility_id: str | None = None
    status: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    confidential: bool | None = None
    include_deleted: bool = False

    def __post_init__(self) -> None:
        for name, what in (
            ("date_from", N_("the start date of the range")),
            ("date_to", N_("the end date of the range")),
        ):
            value = getattr(self, name)
            if value is not None and not _valid_date(value):
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail=_(
                        "{what} must be a date like 2026-03-14 (YYYY-MM-DD), not '{value}'"
                    ).format(what=_(what), value=str(value)[:40]),
                )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("the start of the date range is after its end"),
            )

    def conditions(
        self, source: Any = None, *, indexed_only: bool = False
    ) -> list[ColumnElement[bool]]:
        """The filters as SQL on the columns of ``source`` (the ``records`` table by default).

        ``indexed_only``: for rows found in the full-text index, which holds live records only,
        so the deletion test is not needed.
        """
        c = (source if source is not None else RecordRow.__table__).c
        conds: list[ColumnElement[bool]] = []
        if not self.include_deleted and not indexed_only:
            conds.append(c.deleted.is_(False))
        if self.types:
            conds.append(
                c.type == self.types[0] if len(self.types) == 1 else c.type.in_(self.types)
            )
        if self.facility_id is not None:
            conds.append(c.facility_id == self.facility_id)
        if self.status is not None:
            conds.append(c.status == self.status)
        if self.confidential is not None:
            conds.append(c.confidential.is_(self.confidential))
        # Overlap of [record.date_from, record.date_to or date_from] with [date_from, date_to].
        if self.date_to is not None:
            conds.append(c.date_from <= self.date_to)
        if self.date_from is not None:
            conds.append(func.coalesce(c.date_to, c.date_from) >= self.date_from)
        return conds

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        conds = self.conditions()
        return stmt.where(*conds) if conds else stmt


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    type: str
    title: str
    snippet: str
    """Text around the match from the folded index; matched words are between MARK_START/END."""
    rank: float
    """bm25 (lower is better); 0.0 for a hit listed newest first after the ranked ones."""
    revision: int
    updated_at: str
    status: str | None
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    confidential: bool
    case_title: str = ""
    """The case the record belongs to (its own title for a case; "" when it has none)."""


# Links that tie a record to its case, from the record's side.
_CASE_LINKS = ("person_case", "interview_case")


class _Head(Protocol):
    id: str
    type: str
    title: str


def case_titles(session: Session, heads: Sequence[_Head]) -> dict[str, str]:
    """For each record head: the title of its case (the first by title when there are several).

    Two lookups by key (links by their owner's id, then the cases by id): a join lets SQLite
    walk the record table instead, seconds on 100,000 records.
    """
    out = {h.id: h.title for h in heads if h.type == "case"}
    others = [h.id for h in heads if h.type != "case"]
    if not others:
        return out
    links = session.execute(
        select(RecordLinkRow.from_id, RecordLinkRow.to_id).where(
            RecordLinkRow.from_id.in_(others), RecordLinkRow.kind.in_(_CASE_LINKS)
        )
    ).all()
    if not links:
        return out
    # The deletion test is made here: in SQL, "deleted IS ?" lets SQLite pick the list index
    # over the whole table instead of the ids (470 ms instead of 2 ms at 100,000 records).
    titles = {
        str(case_id): str(title or "")
        for case_id, title, deleted in session.execute(
            select(RecordRow.id, RecordRow.title, RecordRow.deleted).where(
                RecordRow.id.in_({str(to) for _f, to in links})
            )
        )
        if not deleted
    }
    found: dict[str, list[str]] = {}
    for from_id, to_id in links:
        if str(to_id) in titles:
            found.setdefault(str(from_id), []).append(titles[str(to_id)])
    for record_id, names in found.items():
        out[record_id] = min(names)
    return out


def _hub_keys(session: Session) -> HubKeys | None:
    """The hub's keys when the session is on PostgreSQL (search goes through keyed tokens)."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        return None
    keys = keys_of(dialect)
    if keys is None:
        raise FieldkitError(ErrorCode.PROFILE_LOCKED)
    return keys


class SearchIndex:
    """Writes and queries ``records_fts`` (on a hub: ``record_tokens``, see storage/tokens.py).
    Every method runs in the caller's transaction."""

    @staticmethod
    def put(session: Session, num: int, title: str, body: str) -> None:
        keys = _hub_keys(session)
        if keys is not None:
            tokens.remove_many(session, [num])
            tokens.put_many(session, keys, [(num, fold_text(title), fold_text(body))])
            return
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :num"), {"num": num})
        session.execute(
            text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:num, :title, :body)"),
            {"num": num, "title": fold_text(title), "body": fold_text(body)},
        )

    @staticmethod
    def put_many(session: Session, rows: Sequence[tuple[int, str, str]]) -> None:
        """Bulk form of :meth:`put` for rows known to be new (used when importing many)."""
        if not rows:
            return
        keys = _hub_keys(session)
        if keys is not None:
            folded = [(n, fold_text(t), fold_text(b)) for n, t, b in rows]
            tokens.put_many(session, keys, folded)
            return
        session.execute(
            text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:num, :title, :body)"),
            [{"num": n, "title": fold_text(t), "body": fold_text(b)} for n, t, b in rows],
        )

    @staticmethod
    def remove_many(session: Session, nums: Sequence[int]) -> None:
        """Bulk form of :meth:`remove` (rows that are not indexed are left as they are)."""
        if nums and _hub_keys(session) is not None:
            tokens.remove_many(session, nums)
        elif nums:
            session.execute(
                text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :num"), [{"num": n} for n in nums]
            )

    @staticmethod
    def remove(session: Session, num: int) -> None:
        if _hub_keys(session) is not None:
            tokens.remove_many(session, [num])
            return
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :num"), {"num": num})

    @staticmethod
    def search(
        session: Session,
        query: str,
        filters: RecordFilters | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[SearchHit], bool]:
        """Ranked hits (best first) and whether more follow after this page.

        Ranking carries only rowids and scores through the sort (SQLite computes every selected
        column of every match before sorting); the page's texts and heads are read afterwards by
        rowid, and its snippets are cut here (FTS5's own snippet() would run the match again for
        each row, which costs milliseconds per row for a common word).
        """
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="offset/limit")
        expression = match_expression(query)
        keys = _hub_keys(session)
        if keys is not None:
            page, more, texts = _hub_ranked(session, keys, query, filters, offset, limit)
            return _hits(session, page, texts, query), more
        # How common the words are in the whole profile decides (as bm25's weights do), so the
        # test walks the index alone, never the filters' join.
        if _matches_more_than(session, expression, RANKED_MATCHES):
            top = _titles_first(session, expression, filters, offset, limit + 1)
        else:
            top = _ranked(session, expression, filters, offset, limit + 1)
        page = [(int(num), float(rank)) for num, rank in top[:limit]]
        if not page:
            return [], False
        nums = [num for num, _rank in page]
        texts = {
            int(num): (title or "", body or "")
            for num, title, body in session.execute(
                select(_FTS.c.rowid, _FTS.c.title, _FTS.c.body).where(_FTS.c.rowid.in_(nums))
            )
        }
        return _hits(session, page, texts, query), len(top) > limit

    @staticmethod
    def count(session: Session, query: str, filters: RecordFilters | None = None) -> int:
        expression = match_expression(query)
        keys = _hub_keys(session)
        if keys is not None:
            terms = tokens.query_terms(fold_text(query).split())
            if tokens.long_terms(terms):
                return _hub_confirmed_count(session, keys, terms, filters)
            stmt = _hub_matching(keys, select(func.count()), terms, filters)
            return int(session.execute(stmt).scalar_one())
        stmt = _matching(select(func.count()), expression, filters)
        return int(session.execute(stmt).scalar_one())


# Above this many matches in the profile a search is not ranked as a whole (see _titles_first).
RANKED_MATCHES = 20_000


def _ranked(
    session: Session, expression: str, filters: RecordFilters | None, offset: int, limit: int
) -> list[tuple[int, float]]:
    """Matches by bm25 (lower is better), then newest first."""
    score = func.bm25(_FTS_NAME, TITLE_WEIGHT, 1.0).label("score")
    stmt = (
        _matching(select(_FTS.c.rowid, score), expression, filters)
        .order_by(score, _FTS.c.rowid.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(int(num), float(rank)) for num, rank in session.execute(stmt)]


def _matches_more_than(session: Session, expression: str, count: int) -> bool:
    """Whether more than ``count`` records match (stepping through at most that many)."""
    stmt = (
        _matching(select(_FTS.c.rowid), expression, None)
        .order_by(_FTS.c.rowid.desc())
        .offset(count)
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def _titles_first(
    session: Session, expression: str, filters: RecordFilters | None, offset: int, limit: int
) -> list[tuple[int, float]]:
    """For words found in very many records: those with the words in their title, ranked by
    bm25, then every other match newest first (rank 0.0).

    Ranking tens of thousands of matches costs about half a microsecond each (bm25 reads every
    match's positions and length), and tells them apart by little: FTS5 gives a word that is in
    more than half of all records almost no weight, so the order would come from text lengths.
    """
    in_title = f"{{title}} : ({expression})"
    found = _ranked(session, in_title, filters, offset, limit)
    if len(found) >= limit:
        return found
    skipped = 0
    if offset > 0:
        counted = _matching(select(func.count()), in_title, filters)
        skipped = max(0, offset - int(session.execute(counted).scalar_one()))
    rest = (
        _matching(select(_FTS.c.rowid), f"({expression}) NOT {in_title}", filters)
        .order_by(_FTS.c.rowid.desc())
        .offset(skipped)
        .limit(limit - len(found))
    )
    return found + [(int(num), 0.0) for (num,) in session.execute(rest)]


def _hits(
    session: Session,
    page: Sequence[tuple[int, float]],
    texts: dict[int, tuple[str, str]],
    query: str,
) -> list[SearchHit]:
    """The page's hits with their heads and snippets (the same on SQLite and on a hub)."""
    nums = [num for num, _rank in page]
    # Only the columns a hit shows: a record row holds its data inline (kilobytes of JSON).
    r = RecordRow
    heads = {
        row.num: row
        for row in session.execute(
            select(
                r.num, r.id, r.type, r.title, r.revision, r.updated_at, r.status,
                r.facility_id, r.date_from, r.date_to, r.confidential,
            ).where(r.num.in_(nums))
        )
    }  # fmt: skip
    terms = search_terms(query)
    cases = case_titles(session, list(heads.values()))
    hits = []
    for num, rank in page:
        head = heads.get(num)
        if head is None:
            continue
        title, body = texts.get(num, ("", ""))
        hits.append(
            SearchHit(
                record_id=head.id,
                type=head.type,
                title=head.title,
                snippet=make_snippet(body, terms) or make_snippet(title, terms),
                rank=rank,
                revision=head.revision,
                updated_at=head.updated_at,
                status=head.status,
                facility_id=head.facility_id,
                date_from=head.date_from,
                date_to=head.date_to,
                confidential=bool(head.confidential),
                case_title=cases.get(head.id, ""),
            )
        )
    return hits


def _hub_matching(
    keys: HubKeys, stmt: Select[Any], terms: Sequence[str], filters: RecordFilters | None
) -> Select[Any]:
    stmt = tokens.matching(keys, stmt, terms)
    conds = (filters or RecordFilters()).conditions(_FILTERED, indexed_only=True)
    if conds:
        stmt = stmt.join(_FILTERED, _FILTERED.c.num == tokens.TOKENS.c.num).where(*conds)
    return stmt


def _hub_tiers(
    keys: HubKeys, stmt: Select[Any], terms: Sequence[str], filters: RecordFilters | None
) -> Iterator[tuple[float, Select[Any]]]:
    """The matches of ``terms`` in rank order, as one statement per rank: records with every
    word in their title first, then with one word fewer, ..., each rank newest first.

    Together they give the order of ``ORDER BY title_score, num DESC``, but each can stop after
    the rows a page needs: a common word or a short prefix matches a large part of a big hub,
    and ranking every match first would read each of them (seconds at a million records).
    """
    t = tokens.TOKENS.c
    score = tokens.title_score(keys, terms)
    matching = _hub_matching(keys, stmt, terms, filters)
    for in_title in range(len(terms), -1, -1):
        if in_title == len(terms):
            # Every word in the title: the title tokens themselves narrow it, through the index.
            tier = matching.where(*(tokens.in_title(keys, term) for term in terms))
        elif in_title == 0:
            # No word in the title: said as such, the planner estimates it from the tokens'
            # statistics (an equality on the score would be a guess).
            tier = matching.where(*(~tokens.in_title(keys, term) for term in terms))
        else:
            tier = matching.where(score == -in_title)
        yield float(-in_title), tier.order_by(t.num.desc())


def _hub_candidates(
    session: Session,
    keys: HubKeys,
    terms: Sequence[str],
    filters: RecordFilters | None,
    wanted: int,
) -> list[tuple[int, float, tuple[str, str]]]:
    """The first ``wanted`` matches of a query with a word longer than the indexed prefixes,
    confirmed on the decrypted text, best first."""
    t = tokens.TOKENS.c
    long = tokens.long_terms(terms)
    found: list[tuple[int, float, tuple[str, str]]] = []
    for rank, tier in _hub_tiers(keys, select(t.num, t.title, t.body), terms, filters):
        below: int | None = None
        while True:
            # Batches with a LIMIT, each after the last number seen, not a server-side cursor:
            # PostgreSQL plans a cursor for its first rows, and walking the table by number
            # for a word that no title holds reads every row.
            stmt = tier if below is None else tier.where(t.num < below)
            rows = session.execute(stmt.limit(CONFIRM_BATCH)).all()
            for num, title, body in rows:
                texts = tokens.open_texts(keys, int(num), title, body)
                if tokens.confirms(long, *texts):
                    found.append((int(num), rank, texts))
                    if len(found) >= wanted:
                        return found
            if len(rows) < CONFIRM_BATCH:
                break
            below = int(rows[-1][0])
    return found


def _hub_confirmed_count(
    session: Session, keys: HubKeys, terms: Sequence[str], filters: RecordFilters | None
) -> int:
    """How many records a query with a long word matches, each confirmed on its text (in one
    statement: a count needs no order)."""
    t = tokens.TOKENS.c
    long = tokens.long_terms(terms)
    stmt = _hub_matching(keys, select(t.num, t.title, t.body), terms, filters)
    return sum(
        tokens.confirms(long, *tokens.open_texts(keys, int(num), title, body))
        for num, title, body in session.execute(stmt)
    )


# Candidates read at a time when a long word is confirmed on the opened text.
CONFIRM_BATCH = 200


def _hub_ranked(
    session: Session,
    keys: HubKeys,
    query: str,
    filters: RecordFilters | None,
    offset: int,
    limit: int,
) -> tuple[list[tuple[int, float]], bool, dict[int, tuple[str, str]]]:
    terms = tokens.query_terms(fold_text(query).split())
    wanted = offset + limit + 1  # one more than the page: whether more follow
    if tokens.long_terms(terms):
        found = _hub_candidates(session, keys, terms, filters, wanted)
        chosen = found[offset : offset + limit]
        page = [(num, rank) for num, rank, _texts in chosen]
        return page, len(found) > offset + limit, {num: texts for num, _r, texts in chosen}
    t = tokens.TOKENS.c
    top: list[tuple[int, float]] = []
    for rank, tier in _hub_tiers(keys, select(t.num), terms, filters):
        rows = session.execute(tier.limit(wanted - len(top)))
        top += [(int(num), rank) for (num,) in rows]
        if len(top) >= wanted:
            break
    top = top[offset:]
    page = top[:limit]
    if not page:
        return [], False, {}
    texts = {
        int(num): tokens.open_texts(keys, int(num), title, body)
        for num, title, body in session.execute(
            select(t.num, t.title, t.body).where(t.num.in_([n for n, _r in page]))
        )
    }
    return page, len(top) > limit, texts


TITLE_WEIGHT = 4.0
SEARCH_FILTER_INDEX = "ix_records_search"
_FTS = table(FTS_TABLE, column("rowid"), column("title"), column("body"))
_FTS_NAME: ColumnElement[Any] = literal_column(FTS_TABLE)


class _RecordsByFilterIndex(TableClause):
    """``records`` read through its covering filter index only.

    Matching a common word gives tens of thousands of rows; testing the filters on the table
    itself would read each record's page (its data is stored inline), while the index
    (num, type, deleted, confidential, facility_id, status, date_from, date_to) answers them.
    """

    inherit_cache = True


_FILTERED = _RecordsByFilterIndex(
    "records",
    column("num", Integer),
    column("type", String),
    column("deleted", Boolean),
    column("confidential", Boolean),
    column("facility_id", String),
    column("status", String),
    column("date_from", String),
    column("date_to", String),
)


@compiles(_RecordsByFilterIndex, "sqlite")
def _render_indexed(element: _RecordsByFilterIndex, compiler: Any, **kw: Any) -> str:
    return f"{compiler.preparer.quote(element.name)} INDEXED BY {SEARCH_FILTER_INDEX}"


@compiles(_RecordsByFilterIndex)
def _render_plain(element: _RecordsByFilterIndex, compiler: Any, **kw: Any) -> str:
    return str(compiler.preparer.quote(element.name))


def _matching(stmt: Select[Any], expression: str, filters: RecordFilters | None) -> Select[Any]:
    """``stmt`` over the index, restricted to the match and the filters; the filters are tested
    on the covering index of the record heads, and only when there are any."""
    stmt = stmt.select_from(_FTS).where(_FTS_NAME.op("MATCH")(expression))
    conds = (filters or RecordFilters()).conditions(_FILTERED, indexed_only=True)
    if conds:
        stmt = stmt.join(_FILTERED, _FILTERED.c.num == _FTS.c.rowid).where(*conds)
    return stmt

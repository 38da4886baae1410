"""Record heads: the current state of each record, read as views and lists, and written under
the revision check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, Table, case, false, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fieldkit.domain.common import date_bounds
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import FormTemplate
from fieldkit.domain.records import IndexFields, index_fields
from fieldkit.i18n import _
from fieldkit.storage.search import RecordFilters
from fieldkit.storage.tables.records import RecordRow, RecordVersionRow

MAX_PAGE = 1000


@dataclass(frozen=True)
class RecordView:
    """A record's current state. ``data`` is the validated, normalised form data."""

    id: str
    type: str
    revision: int
    template_id: str
    template_version: str
    origin_device: str
    created_at: str
    updated_at: str
    confidential: bool
    deleted: bool
    title: str
    status: str | None
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    content_hash: str
    change_seq: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class RecordSummary:
    """What a list shows of a record: the head's columns, without its data (nothing parsed)."""

    id: str
    type: str
    title: str
    status: str | None
    revision: int
    updated_at: str
    created_at: str
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    confidential: bool
    deleted: bool


_SUMMARY_COLUMNS = (
    RecordRow.id,
    RecordRow.type,
    RecordRow.title,
    RecordRow.status,
    RecordRow.revision,
    RecordRow.updated_at,
    RecordRow.created_at,
    RecordRow.facility_id,
    RecordRow.date_from,
    RecordRow.date_to,
    RecordRow.confidential,
    RecordRow.deleted,
)


def _head_values(
    doc: Mapping[str, Any], template: FormTemplate, content_hash: str, change_seq: int
) -> tuple[dict[str, Any], IndexFields]:
    """The head row's columns (all but ``id`` and ``num``) for a version document."""
    fields = index_fields(template.id, doc["data"], template=template)
    date_from = _iso(fields.date_from)
    values = {
        "type": doc["type"],
        "revision": doc["revision"],
        "template_id": doc["template_id"],
        "template_version": str(doc["template_version"]),
        "origin_device": doc["origin_device"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
        "confidential": bool(doc["confidential"]),
        "deleted": bool(doc["deleted"]),
        "title": fields.title,
        "status": fields.status,
        "facility_id": fields.facility_id,
        "date_from": date_from,
        "date_to": _iso(fields.date_to) or _end_of(template, doc["data"]) or date_from,
        "data": json.dumps(doc["data"], ensure_ascii=False, separators=(",", ":")),
        "content_hash": content_hash,
        "change_seq": change_seq,
    }
    return values, fields


def _end_of(template: FormTemplate, data: Mapping[str, Any]) -> str | None:
    """The last day the start date covers, for a record with no end date (2026-03 -> 03-31)."""
    name = template.index.date_from
    value = data.get(name) if name else None
    if isinstance(value, Mapping) and isinstance(value.get("value"), str):
        try:
            return date_bounds(value["value"])[1].isoformat()
        except ValueError:
            return None
    return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _view(row: RecordRow) -> RecordView:
    return RecordView(
        id=row.id,
        type=row.type,
        revision=row.revision,
        template_id=row.template_id,
        template_version=row.template_version,
        origin_device=row.origin_device,
        created_at=row.created_at,
        updated_at=row.updated_at,
        confidential=bool(row.confidential),
        deleted=bool(row.deleted),
        title=row.title,
        status=row.status,
        facility_id=row.facility_id,
        date_from=row.date_from,
        date_to=row.date_to,
        content_hash=row.content_hash,
        change_seq=row.change_seq,
        data=json.loads(row.data),
    )


def _summary(row: Any) -> RecordSummary:
    return RecordSummary(
        id=row.id,
        type=row.type,
        title=row.title,
        status=row.status,
        revision=row.revision,
        updated_at=row.updated_at,
        created_at=row.created_at,
        facility_id=row.facility_id,
        date_from=row.date_from,
        date_to=row.date_to,
        confidential=bool(row.confidential),
        deleted=bool(row.deleted),
    )


_HEAD_COLUMNS = [c for c in RecordRow.__table__.columns if c.key != "num"]


def _table(model: type[Any]) -> Table:
    """A model's table, for Core executemany (no ORM objects for rows written in bulk)."""
    return cast(Table, model.__table__)


_ORDERS: dict[str, tuple[Any, ...]] = {
    "updated_desc": (RecordRow.updated_at.desc(), RecordRow.id.desc()),
    "updated_asc": (RecordRow.updated_at, RecordRow.id),
    "created_desc": (RecordRow.created_at.desc(), RecordRow.id.desc()),
    "title": (RecordRow.title, RecordRow.id),
}


def _paged(
    stmt: Select[*tuple[Any, ...]],
    filters: RecordFilters | None,
    offset: int,
    limit: int,
    order: str,
) -> Select[*tuple[Any, ...]]:
    """``stmt`` filtered, ordered and cut to one page; the paging values are checked first."""
    if offset < 0:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("the offset must be 0 or more (got {value})").format(value=offset),
        )
    if not 1 <= limit <= MAX_PAGE:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("the limit must be between 1 and {most} (got {value})").format(
                most=MAX_PAGE, value=limit
            ),
        )
    ordering = _ORDERS.get(order)
    if ordering is None:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("unknown order '{order}' (choose one of: {choices})").format(
                order=str(order)[:40], choices=", ".join(_ORDERS)
            ),
        )
    stmt = stmt.where(*(filters or RecordFilters()).conditions())
    return stmt.order_by(*ordering).offset(offset).limit(limit)


def _paged_in(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    filters: RecordFilters | None,
    offset: int,
    limit: int,
    order: str,
) -> Select[*tuple[Any, ...]]:
    """:func:`_paged` for ``session``'s database. On a hub titles are sealed, so a list by title
    is sorted here, on the opened titles of the heads the filters leave (the same order as
    SQLite's binary collation: UTF-8 sorts as code points), and the page is read by number."""
    paged = _paged(stmt, filters, offset, limit, order)
    if order != "title" or session.get_bind().dialect.name != "postgresql":
        return paged
    conds = (filters or RecordFilters()).conditions()
    heads = session.execute(select(RecordRow.num, RecordRow.title, RecordRow.id).where(*conds))
    ranked = sorted(heads, key=lambda h: (h.title, h.id))[offset : offset + limit]
    nums = [h.num for h in ranked]
    if not nums:
        return stmt.where(false())
    position = case({num: i for i, num in enumerate(nums)}, value=RecordRow.num)
    return stmt.where(RecordRow.num.in_(nums)).order_by(position)


def _still_current(session: Session, row: RecordRow) -> int | None:
    """The revision the caller read, after checking (under the write lock) that nobody saved
    the record since: reads before a transaction's first write see no lock, so a save racing
    with another writer is caught here and not by the earlier revision check alone."""
    if row.num is None:
        return None
    with session.no_autoflush:
        current = session.execute(
            select(RecordRow.revision).where(RecordRow.num == row.num)
        ).scalar_one()
    if current != row.revision:
        raise FieldkitError(
            ErrorCode.STALE_REVISION, id=row.id, current=current, edited=row.revision
        )
    return row.revision


def _flush_head(session: Session, record_id: str, read_revision: int | None) -> None:
    """Write the head; the UPDATE is conditional on the revision read (version_id_col)."""
    try:
        session.flush()
    except StaleDataError:
        raise FieldkitError(
            ErrorCode.STALE_REVISION,
            id=record_id,
            current="?",
            edited=read_revision if read_revision is not None else "?",
        ) from None


def record_origins(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The device that created each record among ``ids`` known here: the head's
    ``origin_device``, or for a record with stored versions but no head yet (its first revision
    still on its way) the device that sent them."""
    found: dict[str, str] = {}
    pending = sorted({i for i in ids if isinstance(i, str)})
    for start in range(0, len(pending), 500):
        chunk = pending[start : start + 500]
        for record_id, origin in session.execute(
            select(RecordRow.id, RecordRow.origin_device).where(RecordRow.id.in_(chunk))
        ):
            found[record_id] = origin
        rest = [i for i in chunk if i not in found]
        if rest:
            for record_id, device in session.execute(
                select(RecordVersionRow.record_id, RecordVersionRow.saved_by_device)
                .where(RecordVersionRow.record_id.in_(rest))
                .distinct()
            ):
                found.setdefault(record_id, device)
    return found


def received_view(doc: Mapping[str, Any]) -> tuple[RecordView, bytes]:
    """A version document received from elsewhere (a lawyer's case package), checked and
    validated as an import checks it, as the view a head row of it would give; with its
    canonical bytes. Nothing is stored."""
    from fieldkit.storage.records.versions import _checked_document

    clean, template, canonical = _checked_document(doc)
    values, _fields = _head_values(clean, template, hashlib.sha256(canonical).hexdigest(), 0)
    view = RecordView(id=str(clean["id"]), **{**values, "data": clean["data"]})
    return view, canonical

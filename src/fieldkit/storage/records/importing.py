"""Storing record versions received from other devices (bundle import), many at a time."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import FormTemplate
from fieldkit.domain.records import IndexFields
from fieldkit.i18n import N_, _
from fieldkit.storage.audit import AuditItem, AuditLog, sha256_hex, utc_now
from fieldkit.storage.changes import next_change_seqs
from fieldkit.storage.records.heads import _HEAD_COLUMNS, _head_values, _table
from fieldkit.storage.records.links import (
    _derived_link,
    _Known,
    _lookup_types,
    _ref_fields,
    _ref_targets,
    _wanted_links,
    iter_refs,
)
from fieldkit.storage.records.versions import _checked_document
from fieldkit.storage.search import SearchIndex
from fieldkit.storage.tables.records import (
    RecordConflictRow,
    RecordLinkRow,
    RecordRow,
    RecordVersionRow,
)

ImportOutcome = Literal["new", "same", "conflict"]


class ImportBatchError(FieldkitError):
    """A document of a batch was refused: its position in the batch (``index``) and the reason
    (``error``). It carries the reason's code and message, so a caller that does not look at the
    position still reports the refusal plainly."""

    def __init__(self, index: int, error: FieldkitError) -> None:
        super().__init__(error.code, **error.params)
        self.index = index
        self.error = error


@dataclass
class _HeadState:
    type: str
    revision: int
    content_hash: str


@dataclass
class _LinkState:
    row_id: int | None  # None: a row this batch adds
    was_deleted: bool
    deleted: bool


def import_versions(
    session: Session, docs: Sequence[Mapping[str, Any]], origin_device: str
) -> builtins.list[ImportOutcome]:
    """Store many received versions at once, with the same result as :meth:`import_version`
    on each in order (rows, change numbers, conflicts, links, index and audit entries), in a
    few statements per batch. A document that is refused raises :class:`ImportBatchError`
    naming its position; nothing of the batch is kept by a caller that rolls back.
    """
    checked: builtins.list[tuple[dict[str, Any], FormTemplate, bytes, str]] = []
    for index, doc in enumerate(docs):
        try:
            clean, template, canonical = _checked_document(doc)
        except FieldkitError as exc:
            raise ImportBatchError(index, exc) from None
        checked.append((clean, template, canonical, sha256_hex(canonical)))
    if not checked:
        return []
    next_change_seqs(session, 0)  # the write lock: what is read below stays current
    session.flush()
    ids = sorted({c[0]["id"] for c in checked})
    heads: dict[str, Any] = {}  # record id -> (num, id, type, revision, content_hash)
    present: dict[tuple[str, int], builtins.list[str]] = {}
    links: dict[str, dict[tuple[str, str, str, str], _LinkState]] = {}
    with session.no_autoflush:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in session.execute(
                select(
                    RecordRow.num,
                    RecordRow.id,
                    RecordRow.type,
                    RecordRow.revision,
                    RecordRow.content_hash,
                ).where(RecordRow.id.in_(chunk))
            ):
                heads[row.id] = row
            for record_id, revision, content_hash in session.execute(
                select(
                    RecordVersionRow.record_id,
                    RecordVersionRow.revision,
                    RecordVersionRow.content_hash,
                )
                .where(RecordVersionRow.record_id.in_(chunk))
                .order_by(RecordVersionRow.id)
            ):
                present.setdefault((record_id, revision), []).append(content_hash)
            for link in session.execute(
                select(
                    RecordLinkRow.id,
                    RecordLinkRow.owner_id,
                    RecordLinkRow.from_id,
                    RecordLinkRow.to_id,
                    RecordLinkRow.kind,
                    RecordLinkRow.role,
                    RecordLinkRow.deleted,
                )
                .where(RecordLinkRow.source == "derived", RecordLinkRow.owner_id.in_(chunk))
                .order_by(RecordLinkRow.id)
            ):
                links.setdefault(link.owner_id, {})[
                    (link.from_id, link.to_id, link.kind, link.role)
                ] = _LinkState(link.id, bool(link.deleted), bool(link.deleted))
    # each record's head as the batch so far leaves it
    state: dict[str, _HeadState] = {
        rid: _HeadState(row.type, row.revision, row.content_hash) for rid, row in heads.items()
    }
    refs_of = [
        builtins.list(iter_refs(_ref_fields(t), c["data"])) if not c["deleted"] else []
        for c, t, _b, _h in checked
    ]
    targets: set[str] = set()
    for item_refs in refs_of:
        targets |= _ref_targets(item_refs)
    known: _Known = _lookup_types(session, targets - set(state))
    for rid, head_state in state.items():
        known[rid] = (head_state.type, False)
    outcomes: builtins.list[ImportOutcome] = []
    versions: builtins.list[tuple[int, str]] = []  # (document index, audit action)
    conflicts: builtins.list[dict[str, Any]] = []
    new_links: builtins.list[tuple[str, tuple[str, str, str, str]]] = []
    moved: dict[str, int] = {}  # record id -> index of the document its head now holds
    first_seen: builtins.list[str] = []
    now = utc_now()
    for index, (clean, _template, _canonical, content_hash) in enumerate(checked):
        record_id = clean["id"]
        revision = clean["revision"]
        here = present.setdefault((record_id, revision), [])
        if content_hash in here:
            outcomes.append("same")
            continue
        earlier = builtins.list(here)
        head = state.get(record_id)
        if head is not None and head.type != clean["type"]:
            raise ImportBatchError(
                index,
                FieldkitError(
                    ErrorCode.RECORD_INVALID,
                    id=record_id,
                    reason=_(N_("its type differs from the stored record")),
                ),
            )
        here.append(content_hash)
        if earlier:
            conflicts.append(
                {
                    "record_id": record_id,
                    "revision": revision,
                    "local_hash": head.content_hash
                    if head is not None and head.revision == revision
                    else earlier[0],
                    "other_hash": content_hash,
                    "other_device": origin_device,
                    "detected_at": now,
                    "resolved": False,
                }
            )
            versions.append((index, "record.conflict"))
            outcomes.append("conflict")
            continue
        versions.append((index, "record.import"))
        outcomes.append("new")
        if head is not None and revision <= head.revision:
            continue  # an older revision arriving late: history only, the head stays
        if head is None:
            first_seen.append(record_id)
        state[record_id] = _HeadState(clean["type"], revision, content_hash)
        known[record_id] = (clean["type"], False)
        moved[record_id] = index
        wanted: set[tuple[str, str, str, str]] = set()
        if not clean["deleted"]:
            wanted = _wanted_links(record_id, clean["type"], refs_of[index], known)
        owned = links.setdefault(record_id, {})
        for key, link_state in owned.items():
            if key not in wanted and not link_state.deleted:
                link_state.deleted = True
        for key in wanted:
            found = owned.get(key)
            if found is None:
                owned[key] = _LinkState(None, False, False)
                new_links.append((record_id, key))
            elif found.deleted:
                found.deleted = False
    count = len(versions)
    if not count:
        return outcomes
    seqs = next_change_seqs(session, count)
    seq_of = {index: seqs[n] for n, (index, _action) in enumerate(versions)}
    # heads: new ones inserted in the order they first arrived (so their numbers are the same
    # as one at a time), existing ones updated to where the batch leaves them
    head_values: dict[str, dict[str, Any]] = {}
    fields_of: dict[str, IndexFields] = {}
    for record_id, index in moved.items():
        clean, template, _canonical, content_hash = checked[index]
        values, fields_of[record_id] = _head_values(clean, template, content_hash, seq_of[index])
        head_values[record_id] = {"id": record_id, **values}
    inserts = [head_values[rid] for rid in first_seen]
    if inserts:
        session.execute(insert(_table(RecordRow)), inserts)
    updates = [
        {"b_num": heads[rid].num, **{f"v_{k}": v for k, v in values.items()}}
        for rid, values in head_values.items()
        if rid in heads
    ]
    if updates:
        table = _table(RecordRow)
        session.execute(
            update(table)
            .where(table.c.num == bindparam("b_num"))
            .values({c.key: bindparam(f"v_{c.key}") for c in _HEAD_COLUMNS}),
            updates,
        )
    nums = {rid: head.num for rid, head in heads.items()}
    if first_seen:
        for start in range(0, len(first_seen), 500):
            chunk = first_seen[start : start + 500]
            for inserted in session.execute(
                select(RecordRow.id, RecordRow.num).where(RecordRow.id.in_(chunk))
            ):
                nums[inserted.id] = inserted.num
    # search: the text of every moved head, or none for a tombstone
    moved_nums = [nums[rid] for rid in moved]
    SearchIndex.remove_many(session, moved_nums)
    SearchIndex.put_many(
        session,
        [
            (nums[rid], fields_of[rid].title, fields_of[rid].text)
            for rid, index in moved.items()
            if not checked[index][0]["deleted"]
        ],
    )
    # derived links: flags changed on rows that were here, new rows in the order they arose
    changed = [
        {"b_id": ls.row_id, "b_deleted": ls.deleted}
        for owned in links.values()
        for ls in owned.values()
        if ls.row_id is not None and ls.deleted != ls.was_deleted
    ]
    if changed:
        links_table = _table(RecordLinkRow)
        session.execute(
            update(links_table)
            .where(links_table.c.id == bindparam("b_id"))
            .values(deleted=bindparam("b_deleted")),
            changed,
        )
    if new_links:
        session.execute(
            insert(_table(RecordLinkRow)),
            [
                {**_derived_link(key, owner, now), "deleted": links[owner][key].deleted}
                for owner, key in new_links
            ],
        )
    if conflicts:
        session.execute(insert(_table(RecordConflictRow)), conflicts)
    version_rows: builtins.list[dict[str, Any]] = []
    audit: builtins.list[AuditItem] = []
    for index, action in versions:
        clean, _template, canonical, content_hash = checked[index]
        version_rows.append(
            {
                "record_id": clean["id"],
                "revision": clean["revision"],
                "doc": canonical,
                "content_hash": content_hash,
                "deleted": clean["deleted"],
                "saved_at": now,
                "saved_by_device": origin_device,
                "change_seq": seq_of[index],
                "origin": "imported",
            }
        )
        audit.append(
            AuditItem(
                action,
                "record",
                clean["id"],
                clean["revision"],
                content_hash,
                {"type": clean["type"], "from_device": origin_device},
            )
        )
    session.execute(insert(_table(RecordVersionRow)), version_rows)
    AuditLog.append_many(session, audit)
    # rows written above bypassed the session: objects it holds of them are read again
    for obj in builtins.list(session.identity_map.values()):
        if (isinstance(obj, RecordRow) and obj.id in moved) or (
            isinstance(obj, RecordLinkRow) and obj.owner_id in moved
        ):
            session.expire(obj)
    return outcomes

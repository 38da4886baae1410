"""Storing record versions received from other devices (bundle import), many at a time."""

from __future__ import annotations

import builtins
import json
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
from fieldkit.storage.records.versions import _checked_document, load_template
from fieldkit.storage.search import SearchIndex
from fieldkit.storage.tables.records import (
    RecordConflictRow,
    RecordLinkRow,
    RecordRow,
    RecordVersionRow,
)
from fieldkit.storage.tables.sealed import seal_rows

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


# a version as the head takes it: document, template, content hash, references
_Version = tuple[dict[str, Any], FormTemplate, str, builtins.list[Any]]


def _stored_version(session: Session, version_id: int) -> _Version:
    """A version stored earlier (it waited above a gap in the record's history)."""
    row = session.get(RecordVersionRow, version_id)
    assert row is not None
    clean = json.loads(bytes(row.doc))
    template = load_template(clean["template_id"], clean["template_version"])
    refs = (
        [] if clean["deleted"] else builtins.list(iter_refs(_ref_fields(template), clean["data"]))
    )
    return clean, template, row.content_hash, refs


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
    stored_first: dict[tuple[str, int], int] = {}  # the first stored version of each revision
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
            for version_id, record_id, revision, content_hash in session.execute(
                select(
                    RecordVersionRow.id,
                    RecordVersionRow.record_id,
                    RecordVersionRow.revision,
                    RecordVersionRow.content_hash,
                )
                .where(RecordVersionRow.record_id.in_(chunk))
                .order_by(RecordVersionRow.id)
            ):
                hashes = present.setdefault((record_id, revision), [])
                if not hashes:
                    stored_first[(record_id, revision)] = version_id
                hashes.append(content_hash)
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
    # record id -> the version its head now holds, and the index of the document whose change
    # number the head takes (the one that moved it)
    moved: dict[str, tuple[_Version, int]] = {}
    # versions above a gap in a record's history, by (record id, revision): a document of this
    # batch (its index) or a stored version row (its id, as a negative number minus one)
    waiting: dict[tuple[str, int], int] = {
        key: -version_id - 1
        for key, version_id in stored_first.items()
        if key[1] > (state[key[0]].revision if key[0] in state else 0)
    }
    first_seen: builtins.list[str] = []
    now = utc_now()

    def _move_head(record_id: str, version: _Version, index: int) -> None:
        """The head of ``record_id`` now holds ``version``; its derived links follow."""
        clean, _template, content_hash, refs = version
        state[record_id] = _HeadState(clean["type"], clean["revision"], content_hash)
        known[record_id] = (clean["type"], False)
        moved[record_id] = (version, index)
        wanted: set[tuple[str, str, str, str]] = set()
        if not clean["deleted"]:
            missing = _ref_targets(refs) - set(known)
            if missing:
                known.update(_lookup_types(session, missing))
            wanted = _wanted_links(record_id, clean["type"], refs, known)
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
        head_revision = head.revision if head is not None else 0
        if revision <= head_revision:
            continue  # an older revision arriving late: history only, the head stays
        if revision > head_revision + 1:
            # The head advances by the record's own history only: a version above a gap waits
            # (as history) until the versions before it arrive.
            waiting.setdefault((record_id, revision), index)
            continue
        if head is None:
            first_seen.append(record_id)
        version: _Version = (clean, _template, content_hash, refs_of[index])
        while True:
            _move_head(record_id, version, index)
            follower = waiting.pop((record_id, version[0]["revision"] + 1), None)
            if follower is None:
                break
            version = (
                (
                    checked[follower][0],
                    checked[follower][1],
                    checked[follower][3],
                    refs_of[follower],
                )
                if follower >= 0
                else _stored_version(session, -follower - 1)
            )
    count = len(versions)
    if not count:
        return outcomes
    seqs = next_change_seqs(session, count)
    seq_of = {index: seqs[n] for n, (index, _action) in enumerate(versions)}
    # heads: new ones inserted in the order they first arrived (so their numbers are the same
    # as one at a time), existing ones updated to where the batch leaves them
    head_values: dict[str, dict[str, Any]] = {}
    fields_of: dict[str, IndexFields] = {}
    for record_id, ((clean, template, content_hash, _refs), index) in moved.items():
        values, fields_of[record_id] = _head_values(clean, template, content_hash, seq_of[index])
        head_values[record_id] = {"id": record_id, **values}
    sealed_heads = seal_rows(session.get_bind().dialect, RecordRow, list(head_values.values()))
    head_values = dict(zip(head_values, sealed_heads, strict=True))
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
            for rid, ((clean, _t, _h, _r), _index) in moved.items()
            if not clean["deleted"]
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
    session.execute(
        insert(_table(RecordVersionRow)),
        seal_rows(session.get_bind().dialect, RecordVersionRow, version_rows),
    )
    AuditLog.append_many(session, audit)
    # rows written above bypassed the session: objects it holds of them are read again
    for obj in builtins.list(session.identity_map.values()):
        if (isinstance(obj, RecordRow) and obj.id in moved) or (
            isinstance(obj, RecordLinkRow) and obj.owner_id in moved
        ):
            session.expire(obj)
    return outcomes

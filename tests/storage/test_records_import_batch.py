"""The batch import of received record versions gives exactly what importing them one by one gives.

The reference is the one-at-a-time import as it was before the batch path existed (one change
number, head write, index, links, version and audit entry per version, through the store's own
``_write`` and ``_add_version``), kept here as the oracle. The same received versions (new records,
updates, a tombstone, a repeated version, revisions out of order, conflicts with the head and with
an older revision, references to records that arrive later, Ukrainian text) are imported into fresh
vaults one by one, in batches of three and in one batch, and every table is compared.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services.audit import AuditService
from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.search import SearchService
from fieldkit.storage.audit import sha256_hex
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.records import ImportBatchError, ImportOutcome, RecordStore
from fieldkit.storage.records.versions import _checked_document, load_template
from fieldkit.storage.search import SearchIndex
from fieldkit.storage.tables.records import RecordConflictRow, RecordRow, RecordVersionRow
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE, search_index_rows
from tests.storage.test_records_samples import (
    facility_data,
    interview_data,
    person_data,
    visit_data,
)

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


def reference_import(
    store: RecordStore, session: Session, doc: Mapping[str, Any], origin: str
) -> ImportOutcome:
    """The single-version import as it was before the batch path (the oracle), with the head
    advancing by the record's own history: a version above a gap waits as history until the
    versions before it arrive."""
    clean, template, canonical = _checked_document(doc)
    content_hash = sha256_hex(canonical)
    record_id = clean["id"]
    present = list(
        session.execute(
            text(
                "SELECT content_hash FROM record_versions WHERE record_id = :r AND revision = :v "
                "ORDER BY id"
            ),
            {"r": record_id, "v": clean["revision"]},
        ).scalars()
    )
    if content_hash in present:
        return "same"
    head = session.query(RecordRow).filter(RecordRow.id == record_id).one_or_none()
    if head is not None and head.type != clean["type"]:
        raise FieldkitError(ErrorCode.RECORD_INVALID, id=record_id, reason="type")
    if present:
        session.add(
            RecordConflictRow(
                record_id=record_id,
                revision=clean["revision"],
                local_hash=head.content_hash
                if head and head.revision == clean["revision"]
                else present[0],
                other_hash=content_hash,
                other_device=origin,
                detected_at="t",
                resolved=False,
            )
        )
        store._add_version(
            session,
            clean,
            canonical,
            content_hash,
            next_change_seq(session),
            "record.conflict",
            "imported",
            origin,
        )
        return "conflict"
    if clean["revision"] == (head.revision if head is not None else 0) + 1:
        row = head if head is not None else RecordRow(id=record_id, num=None)
        store._write(
            session,
            row,
            clean,
            template,
            action="record.import",
            origin="imported",
            saved_by=origin,
        )
        _advance_through_history(store, session, row)
    else:
        store._add_version(
            session,
            clean,
            canonical,
            content_hash,
            next_change_seq(session),
            "record.import",
            "imported",
            origin,
        )
    return "new"


def _advance_through_history(store: RecordStore, session: Session, row: RecordRow) -> None:
    """Move the head over stored versions that waited above a gap (the first of each revision),
    keeping the change number of the version that filled the gap."""
    while True:
        raw = session.execute(
            text(
                "SELECT doc FROM record_versions WHERE record_id = :r AND revision = :v "
                "ORDER BY id LIMIT 1"
            ),
            {"r": row.id, "v": row.revision + 1},
        ).scalar_one_or_none()
        if raw is None:
            return
        doc = json.loads(bytes(raw))
        template = load_template(doc["template_id"], doc["template_version"])
        fields = store._apply_head(row, doc, template, sha256_hex(bytes(raw)), row.change_seq)
        session.flush()
        store._reindex(session, row, doc, template, fields)


def _other_content(doc: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    other = copy.deepcopy(doc)
    change(other["data"])
    return other


def received_versions(monitor: Vault) -> list[dict[str, Any]]:
    """Versions as a monitor's bundle would carry them, in an awkward order."""
    service = RecordService(monitor)
    facility = service.add("facility", facility_data())
    visit = service.add("visit", visit_data(facility.id))
    person = service.add("person", person_data("W-017"))
    witness = service.add("person", person_data("W-018"))
    case = CaseService(monitor).add("Катування у відділі поліції, березень 2026")
    interview = service.add("interview", interview_data(person.id, case.id))
    service.update(visit.id, {**visit.data, "findings": "Камери переповнені, сім’я не знає."}, 1)
    service.update(witness.id, {**witness.data, "sex": "female"}, 1)
    service.update(witness.id, {**witness.data, "sex": "unknown"}, 2)
    # the interview stops naming the case (its derived link goes), then names it again
    without_case = {k: v for k, v in interview.data.items() if k != "cases"}
    service.update(interview.id, without_case, 1)
    service.update(interview.id, interview.data, 2)
    # and then names another person (one derived link stays dropped)
    service.update(interview.id, {**interview.data, "interviewee": witness.id}, 3)
    service.delete(facility.id, 1, force=True)
    with monitor.session() as s:
        by_key = {
            (v.record_id, v.revision): v.doc
            for v in RecordStore(monitor.device_id).versions_since(s, 0)
        }

    def v(record_id: str, revision: int) -> dict[str, Any]:
        return copy.deepcopy(by_key[(record_id, revision)])

    def findings(data: dict[str, Any]) -> None:
        data["findings"] = "Інша версія: камери не переповнені."

    def sex(data: dict[str, Any]) -> None:
        data["sex"] = "female"

    return [
        v(visit.id, 1),  # refers to a facility that has not arrived yet
        v(interview.id, 1),  # refers to a person and a case not here yet
        v(facility.id, 1),
        v(person.id, 1),
        v(case.id, 1),
        v(visit.id, 1),  # the same version again: "same"
        v(witness.id, 3),  # revisions out of order: 3, then 1, then 2
        v(witness.id, 1),
        v(visit.id, 2),
        v(witness.id, 2),
        v(interview.id, 2),
        v(interview.id, 3),
        v(interview.id, 4),
        _other_content(v(visit.id, 2), findings),  # a conflict with the head's revision
        _other_content(v(witness.id, 1), sex),  # a conflict with an older revision
        v(facility.id, 2),  # a tombstone
        _other_content(v(visit.id, 2), findings),  # the conflicting version again: "same"
        v(person.id, 1),
    ]


def dump(vault: Vault) -> dict[str, Any]:
    """Every row the import writes, without the times it was written at."""
    with vault.session() as s:
        out = dump_session(s)
    out["search_service"] = sorted(h.record_id for h in SearchService(vault).search("камери").hits)
    return out


def dump_session(s: Session) -> dict[str, Any]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in s.execute(text(sql))]

    out: dict[str, Any] = {
        "records": rows("SELECT * FROM records ORDER BY num"),
        "versions": rows(
            "SELECT id, record_id, revision, doc, content_hash, deleted, saved_by_device, "
            "change_seq, origin FROM record_versions ORDER BY id"
        ),
        "links": rows(
            "SELECT from_id, to_id, kind, role, source, owner_id, deleted FROM record_links "
            "ORDER BY from_id, to_id, kind, role, owner_id"
        ),
        "conflicts": rows(
            "SELECT id, record_id, revision, local_hash, other_hash, other_device, resolved "
            "FROM record_conflicts ORDER BY id"
        ),
        "fts": search_index_rows(s),
        "audit": rows(
            "SELECT seq, actor, action, target_type, target_id, revision, content_hash, "
            "details FROM audit_log WHERE target_type = 'record' ORDER BY seq"
        ),
        "counter": rows("SELECT value FROM change_counter"),
    }
    for word in ("переповнені", "сім'я", "Катування", "W-018", "пліснява", "ізолятор"):
        hits, _more = SearchIndex.search(s, word)
        out[f"search:{word}"] = sorted(h.record_id for h in hits)
    return out


def _fresh(root: Path, name: str, kdf: KdfParams) -> Vault:
    return Vault.create(root / name, STRONG_PASSPHRASE, Role.COORDINATOR, kdf)


def _import_one_by_one(vault: Vault, docs: Sequence[dict[str, Any]], origin: str) -> list[str]:
    with vault.session() as s:
        store = RecordStore(vault.device_id)
        return [reference_import(store, s, d, origin) for d in docs]


def _import_batches(
    vault: Vault, docs: Sequence[dict[str, Any]], origin: str, size: int
) -> list[str]:
    out: list[str] = []
    with vault.session() as s:
        store = RecordStore(vault.device_id)
        for start in range(0, len(docs), size):
            out.extend(store.import_versions(s, docs[start : start + size], origin))
    return out


def test_batch_import_equals_one_by_one(
    new_vault: Vault, tmp_path: Path, fast_kdf: KdfParams
) -> None:
    docs = received_versions(new_vault)
    origin = new_vault.device_id
    vaults = {
        name: _fresh(tmp_path, name, fast_kdf)
        for name in ("reference", "single", "batch3", "batch_all")
    }
    try:
        outcomes = {
            "reference": _import_one_by_one(vaults["reference"], docs, origin),
            "single": _import_batches(vaults["single"], docs, origin, 1),
            "batch3": _import_batches(vaults["batch3"], docs, origin, 3),
            "batch_all": _import_batches(vaults["batch_all"], docs, origin, len(docs)),
        }
        expected = ["new"] * 5 + ["same"] + ["new"] * 7 + ["conflict"] * 2 + ["new", "same", "same"]
        for name, got in outcomes.items():
            assert got == expected, name
        dumps = {name: dump(v) for name, v in vaults.items()}
        reference = dumps["reference"]
        # the scenario really exercised what it is meant to
        assert len(reference["conflicts"]) == 2
        assert len({r[1] for r in reference["conflicts"]}) == 2
        assert any(row[6] for row in reference["links"])  # a derived link was dropped
        assert any(not row[6] for row in reference["links"])
        assert reference["search:переповнені"]
        assert reference["search:сім'я"]
        assert reference["search:ізолятор"] == []  # the facility is a tombstone
        for name in ("single", "batch3", "batch_all"):
            for table, rows in reference.items():
                assert dumps[name][table] == rows, (name, table)
        for vault in vaults.values():
            report = AuditService(vault).verify()
            assert report.ok, report
            assert report.own.versions_checked == len(reference["versions"])
        # importing everything again changes nothing
        again = _import_batches(vaults["batch_all"], docs, origin, 5)
        assert again == ["same"] * len(docs)
        assert dump(vaults["batch_all"]) == dumps["batch_all"]
    finally:
        for vault in vaults.values():
            vault.lock()


def test_heads_held_by_the_session_are_read_again(
    new_vault: Vault, tmp_path: Path, fast_kdf: KdfParams
) -> None:
    docs = received_versions(new_vault)
    office = _fresh(tmp_path, "office", fast_kdf)
    try:
        with office.session() as s:
            store = RecordStore(office.device_id)
            store.import_versions(s, docs[:3], new_vault.device_id)
            visit_id = docs[0]["id"]
            assert store.get(s, visit_id).revision == 1  # now held by the session
            store.import_versions(s, docs[3:], new_vault.device_id)
            assert store.get(s, visit_id).revision == 2
            assert store.get(s, docs[2]["id"]).deleted  # the facility's tombstone
    finally:
        office.lock()


def test_a_refused_document_names_its_place_and_nothing_is_kept(
    new_vault: Vault, tmp_path: Path, fast_kdf: KdfParams
) -> None:
    docs = received_versions(new_vault)
    office = _fresh(tmp_path, "office", fast_kdf)
    try:
        other_type = copy.deepcopy(docs[3])  # a person ...
        other_type["id"] = docs[2]["id"]  # ... under the facility's id
        broken = copy.deepcopy(docs[4])
        broken["revision"] = 0
        for bad, index, code in ((other_type, 5, "its type"), (broken, 5, "revision")):
            batch = [*docs[:5], bad, *docs[5:]]
            with pytest.raises(ImportBatchError) as caught, office.session() as s:
                RecordStore(office.device_id).import_versions(s, batch, new_vault.device_id)
            assert caught.value.index == index
            assert caught.value.error.code == ErrorCode.RECORD_INVALID
            assert code in caught.value.error.message()
            assert caught.value.message() == caught.value.error.message()
            with office.session() as s:
                assert s.query(RecordVersionRow).count() == 0
        # the single-document call raises the plain error
        with office.session() as s:
            store = RecordStore(office.device_id)
            store.import_version(s, docs[2], new_vault.device_id)
            with pytest.raises(FieldkitError) as single:
                store.import_version(s, other_type, new_vault.device_id)
            assert single.value.code == ErrorCode.RECORD_INVALID
    finally:
        office.lock()


def test_an_empty_batch_writes_nothing(new_coordinator_vault: Vault) -> None:
    with new_coordinator_vault.session() as s:
        before = s.execute(text("SELECT value FROM change_counter")).scalar_one()
        assert (
            RecordStore(new_coordinator_vault.device_id).import_versions(s, [], str(uuid.uuid4()))
            == []
        )
        assert s.execute(text("SELECT value FROM change_counter")).scalar_one() == before


class _Rollback(Exception):
    pass


def _dump_after(vault: Vault, work: Callable[[Session], list[str]]) -> tuple[list[str], Any]:
    """Run ``work`` in a session, dump what it wrote, and roll it all back."""
    result: tuple[list[str], Any] = ([], {})
    try:
        with vault.session() as s:
            outcomes = work(s)
            result = (outcomes, dump_session(s))
            raise _Rollback
    except _Rollback:
        pass
    return result


def test_any_order_and_any_batch_size_give_the_same_tables(
    new_vault: Vault, tmp_path: Path, fast_kdf: KdfParams
) -> None:
    docs = received_versions(new_vault)
    origin = new_vault.device_id
    reference_vault = _fresh(tmp_path, "reference", fast_kdf)
    batch_vault = _fresh(tmp_path, "batch", fast_kdf)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        # any order, and often the order they were saved in (so heads pass through each revision)
        order=st.one_of(
            st.lists(st.integers(0, len(docs) - 1), min_size=1, max_size=30),
            st.lists(st.integers(0, len(docs) - 1), min_size=1, max_size=30).map(sorted),
        ),
        size=st.integers(1, 8),
    )
    @example(order=list(range(len(docs))), size=3)
    @example(order=[1, 10, 11], size=1)  # a derived link dropped in one batch, back in the next
    @example(order=[12, 11, 10, 1, 13, 13, 8, 0], size=8)
    def check(order: list[int], size: int) -> None:
        chosen = [docs[i] for i in order]
        store_ref = RecordStore(reference_vault.device_id)
        store_batch = RecordStore(batch_vault.device_id)
        expected = _dump_after(
            reference_vault, lambda s: [reference_import(store_ref, s, d, origin) for d in chosen]
        )
        got = _dump_after(
            batch_vault,
            lambda s: [
                outcome
                for start in range(0, len(chosen), size)
                for outcome in store_batch.import_versions(s, chosen[start : start + size], origin)
            ],
        )
        assert got[0] == expected[0]
        for table, rows in expected[1].items():
            assert got[1][table] == rows, table

    try:
        check()
    finally:
        reference_vault.lock()
        batch_vault.lock()

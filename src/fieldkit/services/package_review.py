"""What a lawyer's profile holds: the received cases, each item's integrity checked against the
signed package manifest, and a case as the case-file builder takes it (a lawyer's PDF case file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.stream import CHUNK_SIZE, IO_BATCH, StreamError
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import display_name
from fieldkit.export.package_manifest import PackageManifest, WithheldEntry
from fieldkit.export.reports.data import CaseFileData, EvidenceView
from fieldkit.export.reports.data import RecordView as ReportRecord
from fieldkit.export.reports.people import by_code, by_date
from fieldkit.services.package_receive import _evidence_item, _manifest_of, custody_event
from fieldkit.services.roles import require_role
from fieldkit.storage.counsel_store import CounselStore
from fieldkit.storage.records import received_view
from fieldkit.storage.tables.counsel import CounselItemRow, ReceivedPackage
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class ReceivedCase:
    case_id: str
    title: str
    package_id: str
    seq: int
    created_at: str
    imported_at: str
    records: int
    evidence: int
    withheld: int
    changes: dict[str, Any]


def list_received(vault: Vault) -> list[ReceivedCase]:
    """Every case this lawyer's profile holds, with its current package."""
    require_role(vault, Role.LAWYER)
    out: list[ReceivedCase] = []
    with vault.session() as s:
        rows = s.execute(
            select(ReceivedPackage)
            .where(ReceivedPackage.status == "current")
            .order_by(ReceivedPackage.imported_at)
        ).scalars()
        for row in rows:
            manifest = _manifest_of(row)
            case_row = s.get(CounselItemRow, row.case_id)
            title = ""
            if case_row is not None:
                title = received_view(json.loads(bytes(case_row.doc)))[0].title
            out.append(
                ReceivedCase(
                    case_id=row.case_id,
                    title=title,
                    package_id=row.package_id,
                    seq=row.seq,
                    created_at=row.created_at,
                    imported_at=row.imported_at,
                    records=len(manifest.records),
                    evidence=len(manifest.evidence),
                    withheld=len(manifest.withheld),
                    changes=json.loads(row.changes),
                )
            )
    return out


def _current(s: Session, case_id: str) -> tuple[ReceivedPackage, PackageManifest]:
    row = s.execute(
        select(ReceivedPackage).where(
            ReceivedPackage.case_id == case_id, ReceivedPackage.status == "current"
        )
    ).scalar_one_or_none()
    if row is None:
        raise FieldkitError(ErrorCode.RECORD_NOT_FOUND, id=display_name(case_id, 40))
    return row, _manifest_of(row)


def _rows(s: Session, ids: Iterable[str]) -> dict[str, CounselItemRow]:
    wanted = list(ids)
    found: dict[str, CounselItemRow] = {}
    for start in range(0, len(wanted), 500):
        for row in s.execute(
            select(CounselItemRow).where(CounselItemRow.item_id.in_(wanted[start : start + 500]))
        ).scalars():
            found[row.item_id] = row
    return found


def case_data(vault: Vault, case_id: str) -> tuple[CaseFileData, list[WithheldEntry]]:
    """The received case as the case-file builder takes it, and what the package withheld."""
    require_role(vault, Role.LAWYER)
    with vault.session() as s:
        _row, manifest = _current(s, case_id)
        rows = _rows(s, [r.id for r in manifest.records] + [e.id for e in manifest.evidence])
        views: dict[str, list[ReportRecord]] = {}
        case_view: ReportRecord | None = None
        for entry in manifest.records:
            view = ReportRecord.from_doc(json.loads(bytes(rows[entry.id].doc)))
            if view.id == case_id:
                case_view = view
            else:
                views.setdefault(view.type, []).append(view)
        evidence: list[EvidenceView] = []
        for eentry in manifest.evidence:
            row = rows[eentry.id]
            item = _evidence_item(json.loads(bytes(row.doc)))
            events = [custody_event(e) for e in json.loads(row.custody or "[]")]
            evidence.append(EvidenceView.from_item(item, events))
    assert case_view is not None
    evidence.sort(key=lambda e: (e.collected_at, e.original_name, e.id))
    data = CaseFileData(
        case=case_view,
        persons=by_code(views.get("person", [])),
        interviews=by_date(views.get("interview", [])),
        visits=by_date(views.get("visit", [])),
        recommendations=by_date(views.get("recommendation", [])),
        evidence=evidence,
        facilities={v.id: v for v in views.get("facility", [])},
    )
    return data, list(manifest.withheld)


@dataclass(frozen=True)
class ItemIntegrity:
    kind: str
    id: str
    record_type: str | None
    title: str
    status: str  # ok | tampered | missing
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def review(
    vault: Vault,
    case_id: str,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> list[ItemIntegrity]:
    """Every item of a received case checked against the signed package manifest: each record's
    bytes and each original re-hashed from the encrypted store."""
    require_role(vault, Role.LAWYER)
    store = CounselStore(vault)
    with vault.session() as s:
        _row, manifest = _current(s, case_id)
        rows = _rows(s, [r.id for r in manifest.records] + [e.id for e in manifest.evidence])
        for row in rows.values():
            s.expunge(row)
    results: list[ItemIntegrity] = []
    for entry in manifest.records:
        found = rows.get(entry.id)
        if found is None:
            results.append(ItemIntegrity("record", entry.id, entry.type, "", "missing"))
            continue
        ok = hashlib.sha256(bytes(found.doc)).hexdigest() == entry.sha256
        title = ""
        with contextlib.suppress(FieldkitError, ValueError):
            title = received_view(json.loads(bytes(found.doc)))[0].title
        results.append(
            ItemIntegrity("record", entry.id, entry.type, title, "ok" if ok else "tampered")
        )
    total = sum(int(r.object_size or 0) for r in rows.values() if r.kind == "evidence")
    done = 0
    for eentry in manifest.evidence:
        check_cancel(cancel)
        item_row = rows.get(eentry.id)
        if item_row is None:
            results.append(ItemIntegrity("evidence", eentry.id, None, "", "missing"))
            continue
        doc = json.loads(bytes(item_row.doc))
        title = str(doc.get("title") or doc.get("original_name") or "")
        if hashlib.sha256(bytes(item_row.doc)).hexdigest() != eentry.sha256:
            results.append(ItemIntegrity("evidence", eentry.id, None, title, "tampered"))
            continue
        digest = hashlib.sha256()
        try:
            with store.open_item(item_row) as reader:
                buffer = bytearray(CHUNK_SIZE * IO_BATCH)
                while n := reader.readinto(buffer):
                    digest.update(memoryview(buffer)[:n])
                    done += n
                    if progress is not None:
                        progress(done, total, "verifying")
                    check_cancel(cancel)
        except FieldkitError as exc:
            status = "missing" if exc.code == ErrorCode.EVIDENCE_MISSING_FILE else "tampered"
            results.append(ItemIntegrity("evidence", eentry.id, None, title, status))
            continue
        except StreamError as exc:
            results.append(
                ItemIntegrity("evidence", eentry.id, None, title, "tampered", exc.reason)
            )
            continue
        ok = digest.hexdigest() == item_row.object_sha256 == doc.get("sha256")
        results.append(
            ItemIntegrity("evidence", eentry.id, None, title, "ok" if ok else "tampered")
        )
    return results

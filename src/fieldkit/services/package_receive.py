"""The lawyer's side of case packages: import (the review and the case file are in
``package_review``).

Import is all-or-nothing. The package is checked (export/package_read.py) while its objects
stream into the quarantine; then one transaction replaces what the previous package of the case
delivered: items the new package no longer carries are deleted (unless another case's current
package still carries them), changed items are replaced, new ones added. What changed is kept
with the package and shown to the lawyer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import CustodyEvent, EvidenceItem, ItemState, PreviewStatus
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import display_name
from fieldkit.export.bundle_read import ObjectSink
from fieldkit.export.manifest import CustodyEntry, EvidenceEntry, ObjectEntry, RecordEntry
from fieldkit.export.package_manifest import PackageManifest, WithheldEntry
from fieldkit.export.package_read import read_package
from fieldkit.services.counsel import counsel_identity, enrolled_org
from fieldkit.services.roles import require_role
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.counsel_store import CounselStore
from fieldkit.storage.evidence import PendingFile
from fieldkit.storage.records import RecordView, received_view
from fieldkit.storage.tables.counsel import CounselItemRow, ReceivedPackage
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class ChangedItem:
    """One item an import added, replaced or removed, as the lawyer is told about it."""

    kind: str  # record | evidence
    id: str
    record_type: str | None
    reason: str | None = None  # removed: the policy's reason code, if the package gives one
    explanation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PackageImportResult:
    path: str
    status: str  # imported | already_imported
    package_id: str
    case_id: str
    seq: int
    package_hash: str
    records: int
    evidence: int
    withheld: list[WithheldEntry] = field(default_factory=list)
    added: list[ChangedItem] = field(default_factory=list)
    updated: list[ChangedItem] = field(default_factory=list)
    removed: list[ChangedItem] = field(default_factory=list)
    superseded: str | None = None  # the package this one replaced

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "package_id": self.package_id,
            "case_id": self.case_id,
            "seq": self.seq,
            "package_hash": self.package_hash,
            "records": self.records,
            "evidence": self.evidence,
            "withheld": [w.to_json() for w in self.withheld],
            "added": [c.to_json() for c in self.added],
            "updated": [c.to_json() for c in self.updated],
            "removed": [c.to_json() for c in self.removed],
            "superseded": self.superseded,
        }


class _AlreadyImported(Exception):
    pass


class _Receiver:
    """The visitor: checks against this profile, keeps the verified pieces for the commit."""

    def __init__(self, vault: Vault, shown: str, store: CounselStore) -> None:
        self.vault = vault
        self.shown = shown
        self.store = store
        self.manifest: PackageManifest | None = None
        self.package_hash = ""
        self.current: ReceivedPackage | None = None
        self.records: list[tuple[RecordEntry, RecordView, bytes]] = []
        self.evidence: list[tuple[EvidenceEntry, dict[str, Any], bytes]] = []
        self.custody: dict[str, list[dict[str, Any]]] = {}
        self.objects: dict[str, _PendingSink] = {}
        self.taken: set[str] = set()  # objects published for a row of this import

    def _invalid(self, reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.PACKAGE_INVALID, path=self.shown, reason=reason)

    def on_signed(self, manifest: PackageManifest, package_hash: str) -> None:
        if manifest.counsel_id != self.vault.device_id:
            raise FieldkitError(ErrorCode.PACKAGE_NOT_ADDRESSED_HERE, path=self.shown)
        with self.vault.session() as s:
            org_id, _name, _key = enrolled_org(s)
            if manifest.org_id != org_id:
                raise FieldkitError(
                    ErrorCode.PACKAGE_UNKNOWN_SIGNER, path=self.shown, key_id=manifest.org_key_id
                )
            same = s.get(ReceivedPackage, manifest.package_id)
            if same is not None:
                if same.package_hash != package_hash:
                    raise self._invalid(
                        TranslatableText(N_("another package with this id is already here"))
                    )
                if same.status != "current":
                    newest = s.execute(
                        select(func.max(ReceivedPackage.seq)).where(
                            ReceivedPackage.case_id == manifest.case_id
                        )
                    ).scalar_one()
                    raise FieldkitError(
                        ErrorCode.PACKAGE_OUTDATED,
                        path=self.shown,
                        seq=manifest.seq,
                        current=newest,
                    )
                self.manifest, self.package_hash = manifest, package_hash
                raise _AlreadyImported
            current = s.execute(
                select(ReceivedPackage).where(
                    ReceivedPackage.case_id == manifest.case_id,
                    ReceivedPackage.status == "current",
                )
            ).scalar_one_or_none()
            if current is not None:
                if manifest.seq <= current.seq:
                    raise FieldkitError(
                        ErrorCode.PACKAGE_OUTDATED,
                        path=self.shown,
                        seq=manifest.seq,
                        current=current.seq,
                    )
                if manifest.seq == current.seq + 1 and manifest.supersedes != current.package_hash:
                    raise self._invalid(
                        TranslatableText(N_("it does not follow the package already here"))
                    )
                s.expunge(current)
            self.current = current
        self.manifest, self.package_hash = manifest, package_hash

    def on_record(self, entry: RecordEntry, doc: dict[str, Any]) -> None:
        try:
            view, canonical = received_view(doc)
        except FieldkitError as exc:
            raise self._invalid(f"{entry.member}: {exc.message()}") from None
        if hashlib.sha256(canonical).hexdigest() != entry.sha256:
            raise self._invalid(f"{entry.member} is not in canonical form")
        self.records.append((entry, view, canonical))

    def on_evidence(self, entry: EvidenceEntry, doc: dict[str, Any]) -> None:
        try:
            _evidence_item(doc)
            canonical = canonical_dumps(doc)
        except (ValueError, TypeError):
            raise self._invalid(f"{entry.member} is not a valid evidence description") from None
        if hashlib.sha256(canonical).hexdigest() != entry.sha256:
            raise self._invalid(f"{entry.member} is not in canonical form")
        self.evidence.append((entry, doc, canonical))

    def on_custody(self, entry: CustodyEntry, events: list[Any]) -> None:
        described = {e.id for e, _d, _c in self.evidence}
        for event in events:
            try:
                custody_event(event)
            except ValueError:
                raise self._invalid("a custody event is malformed") from None
            item_id = str(event.get("item_id"))
            if item_id not in described:
                raise self._invalid("a custody event names an item that is not in the package")
            self.custody.setdefault(item_id, []).append(dict(event))

    def open_object(self, entry: ObjectEntry) -> ObjectSink:
        # Straight into the lawyer's store, encrypted as it streams; published only when an
        # item takes it, discarded if the import fails.
        sink = _PendingSink(self.store.files.begin(entry.size))
        self.objects[entry.sha256] = sink
        return sink

    def discard(self, keep: frozenset[str] | set[str] = frozenset()) -> None:
        """Remove every staged original except the ones in ``keep`` (taken by a committed row)."""
        for sha, sink in self.objects.items():
            if sha not in keep:
                sink.pending.discard()


class _PendingSink:
    """The reader's object sink over a file of the lawyer's store."""

    def __init__(self, pending: PendingFile) -> None:
        self.pending = pending

    def write(self, data: bytes, /) -> object:
        return self.pending.write(data)

    def commit(self) -> None:
        self.pending.seal()

    def abort(self) -> None:
        self.pending.discard()


def _evidence_item(doc: dict[str, Any]) -> EvidenceItem:
    """An evidence description as the item model reads it (as the bundle import does)."""
    return EvidenceItem.model_validate(
        {
            **{k: v for k, v in doc.items() if k != "format"},
            "preview_status": PreviewStatus.NONE.value,
            "change_seq": 0,
            "state": ItemState.STORED.value,
        }
    )


def custody_event(doc: dict[str, Any]) -> CustodyEvent:
    """A custody event from its exchange form (``event_doc``)."""
    return CustodyEvent.model_validate(
        {**{k: v for k, v in doc.items() if k != "v"}, "change_seq": 0}
    )


def _manifest_of(row: ReceivedPackage) -> PackageManifest:
    return PackageManifest.from_json(json.loads(bytes(row.manifest)))


def _ids(manifest: PackageManifest) -> dict[str, tuple[str, str | None]]:
    """item id -> (kind, record type) of everything a package carries."""
    out: dict[str, tuple[str, str | None]] = {r.id: ("record", r.type) for r in manifest.records}
    out.update({e.id: ("evidence", None) for e in manifest.evidence})
    return out


def import_package(
    vault: Vault,
    path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> PackageImportResult:
    """Check and import one case package into this lawyer's profile (all or nothing)."""
    require_role(vault, Role.LAWYER)
    shown = display_name(str(path), 200)
    identity = counsel_identity(vault)
    with vault.session() as s:
        _org_id, _name, org_key = enrolled_org(s)
    store = CounselStore(vault)
    receiver = _Receiver(vault, shown, store)
    copies: list[str] = []
    committed = False
    try:
        # Held until the rows commit: the start-up clean-up of another process must not take
        # a file that is published but not yet named by a row.
        with store.files.writer_lock():
            try:
                read = read_package(
                    Path(path),
                    identity=identity,
                    org_key=org_key,
                    visitor=receiver,
                    progress=progress,
                    cancel=cancel,
                )
            except _AlreadyImported:
                manifest = receiver.manifest
                assert manifest is not None
                return PackageImportResult(
                    path=shown,
                    status="already_imported",
                    package_id=manifest.package_id,
                    case_id=manifest.case_id,
                    seq=manifest.seq,
                    package_hash=receiver.package_hash,
                    records=len(manifest.records),
                    evidence=len(manifest.evidence),
                    withheld=list(manifest.withheld),
                )
            manifest = read.manifest
            described = {doc.get("sha256") for _e, doc, _c in receiver.evidence}
            if described != {o.sha256 for o in manifest.objects}:
                raise receiver._invalid("the evidence descriptions and the files disagree")
            check_cancel(cancel)
            with vault.session() as s:
                result = _apply(vault, s, store, receiver, manifest, read.package_hash, copies)
            committed = True
    finally:
        if committed:
            receiver.discard(keep=receiver.taken)
        else:
            receiver.discard()
            store.delete_files(copies)
    store.delete_files(result.pop("files"))
    out: PackageImportResult = result.pop("result")
    return out


def _apply(
    vault: Vault,
    s: Session,
    store: CounselStore,
    receiver: _Receiver,
    manifest: PackageManifest,
    package_hash: str,
    copies: list[str],
) -> dict[str, Any]:
    now = utc_now()
    previous = receiver.current
    old = _ids(_manifest_of(previous)) if previous is not None else {}
    new = _ids(manifest)
    others: set[str] = set()
    for other in s.execute(
        select(ReceivedPackage).where(
            ReceivedPackage.status == "current", ReceivedPackage.case_id != manifest.case_id
        )
    ).scalars():
        others.update(_ids(_manifest_of(other)))
    existing = {
        row.item_id: row
        for start in range(0, len(new), 500)
        for row in s.execute(
            select(CounselItemRow).where(CounselItemRow.item_id.in_(list(new)[start : start + 500]))
        ).scalars()
    }
    added: list[ChangedItem] = []
    updated: list[ChangedItem] = []
    replaced: list[str] = []
    rows: list[CounselItemRow] = []
    for entry, view, canonical in receiver.records:
        row = existing.get(entry.id)
        if row is not None and row.doc_sha256 == entry.sha256:
            row.package_id = manifest.package_id
            continue
        if row is not None:
            replaced.append(entry.id)
        (updated if entry.id in old or row is not None else added).append(
            ChangedItem("record", entry.id, view.type)
        )
        rows.append(
            CounselItemRow(
                item_id=entry.id,
                kind="record",
                record_type=view.type,
                doc=canonical,
                doc_sha256=entry.sha256,
                package_id=manifest.package_id,
                received_at=now,
            )
        )
    for eentry, doc, canonical in receiver.evidence:
        custody = receiver.custody.get(eentry.id, [])
        custody_text = canonical_dumps(custody).decode("utf-8")
        row = existing.get(eentry.id)
        if row is not None and row.doc_sha256 == eentry.sha256 and row.custody == custody_text:
            row.package_id = manifest.package_id
            continue
        if row is not None:
            replaced.append(eentry.id)
        (updated if eentry.id in old or row is not None else added).append(
            ChangedItem("evidence", eentry.id, None)
        )
        sha, size = str(doc["sha256"]), int(doc["size"])
        pending = receiver.objects[sha].pending
        assert pending.sealed is not None
        if sha not in receiver.taken:
            pending.publish()
            receiver.taken.add(sha)
            sealed = pending.sealed
        else:  # a second item with the same original: a file of its own
            sealed = store.copy(pending.sealed)
            copies.append(sealed.storage_name)
        if sealed.sha256 != sha or sealed.size != size:
            raise FieldkitError(
                ErrorCode.PACKAGE_TAMPERED,
                path=receiver.shown,
                reason=TranslatableText(N_("an entry does not match its signed checksum")),
            )
        rows.append(
            CounselItemRow(
                item_id=eentry.id,
                kind="evidence",
                doc=canonical,
                doc_sha256=eentry.sha256,
                object_sha256=sha,
                object_size=size,
                custody=custody_text,
                storage_name=sealed.storage_name,
                file_id=sealed.file_id,
                wrapped_dek=store.wrap(eentry.id, sealed),
                package_id=manifest.package_id,
                received_at=now,
            )
        )
    reasons = {w.id: w for w in manifest.withheld if w.kind != "field"}
    gone = [item_id for item_id in old if item_id not in new and item_id not in others]
    removed = [
        ChangedItem(
            old[item_id][0],
            item_id,
            old[item_id][1],
            reasons[item_id].reason if item_id in reasons else None,
            reasons[item_id].explanation if item_id in reasons else None,
        )
        for item_id in gone
    ]
    files = CounselStore.remove_rows(s, [*gone, *replaced])
    s.flush()
    s.add_all(rows)
    if previous is not None:
        current = s.get(ReceivedPackage, previous.package_id)
        assert current is not None
        current.status = "superseded"
        s.flush()
    result = PackageImportResult(
        path=receiver.shown,
        status="imported",
        package_id=manifest.package_id,
        case_id=manifest.case_id,
        seq=manifest.seq,
        package_hash=package_hash,
        records=len(manifest.records),
        evidence=len(manifest.evidence),
        withheld=list(manifest.withheld),
        added=added,
        updated=updated,
        removed=removed,
        superseded=previous.package_id if previous is not None else None,
    )
    s.add(
        ReceivedPackage(
            package_id=manifest.package_id,
            case_id=manifest.case_id,
            seq=manifest.seq,
            package_hash=package_hash,
            created_at=manifest.created_at,
            imported_at=now,
            status="current",
            manifest=manifest.to_bytes(),
            changes=canonical_dumps(
                {
                    "added": [c.to_json() for c in added],
                    "updated": [c.to_json() for c in updated],
                    "removed": [c.to_json() for c in removed],
                }
            ).decode("utf-8"),
        )
    )
    AuditLog.append(
        s,
        "package.import",
        "case",
        manifest.case_id,
        content_hash=package_hash,
        details={
            "package_id": manifest.package_id,
            "seq": manifest.seq,
            "added": len(added),
            "updated": len(updated),
            "removed": len(removed),
        },
    )
    return {"result": result, "files": files}


def startup_cleanup(vault: Vault) -> None:
    """Files left by an interrupted import (lawyer profiles only)."""
    if vault.role == Role.LAWYER:
        CounselStore(vault).cleanup()

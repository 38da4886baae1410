"""Bundle export (monitor): everything above the acknowledged change mark, streamed in constant
memory to ``<random>.fkb.partial``, synced and renamed; the export state is committed only when the
bundle is complete."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_write import MemberChangedError, write_bundle
from fieldkit.export.manifest import (
    AuditEntry,
    CustodyEntry,
    EvidenceEntry,
    Manifest,
    ObjectEntry,
    RecordEntry,
)
from fieldkit.services import trust
from fieldkit.services.roles import require_role
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.changes import current_change_seq
from fieldkit.storage.fsutil import FILE_MODE, fsync_dir
from fieldkit.storage.tables.bundles import (
    ExportedBundle,
    ExportState,
)
from fieldkit.storage.tables.evidence import CustodyEventRow, EvidenceItemRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.storage.records import RecordStore
from fieldkit.services.bundles.common import (
    BUNDLE_SUFFIX,
    DEFAULT_MEDIA_TYPE,
    MAX_BUNDLE_RECORDS,
    PARTIAL_SUFFIX,
    READ_BLOCK,
    ExportResult,
    _BackgroundWriter,
)

# --- export (monitor) ----------------------------------------------------------------------------


@dataclass
class _RecordPlan:
    entry: RecordEntry
    change_seq: int


def _media_type(value: Any) -> str:
    from fieldkit.export.manifest import _MEDIA_RE

    text = str(value or "").lower()
    return text if _MEDIA_RE.fullmatch(text) else DEFAULT_MEDIA_TYPE


def _record_plans(
    store: RecordStore, session: Session, since: int, through: int, *, with_type: bool = True
) -> Iterator[tuple[RecordEntry, bytes, int]]:
    """Record versions to carry; ``with_type=False`` skips parsing each document (the second,
    streaming pass needs only the member name and the bytes)."""
    seen: set[tuple[str, int]] = set()
    for version in store.versions_since(session, since):
        if version.change_seq > through:
            return
        key = (version.record_id, version.revision)
        if key in seen:
            continue  # a second version of one revision (a conflict copy) travels once
        seen.add(key)
        canonical = version.canonical
        entry = RecordEntry(
            id=version.record_id,
            type=str(version.doc.get("type")) if with_type else "",
            revision=version.revision,
            operation="delete" if version.deleted else "upsert",
            sha256=hashlib.sha256(canonical).hexdigest(),
            size=len(canonical),
        )
        yield entry, canonical, version.change_seq


def _change_seqs(session: Session, table: Any, since: int) -> dict[str, int]:
    rows = session.execute(select(table.id, table.change_seq).where(table.change_seq > since))
    return {str(row[0]): int(row[1]) for row in rows}


def _file_chunks(source: BinaryIO, cancel: CancelToken | None) -> Iterator[bytes]:
    with source:
        while True:
            block = source.read(READ_BLOCK)
            if not block:
                return
            yield block
            check_cancel(cancel)


def export_bundle(
    vault: Vault,
    to_dir: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write one bundle with everything the organisation has not acknowledged yet."""
    require_role(vault, Role.MONITOR)
    from fieldkit.services.evidence import EvidenceService

    to_dir = Path(to_dir)
    if not to_dir.is_dir():
        raise FieldkitError(ErrorCode.FOLDER_NOT_FOUND, path=str(to_dir))
    from fieldkit.storage.records import RecordStore

    _remove_stale_partials(to_dir)
    store = RecordStore(vault.device_id)
    evidence = EvidenceService(vault)
    signing_key = vault.device_signing_key()
    device_key = trust.device_public_key(vault)
    name = secrets.token_hex(16) + BUNDLE_SUFFIX
    final = to_dir / name
    partial = to_dir / (name + PARTIAL_SUFFIX)
    committed: tuple[str, int, str | None] | None = None  # bundle id, previous seq and hash
    try:
        with vault.session() as s:
            # One read transaction: both passes over the data see the same snapshot even if the
            # desktop program saves something meanwhile. The state is written afterwards.
            s.connection().exec_driver_sql("BEGIN")
            enrolled = trust.enrolment(s)
            state = s.get(ExportState, 1)
            assert state is not None
            ack = state.acknowledged_through
            audit_ack = state.audit_acknowledged_through
            through = current_change_seq(s)
            records: list[RecordEntry] = []
            for entry, _canonical, change_seq in _record_plans(store, s, ack, through):
                records.append(entry)
                if len(records) == MAX_BUNDLE_RECORDS:
                    through = change_seq  # the rest travels in the next bundle
                    break
            evidence_seq = _change_seqs(s, EvidenceItemRow, ack)
            evidence_docs = [
                doc
                for doc in evidence.items_since(s, ack)
                if evidence_seq.get(str(doc["id"]), 0) <= through
            ]
            evidence_entries: list[EvidenceEntry] = []
            objects: dict[str, ObjectEntry] = {}
            object_item: dict[str, str] = {}
            for doc in evidence_docs:
                raw = canonical_dumps(doc)
                evidence_entries.append(
                    EvidenceEntry(
                        id=str(doc["id"]), sha256=hashlib.sha256(raw).hexdigest(), size=len(raw)
                    )
                )
                sha = str(doc["sha256"])
                if sha not in objects:
                    objects[sha] = ObjectEntry(
                        sha, int(doc["size"]), _media_type(doc.get("media_type"))
                    )
                    object_item[sha] = str(doc["id"])
            audit_docs = [e.to_doc() for e in AuditLog.entries_since(s, audit_ack)]
            audit_through = max((int(d["seq"]) for d in audit_docs), default=audit_ack)
            custody_seq = _change_seqs(s, CustodyEventRow, ack)
            custody_docs = [
                doc
                for doc in evidence.custody_since(s, ack)
                if custody_seq.get(str(doc["id"]), 0) <= through
            ]
            if not (records or evidence_entries or audit_docs or custody_docs):
                raise FieldkitError(ErrorCode.NOTHING_TO_EXPORT)
            audit_bytes = canonical_dumps(audit_docs) if audit_docs else b""
            custody_bytes = canonical_dumps(custody_docs) if custody_docs else b""
            manifest = Manifest(
                bundle_id=str(uuid.uuid4()),
                created_at=utc_now(),
                device_id=vault.device_id,
                device_key_id=device_key.id_hex,
                org_recipients=[r.fingerprint() for r in enrolled.recipients],
                seq=state.last_seq + 1,
                prev=state.last_hash,
                change_from=ack,
                change_through=through,
                records=records,
                evidence=evidence_entries,
                audit=AuditEntry(
                    hashlib.sha256(audit_bytes).hexdigest(), len(audit_bytes), len(audit_docs)
                )
                if audit_docs
                else None,
                custody=CustodyEntry(
                    hashlib.sha256(custody_bytes).hexdigest(), len(custody_bytes), len(custody_docs)
                )
                if custody_docs
                else None,
                objects=list(objects.values()),
            )
            estimate = sum(size for _n, _s, size in manifest.members()) + 16 * 1024 * 1024
            if shutil.disk_usage(to_dir).free < estimate:
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(to_dir))

            def contents() -> Iterator[tuple[str, Iterable[bytes]]]:
                for entry, canonical, _seq in _record_plans(
                    store, s, ack, through, with_type=False
                ):
                    yield entry.member, (canonical,)
                for doc, eentry in zip(evidence_docs, evidence_entries, strict=True):
                    yield eentry.member, (canonical_dumps(doc),)
                if audit_docs:
                    yield "audit.json", (audit_bytes,)
                if custody_docs:
                    yield "custody.json", (custody_bytes,)
                for sha, oentry in objects.items():
                    source = evidence.open_for_bundle(s, object_item[sha])
                    yield oentry.member, _file_chunks(source, cancel)

            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            try:
                out = _BackgroundWriter(fd)
                try:
                    written = write_bundle(
                        out,  # type: ignore[arg-type]
                        manifest=manifest,
                        recipients=enrolled.recipients,
                        signing_key=signing_key,
                        contents=contents(),
                        progress=progress,
                        cancel=cancel,
                    )
                    out.finish(sync=True)
                except BaseException:
                    out.abandon()
                    raise
            finally:
                os.close(fd)
            last_seq, last_hash = state.last_seq, state.last_hash
        with vault.session() as s:
            state = s.get(ExportState, 1)
            assert state is not None
            if state.last_seq != last_seq or state.acknowledged_through != ack:
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail="another export or receipt changed the export state; export again",
                )
            s.add(
                ExportedBundle(
                    bundle_id=manifest.bundle_id,
                    seq=manifest.seq,
                    bundle_hash=written.bundle_hash,
                    change_from=ack,
                    change_through=through,
                    audit_through=audit_through,
                    created_at=manifest.created_at,
                    file_name=name,
                    acknowledged=False,
                )
            )
            previous = (manifest.bundle_id, last_seq, last_hash)
            state.last_seq = manifest.seq
            state.last_hash = written.bundle_hash
            # Each original that left gets a custody event. The events take change numbers above
            # this bundle's range, so the next bundle carries them (the items themselves do not
            # change, so their files do not travel again).
            recipient = ",".join(manifest.org_recipients)
            for eentry in evidence_entries:
                evidence.record_bundle_export(
                    s, eentry.id, bundle_id=manifest.bundle_id, recipient=recipient
                )
        committed = previous
        # Committed first, renamed second: a rename that fails is undone below, while a bundle
        # that exists without its state row could never be told apart from a forged one.
        os.replace(partial, final)
        with contextlib.suppress(OSError):
            fsync_dir(to_dir)
    except MemberChangedError as exc:
        _undo_export(vault, partial, committed)
        raise FieldkitError(
            ErrorCode.EVIDENCE_TAMPERED,
            id=exc.member,
            reason=TranslatableText(N_("changed while it was exported")),
        ) from None
    except OSError as exc:
        _undo_export(vault, partial, committed)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(to_dir)) from None
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(to_dir), reason=os_reason(exc)
        ) from None
    except BaseException:
        _undo_export(vault, partial, committed)
        raise
    return ExportResult(
        path=final,
        bundle_id=manifest.bundle_id,
        seq=manifest.seq,
        bundle_hash=written.bundle_hash,
        records=len(manifest.records),
        evidence=len(manifest.evidence),
        objects=len(manifest.objects),
        audit_entries=len(audit_docs),
        custody_events=len(custody_docs),
        payload_bytes=written.payload_bytes,
        encrypted_bytes=written.encrypted_bytes,
        change_from=ack,
        change_through=through,
    )


_PARTIAL_NAME = re.compile(r"[0-9a-f]{32}\.fkb\.partial")


def _remove_stale_partials(directory: Path) -> None:
    """A bundle being written when the laptop died leaves ``<32 hex>.fkb.partial``; only such
    names (ours, and never complete bundles) are removed."""
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            if _PARTIAL_NAME.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.unlink()


def _undo_export(
    vault: Vault, partial: Path, committed: tuple[str, int, str | None] | None
) -> None:
    with contextlib.suppress(OSError):
        partial.unlink()
    if committed is None:
        return
    bundle_id, last_seq, last_hash = committed
    with vault.session() as s:
        row = s.get(ExportedBundle, bundle_id)
        if row is not None:
            s.delete(row)
        state = s.get(ExportState, 1)
        assert state is not None
        state.last_seq = last_seq
        state.last_hash = last_hash

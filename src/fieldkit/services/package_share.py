"""The coordinator's side of case packages: ``share_case`` writes one case, as the disclosure
policy allows it for counsel, into a package for one enrolled lawyer (docs/bundle-format.md §15).

What goes in is decided by ``services/disclosure_counsel.py``, the one place that asks the
policy; this
module only packs what it returns. Each package of a case to a lawyer has the next number and
names the previous one, so the lawyer's profile replaces the earlier with the later.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select

from fieldkit.crypto.age import X25519Recipient
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_write import MemberChangedError, write_bundle
from fieldkit.export.manifest import CustodyEntry, EvidenceEntry, ObjectEntry, RecordEntry
from fieldkit.export.package_manifest import (
    PACKAGE_UNTRUSTED_COMMENT,
    PackageManifest,
    WithheldEntry,
)
from fieldkit.services import trust
from fieldkit.services.counsel import find_counsel
from fieldkit.services.disclosure_counsel import disclosed_case_for_counsel
from fieldkit.services.roles import require_role
from fieldkit.services.trust import org_keys
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.fsutil import FILE_MODE, fsync_dir
from fieldkit.storage.tables.counsel import SentPackage
from fieldkit.storage.vault import Vault

PACKAGE_SUFFIX = ".fkp"
READ_BLOCK = 1024 * 1024
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ShareResult:
    path: Path
    package_id: str
    case_id: str
    counsel_id: str
    counsel_label: str
    seq: int
    package_hash: str
    records: int
    evidence: int
    withheld: list[WithheldEntry]
    encrypted_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "package_id": self.package_id,
            "case_id": self.case_id,
            "counsel_id": self.counsel_id,
            "counsel_label": self.counsel_label,
            "seq": self.seq,
            "package_hash": self.package_hash,
            "records": self.records,
            "evidence": self.evidence,
            "withheld": [w.to_json() for w in self.withheld],
            "encrypted_bytes": self.encrypted_bytes,
        }


def _file_chunks(source: BinaryIO, cancel: CancelToken | None) -> Iterator[bytes]:
    with source:
        while block := source.read(READ_BLOCK):
            yield block
            check_cancel(cancel)


def share_case(
    vault: Vault,
    case_id: str,
    counsel_ref: str,
    out_dir: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ShareResult:
    """Write the package of ``case_id`` for the enrolled lawyer ``counsel_ref`` into ``out_dir``."""
    require_role(vault, Role.COORDINATOR)
    from fieldkit.services.evidence import EvidenceService

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FieldkitError(ErrorCode.FOLDER_NOT_FOUND, path=str(out_dir))
    with vault.session() as s:
        counsel = find_counsel(s, counsel_ref)
        if counsel.status != "active":
            raise FieldkitError(ErrorCode.COUNSEL_REVOKED, label=counsel.label)
        counsel_id, counsel_label = counsel.counsel_id, counsel.label
        recipient = X25519Recipient.parse(counsel.recipient)
        info = org_keys._org_info(org_keys._org_row(s))
        signing_key = trust.org_signing_key(s)
        last_seq = (
            s.execute(
                select(func.max(SentPackage.seq)).where(
                    SentPackage.case_id == case_id, SentPackage.counsel_id == counsel_id
                )
            ).scalar()
            or 0
        )
        previous = s.execute(
            select(SentPackage.package_hash).where(
                SentPackage.case_id == case_id,
                SentPackage.counsel_id == counsel_id,
                SentPackage.seq == last_seq,
            )
        ).scalar_one_or_none()
    content = disclosed_case_for_counsel(vault, case_id, cancel)
    check_cancel(cancel)
    record_bytes = [canonical_dumps(doc) for doc in content.records]
    evidence_bytes = [canonical_dumps(item.doc) for item in content.evidence]
    custody_bytes = canonical_dumps(content.custody) if content.custody else b""
    objects: dict[str, ObjectEntry] = {}
    object_item: dict[str, str] = {}
    for item in content.evidence:
        if item.sha256 not in objects:
            objects[item.sha256] = ObjectEntry(item.sha256, item.size, item.media_type)
            object_item[item.sha256] = item.item_id
    manifest = PackageManifest(
        package_id=str(uuid.uuid4()),
        created_at=utc_now(),
        org_id=info.org_id,
        org_key_id=info.key_id,
        counsel_id=counsel_id,
        counsel_recipient=recipient.fingerprint(),
        case_id=case_id,
        seq=last_seq + 1,
        supersedes=previous,
        records=[
            RecordEntry(
                id=str(doc["id"]),
                type=str(doc["type"]),
                revision=int(doc["revision"]),
                operation="upsert",
                sha256=hashlib.sha256(raw).hexdigest(),
                size=len(raw),
            )
            for doc, raw in zip(content.records, record_bytes, strict=True)
        ],
        evidence=[
            EvidenceEntry(item.item_id, hashlib.sha256(raw).hexdigest(), len(raw))
            for item, raw in zip(content.evidence, evidence_bytes, strict=True)
        ],
        custody=CustodyEntry(
            hashlib.sha256(custody_bytes).hexdigest(), len(custody_bytes), len(content.custody)
        )
        if content.custody
        else None,
        objects=list(objects.values()),
        withheld=list(content.withheld),
    )
    evidence = EvidenceService(vault)
    name = secrets.token_hex(16) + PACKAGE_SUFFIX
    final = out_dir / name
    partial = out_dir / (name + ".partial")
    renamed = committed = False
    try:
        with vault.session() as s:

            def contents() -> Iterator[tuple[str, Iterable[bytes]]]:
                for entry, raw in zip(manifest.records, record_bytes, strict=True):
                    yield entry.member, (raw,)
                for eentry, raw in zip(manifest.evidence, evidence_bytes, strict=True):
                    yield eentry.member, (raw,)
                if content.custody:
                    yield "custody.json", (custody_bytes,)
                for sha, oentry in objects.items():
                    yield (
                        oentry.member,
                        _file_chunks(evidence.open_for_bundle(s, object_item[sha]), cancel),
                    )

            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            with open(fd, "wb") as sink:
                written = write_bundle(
                    sink,
                    manifest=manifest,
                    recipients=[recipient],
                    signing_key=signing_key,
                    contents=contents(),
                    untrusted_comment=PACKAGE_UNTRUSTED_COMMENT,
                    progress=progress,
                    cancel=cancel,
                )
                sink.flush()
                os.fsync(sink.fileno())
        with vault.session() as s:
            s.add(
                SentPackage(
                    package_id=manifest.package_id,
                    case_id=case_id,
                    counsel_id=counsel_id,
                    seq=manifest.seq,
                    package_hash=written.bundle_hash,
                    created_at=manifest.created_at,
                    records=len(manifest.records),
                    evidence=len(manifest.evidence),
                    withheld=len(manifest.withheld),
                )
            )
            for eentry in manifest.evidence:
                evidence.record_bundle_export(
                    s, eentry.id, bundle_id=manifest.package_id, recipient=counsel_id
                )
            AuditLog.append(
                s,
                "package.share",
                "case",
                case_id,
                content_hash=written.bundle_hash,
                details={
                    "package_id": manifest.package_id,
                    "counsel_id": counsel_id,
                    "seq": manifest.seq,
                    "records": len(manifest.records),
                    "evidence": len(manifest.evidence),
                    "withheld": len(manifest.withheld),
                },
            )
            # Inside the transaction: if the rename fails, nothing is recorded as sent; if the
            # commit fails, the renamed file is removed below.
            os.replace(partial, final)
            renamed = True
        committed = True
        with contextlib.suppress(OSError):
            fsync_dir(out_dir)
    except MemberChangedError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        if renamed and not committed:
            with contextlib.suppress(OSError):
                final.unlink()
        raise FieldkitError(
            ErrorCode.EVIDENCE_TAMPERED,
            id=exc.member,
            reason=TranslatableText(N_("changed while it was exported")),
        ) from None
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        if renamed and not committed:
            with contextlib.suppress(OSError):
                final.unlink()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(out_dir)) from None
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(out_dir), reason=os_reason(exc)
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        if renamed and not committed:
            with contextlib.suppress(OSError):
                final.unlink()
        raise
    return ShareResult(
        path=final,
        package_id=manifest.package_id,
        case_id=case_id,
        counsel_id=counsel_id,
        counsel_label=counsel_label,
        seq=manifest.seq,
        package_hash=written.bundle_hash,
        records=len(manifest.records),
        evidence=len(manifest.evidence),
        withheld=list(manifest.withheld),
        encrypted_bytes=written.encrypted_bytes,
    )

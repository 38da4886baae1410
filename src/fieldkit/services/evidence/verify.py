"""Verifying evidence: every stored original re-hashed against its recorded SHA-256."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from fieldkit.crypto.stream import CHUNK_SIZE, IO_BATCH, StreamAuthError, StreamError
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError
from fieldkit.domain.evidence import CustodyAction, ItemState, VerifyResult
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.services.evidence.core import EvidenceBase
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.tables.evidence import EvidenceItemRow


class VerifyMixin(EvidenceBase):
    """Re-hashing stored originals, each result logged in custody."""

    def verify(
        self,
        item_id: str | None = None,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> list[VerifyResult]:
        """Re-hash one item (or every stored item) from the store against its recorded SHA-256.

        Each result is logged in the item's custody: "hash_verified" or "integrity_failure".
        """
        with self.vault.session() as session:
            if item_id is not None:
                rows = [self.store.get_row(session, item_id)]
            else:
                rows = list(
                    session.execute(
                        select(EvidenceItemRow).order_by(
                            EvidenceItemRow.created_at, EvidenceItemRow.id
                        )
                    ).scalars()
                )
        total = sum(r.size for r in rows if r.state == ItemState.STORED.value)
        done = 0
        results: list[VerifyResult] = []
        for row in rows:
            if cancel is not None:
                cancel.raise_if_cancelled()
            result = self._verify_row(row, done, total, progress, cancel)
            done += row.size if row.state == ItemState.STORED.value else 0
            results.append(result)
            if result.status == "purged":
                continue
            with self.vault.session() as session:
                fresh = self.store.get_row(session, row.id)
                if result.ok:
                    self._custody(
                        session,
                        fresh,
                        CustodyAction.HASH_VERIFIED,
                        hash_before=fresh.sha256,
                        hash_after=result.actual_sha256,
                    )
                else:
                    self._custody(
                        session,
                        fresh,
                        CustodyAction.INTEGRITY_FAILURE,
                        hash_before=fresh.sha256,
                        hash_after=result.actual_sha256,
                        details={
                            k: v
                            for k, v in (
                                ("status", result.status),
                                ("detail", result.detail),
                                ("chunk", result.chunk),
                            )
                            if v is not None
                        },
                    )
                    AuditLog.append(
                        session,
                        "evidence.integrity_failure",
                        "evidence",
                        row.id,
                        content_hash=row.sha256,
                        details={"status": result.status},
                    )
        return results

    def _verify_row(
        self,
        row: EvidenceItemRow,
        done: int,
        total: int,
        progress: ProgressFn | None,
        cancel: CancelToken | None,
    ) -> VerifyResult:
        base = {"item_id": row.id, "expected_sha256": row.sha256}
        if row.state == ItemState.PURGED.value or row.wrapped_dek is None:
            return VerifyResult(ok=True, status="purged", **base)
        file_status = self.store.file_status(row)
        if file_status == "missing":
            return VerifyResult(
                ok=False, status="missing", detail=N_("the stored file is missing"), **base
            )
        digest = hashlib.sha256()
        size = 0
        try:
            with self.store.open_row(row) as reader:
                buffer = bytearray(CHUNK_SIZE * IO_BATCH)
                while n := reader.readinto(buffer):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    digest.update(memoryview(buffer)[:n])
                    size += n
                    if progress is not None:
                        progress(done + size, total, "verifying")
        except StreamError as exc:
            chunk = exc.chunk if isinstance(exc, StreamAuthError) else None
            return VerifyResult(ok=False, status="tampered", detail=exc.reason, chunk=chunk, **base)
        except FieldkitError as exc:
            if exc.code in (ErrorCode.EVIDENCE_TAMPERED, ErrorCode.EVIDENCE_MISSING_FILE):
                return VerifyResult(
                    ok=False, status="tampered", detail=str(exc.params.get("reason")), **base
                )
            raise
        actual = digest.hexdigest()
        if actual != row.sha256 or size != row.size:
            return VerifyResult(
                ok=False,
                status="tampered",
                detail=N_("the content does not match the recorded SHA-256"),
                actual_sha256=actual,
                **base,
            )
        return VerifyResult(ok=True, status="ok", actual_sha256=actual, **base)

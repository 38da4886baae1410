"""Exporting an original, byte for byte, to a file outside the profile."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.crypto.stream import CHUNK_SIZE, IO_BATCH, StreamAuthError, StreamError
from fieldkit.domain.disclosure import AUDIENCE_LABELS, Audience
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import CustodyAction
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.services.evidence.core import _NOFOLLOW, EvidenceBase, _purpose_code
from fieldkit.services.evidence_audience import evidence_decision
from fieldkit.services.roles import require_writable
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.fsutil import FILE_MODE, fsync_dir


@dataclass(frozen=True)
class ExportResult:
    item_id: str
    path: str
    sha256: str
    size: int


class ExportMixin(EvidenceBase):
    """Writing an original out of the profile."""

    def export(
        self,
        item_id: str,
        destination: Path | str,
        *,
        purpose: str | None = None,
        audience: Audience = Audience.ORGANISATION,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> ExportResult:
        """Write the original, byte for byte, to ``destination`` (which must not exist).

        The disclosure policy decides first, for ``audience`` (docs/disclosure.md): an item it
        withholds is refused with the reason (``EVIDENCE_WITHHELD``) and nothing is written.

        The bytes are re-hashed while written; on any mismatch nothing is left at the
        destination and an integrity failure is logged. A custody event records the export.
        """
        require_writable(self.vault)
        decision = evidence_decision(self.vault, self.get(item_id), audience)
        if decision.withheld:
            raise FieldkitError(
                ErrorCode.EVIDENCE_WITHHELD,
                id=item_id,
                audience=TranslatableText(AUDIENCE_LABELS[audience]),
                reason=decision.reason.as_param(),
            )
        destination = Path(destination)
        if destination.is_dir():
            with self.vault.session() as session:
                name = self.store.get_row(session, item_id).original_name
            destination = destination / _safe_name(name, item_id)
        if destination.exists() or destination.is_symlink():
            raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(destination))
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
        partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.partial")
        digest = hashlib.sha256()
        size = 0
        try:
            with self.store.open_row(row) as reader:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
                with open(fd, "wb", buffering=0) as sink:
                    buffer = bytearray(CHUNK_SIZE * IO_BATCH)
                    while n := reader.readinto(buffer):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        block = memoryview(buffer)[:n]
                        digest.update(block)
                        sink.write(block)
                        size += n
                        if progress is not None:
                            progress(size, row.size, "exporting")
                    os.fsync(sink.fileno())
            actual = digest.hexdigest()
            if actual != row.sha256:
                raise _Mismatch(actual)
            _publish(partial, destination)
            with contextlib.suppress(OSError):
                fsync_dir(destination.parent)
        except (StreamError, _Mismatch) as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            detail = exc.reason if isinstance(exc, StreamError) else str(exc)
            failure: dict[str, Any] = {"during": "export", "detail": detail}
            if isinstance(exc, StreamAuthError):
                failure["chunk"] = exc.chunk
            with self.vault.session() as session:
                self._custody(
                    session,
                    self.store.get_row(session, item_id),
                    CustodyAction.INTEGRITY_FAILURE,
                    hash_before=row.sha256,
                    hash_after=exc.actual if isinstance(exc, _Mismatch) else None,
                    details=failure,
                )
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED, id=item_id, reason=TranslatableText(detail)
            ) from exc
        except FileExistsError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(destination)) from exc
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(destination.parent)) from exc
            raise FieldkitError(
                ErrorCode.FILE_NOT_WRITABLE,
                path=str(destination),
                reason=os_reason(exc),
            ) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        with self.vault.session() as session:
            fresh = self.store.get_row(session, item_id)
            self._custody(
                session,
                fresh,
                CustodyAction.EXPORTED,
                purpose=_purpose_code(purpose),
                hash_before=row.sha256,
                hash_after=actual,
                # Never the path: a home folder's name can identify the monitor, and custody
                # events travel in bundles and are printed in case files.
                details=_destination_details(destination),
            )
            AuditLog.append(
                session, "evidence.export", "evidence", item_id, content_hash=row.sha256
            )
        return ExportResult(item_id, str(destination), actual, size)


class _Mismatch(Exception):
    def __init__(self, actual: str) -> None:
        super().__init__("the content does not match the recorded SHA-256")
        self.actual = actual


def _publish(partial: Path, destination: Path) -> None:
    """Give the finished file its name without ever replacing an existing file.

    A hard link fails if the name appeared meanwhile; FAT and exFAT USB sticks have no hard
    links, so there the name is checked and the file renamed (a narrow race, on removable media
    only).
    """
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (
            errno.EPERM,
            errno.ENOTSUP,
            errno.EOPNOTSUPP,
            errno.EMLINK,
            errno.ENOSYS,
            errno.EXDEV,
        ):
            raise
        if destination.exists() or destination.is_symlink():
            raise FileExistsError(errno.EEXIST, "exists", str(destination)) from exc
        os.rename(partial, destination)
        return
    partial.unlink()


def _destination_details(destination: Path) -> dict[str, str]:
    """What the custody log keeps about an export's destination: the file name and the kind of
    drive when it can be told cheaply; never the folder."""
    details = {"file_name": destination.name}
    kind = _drive_kind(destination.parent)
    if kind is not None:
        details["destination"] = kind
    return details


def _drive_kind(folder: Path) -> str | None:
    """ "removable" or "local" for a folder on Linux (from sysfs), else None when unknown."""
    try:
        st = os.stat(folder)
        sys_dev = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
        if not sys_dev.exists():
            return None  # tmpfs, network and other virtual file systems: no block device
        device = sys_dev.resolve()
    except (OSError, ValueError, AttributeError):
        return None
    if "/usb" in str(device) or "/mmc" in str(device):
        return "removable"
    for candidate in (device, device.parent):
        flag = candidate / "removable"
        try:
            if flag.is_file():
                return "removable" if flag.read_text().strip() == "1" else "local"
        except OSError:
            return None
    return None


def _safe_name(name: str, item_id: str) -> str:
    """A file name for an export: the original name without any path, else the item id."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*\x00')
    return cleaned[:200] or item_id

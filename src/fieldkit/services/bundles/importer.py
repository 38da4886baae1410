"""Bundle import and verify (coordinator): the checks of :mod:`fieldkit.export.bundle_read`, in
one pass. Records are stored in batches as they are read; each evidence original is decrypted,
hashed and encrypted under its own key straight into the evidence store as it streams (a
``.partial`` file, published when its item takes it); everything is applied in one database
transaction. Any failure rolls it back and discards every file of the import. Verify runs the same
pipeline and rolls back on purpose."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import display_name
from fieldkit.export.bundle_read import (
    Signer,
    read_bundle,
    read_bundle_stream,
)
from fieldkit.services import trust
from fieldkit.services.roles import require_role
from fieldkit.storage import locks
from fieldkit.storage.audit import utc_now
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    ImportedBundle,
    QuarantinedBundle,
)
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    pass
from fieldkit.services.bundles.applying import _AlreadyImported, _Importer
from fieldkit.services.bundles.binding import FOREIGN_CLAIM_ALARM
from fieldkit.services.bundles.common import QUARANTINE_SUFFIX, BundleReport
from fieldkit.services.bundles.held import (
    _held_path,
    _resolve_held,
    hold,
)
from fieldkit.services.bundles.receipts import write_device_receipt

# --- import and verify (coordinator) -------------------------------------------------------------


class _DryRun(Exception):
    pass


@dataclass(frozen=True)
class StreamSource:
    """A bundle arriving over the network (the sync server), read as it arrives."""

    raw: BinaryIO
    size: int
    shown: str
    check_signer: Callable[[Signer], None]  # refuses a signer other than the sender
    on_head: Callable[[], None]  # the signed head verified
    before_commit: Callable[[], None]  # the whole file arrived and matches


def _process(
    vault: Vault,
    path: Path | None,
    *,
    dry_run: bool,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
    stream: StreamSource | None = None,
) -> BundleReport:
    require_role(vault, Role.COORDINATOR)
    path = Path(path) if path is not None else None
    shown = stream.shown if stream is not None else display_name(str(path), 200)
    report = BundleReport(path=shown)
    with vault.session() as s:
        identities = trust.org_identities(s)
    importer: _Importer | None = None
    try:
        with vault.session() as s:
            if not dry_run:
                # On a hub, one import at a time: a bundle imported from two desktops at once is
                # found already imported by the second, once the first has committed.
                locks.hold(s, locks.HubLock.BUNDLE_IMPORT)
            importer = _Importer(vault, s, report, dry_run=dry_run)

            def find_signer(key_id: str) -> Signer | None:
                report.key_id = key_id
                signer = trust.signer_for_key(s, key_id)
                if signer is not None and stream is not None:
                    stream.check_signer(signer)
                return signer

            try:
                if stream is not None:
                    importer.on_head = stream.on_head
                    result = read_bundle_stream(
                        stream.raw,
                        stream.size,
                        shown,
                        identities=identities,
                        find_signer=find_signer,
                        visitor=importer,
                        progress=progress,
                        cancel=cancel,
                    )
                else:
                    assert path is not None
                    result = read_bundle(
                        path,
                        identities=identities,
                        find_signer=find_signer,
                        visitor=importer,
                        progress=progress,
                        cancel=cancel,
                    )
                check_cancel(cancel)
                importer.finish()
                check_cancel(cancel)
                if stream is not None:
                    stream.before_commit()
            except OSError as exc:
                # the evidence store could not be written
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise FieldkitError(ErrorCode.DISK_FULL, path=str(vault.path)) from None
                raise FieldkitError(
                    ErrorCode.FILE_NOT_WRITABLE,
                    path=str(vault.store_dir),
                    reason=os_reason(exc),
                ) from None
            report.payload_bytes = result.payload_bytes
            report.encrypted_bytes = result.encrypted_bytes
            if dry_run:
                raise _DryRun()
        importer.committed = True
        report.ok = report.imported = True
        report.status = "flagged" if importer.flagged else "imported"
    except _DryRun:
        report.ok = True
        report.status = "verified"
    except _AlreadyImported:
        report.ok = True
        report.status = "already_imported"
        report.chain = None
        # every version of the bundle is here already: nothing new, nothing updated
        report.records_new = report.records_updated = 0
        report.records_same = report.records
    except FieldkitError as exc:
        # in the language the program runs in (the command line and the desktop set it)
        report.refusal = {"code": exc.code.value, "message": exc.message(i18n.current())}
        if not dry_run:
            _record_refusal(vault, path, exc, importer, report)
        raise _Refused(report, exc) from None
    finally:
        if importer is not None:
            importer.cleanup()
    return report


class _Refused(Exception):
    def __init__(self, report: BundleReport, error: FieldkitError) -> None:
        super().__init__(error.code.value)
        self.report = report
        self.error = error


def _record_refusal(
    vault: Vault,
    path: Path | None,
    exc: FieldkitError,
    importer: _Importer | None,
    report: BundleReport,
) -> None:
    """What must survive the rolled-back import: alarms and held bundles."""
    if (
        exc.code in (ErrorCode.BUNDLE_EQUIVOCATION, ErrorCode.BUNDLE_FORK)
        and importer is not None
        and importer.alarm
    ):
        alarm = importer.alarm
        with vault.session() as s:
            s.add(
                BundleAlarm(
                    kind=alarm.kind,
                    device_id=alarm.device_id,
                    seq=alarm.seq,
                    bundle_id=alarm.bundle_id,
                    bundle_hash=alarm.bundle_hash,
                    known_hash=alarm.known_hash,
                    raised_at=alarm.raised_at,
                )
            )
        return
    if (
        exc.code == ErrorCode.BUNDLE_FOREIGN_CLAIM
        and importer is not None
        and importer.signer is not None
        and importer.manifest is not None
    ):
        # an enrolled device that claims another's records is a device in the wrong hands
        with vault.session() as s:
            s.add(
                BundleAlarm(
                    kind=FOREIGN_CLAIM_ALARM,
                    device_id=importer.signer.device_id,
                    seq=importer.manifest.seq,
                    bundle_id=importer.manifest.bundle_id,
                    bundle_hash=importer.bundle_hash,
                    known_hash="",
                    raised_at=utc_now(),
                )
            )
        return
    if path is None:
        return  # over the network only enrolled, active senders get this far; nothing to hold
    if exc.code in (ErrorCode.BUNDLE_UNKNOWN_SIGNER, ErrorCode.BUNDLE_REVOKED_SIGNER):
        hold(vault, path, exc, report)


def import_bundle(
    vault: Vault,
    path: Path,
    *,
    receipt_dir: Path | None = None,
    write_receipt: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import one bundle in one transaction; raises FieldkitError when it is refused."""
    try:
        report = _process(vault, path, dry_run=False, progress=progress, cancel=cancel)
    except _Refused as refused:
        raise refused.error from None
    report.held_resolved = _resolve_held(vault, Path(path), report)
    if write_receipt and report.device_id is not None:
        out_dir = Path(receipt_dir) if receipt_dir is not None else Path(path).parent
        report.receipt = str(write_device_receipt(vault, report.device_id, out_dir))
    return report


def import_stream(
    vault: Vault,
    raw: BinaryIO,
    size: int,
    shown: str,
    *,
    check_signer: Callable[[Signer], None],
    on_head: Callable[[], None],
    before_commit: Callable[[], None],
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import a bundle as it arrives (the sync server): the same checks and the same one
    transaction as :func:`import_bundle`; no receipt file is written (the server answers
    with the receipt)."""
    source = StreamSource(raw, size, shown, check_signer, on_head, before_commit)
    try:
        return _process(vault, None, dry_run=False, progress=progress, cancel=cancel, stream=source)
    except _Refused as refused:
        raise refused.error from None


def imported_bundle_device(vault: Vault, bundle_id: str) -> str | None:
    """The device whose bundle ``bundle_id`` was imported, or None."""
    with vault.session() as s:
        row = s.get(ImportedBundle, bundle_id)
        return row.device_id if row is not None else None


def verify_bundle(
    vault: Vault,
    path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Run every check of an import, then roll back; the report says what an import would do."""
    try:
        return _process(vault, path, dry_run=True, progress=progress, cancel=cancel)
    except _Refused as refused:
        if refused.error.code == ErrorCode.CANCELLED:
            raise refused.error from None
        return refused.report


def quarantine_cleanup(vault: Vault) -> int:
    """Start-up: remove staging files an interrupted import left behind (they are ciphertext
    under keys that died with that process). Held bundles stay."""
    removed = 0
    directory = vault.quarantine_dir
    if not directory.is_dir():
        return 0
    for entry in directory.iterdir():
        if entry.is_file() and not entry.is_symlink() and entry.name.endswith(QUARANTINE_SUFFIX):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed += 1
    return removed


def import_held(
    vault: Vault,
    held_id: int,
    *,
    receipt_dir: Path | None,
    write_receipt: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import the kept copy of a held bundle (after its device was enrolled in person).

    On success the held entry is resolved; a refusal leaves it listed. The receipt goes to
    ``receipt_dir`` (needed when ``write_receipt``: the copy lives inside the profile)."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = s.get(QuarantinedBundle, held_id)
        if row is None:
            raise FieldkitError(ErrorCode.HELD_BUNDLE_NOT_FOUND, id=held_id)
        name = row.held_file
    if not name:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE,
            path=f"held/{held_id}",
            reason=TranslatableText(
                N_(
                    "only what identifies this bundle was kept, not the bundle itself; after "
                    "enrolling its device, import the bundle file again"
                )
            ),
        )
    if write_receipt and receipt_dir is None:
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="--receipt-dir")
    source = _held_path(vault, name)
    try:
        report = _process(vault, source, dry_run=False, progress=progress, cancel=cancel)
    except _Refused as refused:
        raise refused.error from None
    report.path = f"held/{held_id}"
    report.held_resolved = _resolve_held(vault, source, report)
    if write_receipt and report.device_id is not None and receipt_dir is not None:
        report.receipt = str(write_device_receipt(vault, report.device_id, Path(receipt_dir)))
    return report

"""Held bundles: bundles refused for their signer, listed for a person to review, and the alarms
raised on import.

Of a bundle signed by an unknown key only what identifies it is kept (its signed head, the file's
name, size and SHA-256, the time): anyone holding the public organisation card can make such
bundles, so none of their payload reaches the coordinator's disk. After the device is enrolled in
person, the coordinator imports the file itself again; its SHA-256 shows it is the same file, and
the entry is resolved. A bundle of a revoked device (a key that was once enrolled) is kept as an
encrypted copy, within caps, for a person to import or discard."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name, open_regular_file
from fieldkit.export.bundle_read import UnknownSignerError
from fieldkit.services.bundles.common import (
    BUNDLE_SUFFIX,
    HELD_DIR,
    PARTIAL_SUFFIX,
    READ_BLOCK,
    BundleReport,
)
from fieldkit.services.roles import require_role
from fieldkit.storage.audit import utc_now
from fieldkit.storage.fsutil import FILE_MODE, make_private_dir
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    QuarantinedBundle,
)
from fieldkit.storage.vault import Vault

HELD_REASONS = {
    ErrorCode.BUNDLE_UNKNOWN_SIGNER.value: N_("signed by a device that is not enrolled"),
    ErrorCode.BUNDLE_REVOKED_SIGNER.value: N_(
        "signed by a revoked device after its last trusted bundle"
    ),
}


# What is kept is bounded: at most MAX_HELD_ENTRIES listed (the oldest go first, with their
# copies), each with a signed head of at most MAX_HEAD_BYTES (the reader's limit for
# SHA256SUMS.minisig) and a file name of at most 300 characters. Copies (revoked signers only):
# a file up to MAX_HELD_COPY_BYTES while all copies together stay within MAX_HELD_TOTAL_BYTES;
# past that only what identifies the bundle is kept, as for an unknown signer.
MAX_HELD_ENTRIES = 200
MAX_HEAD_BYTES = 4096
MAX_HELD_COPY_BYTES = 256 * 1024 * 1024
MAX_HELD_TOTAL_BYTES = 1024 * 1024 * 1024


def hold(vault: Vault, path: Path, exc: FieldkitError, report: BundleReport) -> None:
    """List a bundle refused for its signer (unknown or revoked); the same file refused again
    keeps one entry, with the latest reason and time."""
    head: bytes | None = None
    copy: str | None = None
    if isinstance(exc, UnknownSignerError):
        head = bytes(exc.signed_head[:MAX_HEAD_BYTES])
        file_hash, size = _file_identity(path)
    else:
        copy = _hold_copy(vault, path)
        if copy is not None:
            file_hash, size = copy[:64], _size(path)
        else:
            file_hash, size = _file_identity(path)
    with vault.session() as s:
        if file_hash is not None:
            again = (
                s.execute(
                    select(QuarantinedBundle).where(
                        (QuarantinedBundle.file_sha256 == file_hash)
                        | (QuarantinedBundle.held_file == file_hash + BUNDLE_SUFFIX)
                    )
                )
                .scalars()
                .first()
            )
            if again is not None:
                again.reason = exc.code.value
                again.received_at = utc_now()
                return
        dropped = make_room(vault, s)
        s.add(
            QuarantinedBundle(
                reason=exc.code.value,
                key_id=str(report.key_id or exc.params.get("key_id", ""))[:16],
                device_id=report.device_id,
                seq=report.seq,
                bundle_id=report.bundle_id,
                file_name=display_name(path.name, 300),
                held_file=copy,
                received_at=utc_now(),
                signed_head=head,
                file_size=size,
                file_sha256=file_hash,
            )
        )
    if dropped:
        _remove_held_files(vault, dropped)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _file_identity(path: Path) -> tuple[str | None, int | None]:
    """The file's SHA-256 and size, read once (None, None when it cannot be read)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open_regular_file(str(path)) as fh:
            while block := fh.read(READ_BLOCK):
                digest.update(block)
                size += len(block)
    except OSError:
        return None, None
    return digest.hexdigest(), size


def held_bytes(vault: Vault) -> int:
    folder = vault.quarantine_dir / HELD_DIR
    total = 0
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if _HELD_NAME.fullmatch(entry.name) and entry.is_file():
                total += entry.stat().st_size
    return total


def make_room(vault: Vault, session: Session) -> list[str]:
    """Drop the oldest held entries past MAX_HELD_ENTRIES - 1 (room for one more); returns the
    names of copies no entry keeps (the caller deletes them after its commit)."""
    rows = list(session.execute(select(QuarantinedBundle).order_by(QuarantinedBundle.id)).scalars())
    names: list[str] = []
    for row in rows[: max(0, len(rows) - (MAX_HELD_ENTRIES - 1))]:
        if row.held_file:
            names.append(row.held_file)
        session.delete(row)
    return names


def _hold_copy(vault: Vault, path: Path) -> str | None:
    """Keep the (still age-encrypted) bundle for review after an in-person enrolment, within
    the caps above (None: no copy kept).

    The copy is named by the SHA-256 of its bytes (``<hex>.fkb``): the same file held twice is
    kept once, and a later successful import of the same file resolves it."""
    target_dir = vault.quarantine_dir / HELD_DIR
    temp = target_dir / (secrets.token_hex(16) + PARTIAL_SUFFIX)
    try:
        size = path.stat().st_size
        if size > MAX_HELD_COPY_BYTES or held_bytes(vault) + size > MAX_HELD_TOTAL_BYTES:
            return None
        make_private_dir(target_dir)
        digest = hashlib.sha256()
        with open_regular_file(str(path)) as src:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            with os.fdopen(fd, "wb") as dst:
                while block := src.read(READ_BLOCK):
                    digest.update(block)
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
        name = digest.hexdigest() + BUNDLE_SUFFIX
        os.replace(temp, target_dir / name)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        return None
    return name


_HELD_NAME = re.compile(r"([0-9a-f]{64})\.fkb")


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open_regular_file(str(path)) as fh:
            while block := fh.read(READ_BLOCK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _held_path(vault: Vault, held_file: str) -> Path:
    return vault.quarantine_dir / HELD_DIR / held_file


def _remove_held_files(vault: Vault, names: Iterable[str]) -> None:
    """Delete held copies no held entry refers to any more."""
    with vault.session() as s:
        still = set(
            s.execute(
                select(QuarantinedBundle.held_file).where(QuarantinedBundle.held_file.is_not(None))
            ).scalars()
        )
    for name in set(names) - still:
        if _HELD_NAME.fullmatch(name) or re.fullmatch(r"[0-9a-f]{32}\.fkb", name):
            with contextlib.suppress(OSError):
                _held_path(vault, name).unlink()


def _resolve_held(vault: Vault, path: Path, report: BundleReport) -> int:
    """After a successful import: the held entries of this very bundle (same bundle id, or the
    same file by its SHA-256) are resolved; they leave the held list and their copies go."""
    if not report.key_id:
        return 0
    file_hash: str | None = None
    names: list[str] = []
    resolved = 0
    with vault.session() as s:
        rows = (
            s.execute(select(QuarantinedBundle).where(QuarantinedBundle.key_id == report.key_id))
            .scalars()
            .all()
        )
        for row in rows:
            same = row.bundle_id is not None and row.bundle_id == report.bundle_id
            match = _HELD_NAME.fullmatch(row.held_file or "")
            kept = row.file_sha256 or (match.group(1) if match is not None else None)
            if not same and kept is not None:
                if file_hash is None:
                    file_hash = _file_sha256(path) or ""
                same = kept == file_hash
            if same:
                if row.held_file:
                    names.append(row.held_file)
                s.delete(row)
                resolved += 1
    if names:
        _remove_held_files(vault, names)
    return resolved


# --- listings ------------------------------------------------------------------------------------


def _held_dict(q: QuarantinedBundle) -> dict[str, Any]:
    return {
        "id": q.id,
        "reason": q.reason,
        "key_id": q.key_id,
        "file_name": q.file_name,
        "device_id": q.device_id,
        "seq": q.seq,
        "bundle_id": q.bundle_id,
        "held_file": q.held_file is not None,
        "received_at": q.received_at,
        "file_size": q.file_size,
        "file_sha256": q.file_sha256,
        "signed_head": q.signed_head is not None,
    }


def list_quarantined(vault: Vault) -> list[dict[str, Any]]:
    """Held bundles still waiting for review (resolved ones are gone from the list)."""
    with vault.session() as s:
        return [
            _held_dict(q)
            for q in s.execute(select(QuarantinedBundle).order_by(QuarantinedBundle.id)).scalars()
        ]


def held_reason_text(reason: str) -> str:
    """A held bundle's reason code as a short sentence in the current language."""
    text = HELD_REASONS.get(reason)
    return i18n._(text) if text is not None else reason


def discard_held(vault: Vault, held_id: int) -> dict[str, Any]:
    """Delete a held bundle's entry and its encrypted copy (coordinator). Nothing is imported."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = s.get(QuarantinedBundle, held_id)
        if row is None:
            raise FieldkitError(ErrorCode.HELD_BUNDLE_NOT_FOUND, id=held_id)
        info = _held_dict(row)
        name = row.held_file
        s.delete(row)
    if name:
        _remove_held_files(vault, [name])
    return info


def list_alarms(vault: Vault) -> list[dict[str, Any]]:
    with vault.session() as s:
        return [
            {
                "kind": a.kind,
                "device_id": a.device_id,
                "seq": a.seq,
                "bundle_id": a.bundle_id,
                "bundle_hash": a.bundle_hash,
                "known_hash": a.known_hash,
                "raised_at": a.raised_at,
            }
            for a in s.execute(select(BundleAlarm).order_by(BundleAlarm.id)).scalars()
        ]

"""The evidence file store and the evidence rows.

Files live under ``<profile>/store/<2 hex>/<32 hex>``: random names, never derived from the content
(a content hash as a name would confirm that a known photo is on the laptop). Each file is a
fieldkit stream (``fieldkit.crypto.stream``) under its own random data-encryption key (DEK); the
DEK is kept in the item's database row wrapped with AES-256-GCM under the vault's
``evidence-store`` subkey (bound to the item id and file name), so the database alone does not
expose the files. Purging destroys the wrapped DEK first, then deletes the file.

Intake order (one read of the source): write ``<name>.partial`` while hashing and encrypting →
fsync → rename → fsync the folder → the caller inserts the row and commits. Whatever an
interruption leaves behind (``.partial`` files, files without a row, files of purged items) is
removed by :meth:`EvidenceStore.cleanup` at the next unlock. Writers hold a shared lock on
``store/.lock`` until their row is committed and the clean-up takes it exclusively, so a second
process never removes a file that is still being added.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.stream import (
    CHUNK_SIZE,
    IO_BATCH,
    StreamError,
    StreamReader,
    StreamWriter,
    new_dek,
    sealed_size,
)
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.storage.fsutil import (
    DIR_MODE,
    FILE_MODE,
    BackgroundWriter,
    fsync_dir,
    make_private_dir,
)
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.vault import Vault

try:  # POSIX advisory locks; elsewhere the single-process rule of the program is relied on.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

# Never follow a symbolic link planted in the store; binary mode where that flag exists.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
STORE_KEY_PURPOSE = "evidence-store"
DEDUP_KEY_PURPOSE = "evidence-dedup"
PARTIAL_SUFFIX = ".partial"
LOCK_NAME = ".lock"
_NAME = re.compile(r"^[0-9a-f]{32}$")
_PARTIAL = re.compile(r"^[0-9a-f]{32}\.partial$")
_WRAP_INFO = b"fieldkit/evidence-dek/v1|"
# Keep this much free beyond the file itself: the database row, the WAL and the file system.
FREE_SPACE_MARGIN = 16 * 1024 * 1024
_PROGRESS_EVERY = 0.1  # seconds


@dataclass(frozen=True)
class SealedFile:
    """A file written into the store (renamed and synced, but without a database row yet)."""

    storage_name: str
    file_id: bytes
    dek: bytes
    sha256: str
    size: int
    sealed_size: int


@dataclass(frozen=True)
class CleanupReport:
    partials_removed: int
    orphans_removed: int
    skipped_busy: bool = False


class _SourceReadError(Exception):
    def __init__(self, exc: OSError) -> None:
        super().__init__(str(exc))
        self.exc = exc


class PendingFile:
    """One file on its way into the store: written as ``<name>.partial`` while it streams,
    sealed (stream finished, synced), then published (renamed to its name, folder synced).

    Until :meth:`publish` the store's clean-up treats it as a left-over partial; after it and
    before its row commits, as an orphan. :meth:`discard` removes whatever exists."""

    def __init__(self, files: FileStore, storage_name: str, *, hashed: bool = True) -> None:
        self.files = files
        self.storage_name = storage_name
        self.folder = files.root / storage_name[:2]
        self.new_folder = not self.folder.exists()
        if self.new_folder:
            self.folder.mkdir(mode=DIR_MODE, exist_ok=True)
        self.final = self.folder / storage_name
        self.partial = self.folder / (storage_name + PARTIAL_SUFFIX)
        self.dek = new_dek()
        self.digest = hashlib.sha256() if hashed else None
        self.size = 0
        self.sealed: SealedFile | None = None
        self.published = False
        self._fd: int | None = os.open(
            self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE
        )
        # the disk works in a second thread while this one decrypts, hashes and encrypts
        self._sink = BackgroundWriter(self._fd)
        self._writer = StreamWriter(self._sink, self.dek)  # type: ignore[arg-type]

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.digest is not None:
            self.digest.update(data)
        self._writer.write(data)
        self.size += len(data)
        return len(data)

    def seal(self, sha256: str | None = None) -> SealedFile:
        """Finish the stream and sync it; ``sha256`` is the hash the caller verified (needed
        when the file was begun with ``hashed=False``)."""
        if self.digest is not None:
            sha256 = self.digest.hexdigest()
        assert sha256 is not None
        try:
            self._writer.finish()
            self._sink.finish(sync=True)
        finally:
            self._close()
        self.sealed = SealedFile(
            storage_name=self.storage_name,
            file_id=self._writer.file_id,
            dek=self.dek,
            sha256=sha256,
            size=self.size,
            sealed_size=self._writer.sealed_bytes,
        )
        return self.sealed

    def publish(self) -> None:
        assert self.sealed is not None
        os.replace(self.partial, self.final)
        if self.new_folder:
            fsync_dir(self.files.root)
        fsync_dir(self.folder)
        self.published = True

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def discard(self) -> None:
        self._sink.abandon()
        self._close()
        for path in (self.partial, self.final):
            with contextlib.suppress(OSError):
                path.unlink()


class FileStore:
    """Encrypted files under one folder; knows nothing about the database."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        make_private_dir(self.root)

    def path_for(self, storage_name: str) -> Path:
        if not _NAME.match(storage_name):
            raise ValueError("not a store file name")
        return self.root / storage_name[:2] / storage_name

    # -- locking ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Held from the first byte of a new file until its row is committed."""
        with self._lock(exclusive=False, blocking=True):
            yield

    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool, blocking: bool) -> Iterator[bool]:
        if fcntl is None:
            yield True
            return
        self.ensure()
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT | _NOFOLLOW, FILE_MODE)
        try:
            flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            if not blocking:
                flags |= fcntl.LOCK_NB
            try:
                fcntl.flock(fd, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- writing ----------------------------------------------------------------------------

    def begin(self, total: int | None = None, *, hashed: bool = True) -> PendingFile:
        """A new file that bytes are pushed into (:class:`PendingFile`); not in the store
        until :meth:`PendingFile.publish`. ``hashed=False`` when the caller checks the
        SHA-256 itself (the bundle reader does) and passes it to :meth:`PendingFile.seal`."""
        self.ensure()
        if total is not None:
            self._check_space(total)
        return PendingFile(self, secrets.token_hex(16), hashed=hashed)

    def write(
        self,
        source: BinaryIO,
        *,
        total: int | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        stage: str = "storing",
        source_name: str | None = None,
    ) -> SealedFile:
        """Hash and encrypt ``source`` into a new file in one pass; atomic and constant memory.

        On any failure (including cancel and a full disk) the partial file is removed and
        nothing is left behind.
        """
        pending = self.begin(total)
        done = 0
        reported = -1
        last_report = 0.0
        try:
            buffer = bytearray(CHUNK_SIZE * IO_BATCH)
            view = memoryview(buffer)
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                try:
                    n = source.readinto(view)  # type: ignore[attr-defined]
                except OSError as exc:
                    raise _SourceReadError(exc) from exc
                if not n:
                    break
                pending.write(view[:n])
                done += n
                if progress is not None:
                    now = time.monotonic()
                    if now - last_report >= _PROGRESS_EVERY:
                        last_report = now
                        reported = done
                        progress(done, total or 0, stage)
            sealed = pending.seal()
            pending.publish()
        except BaseException as exc:
            pending.discard()
            if isinstance(exc, _SourceReadError):
                raise FieldkitError(
                    ErrorCode.FILE_NOT_READABLE,
                    path=source_name or str(getattr(source, "name", "?")),
                    reason=os_reason(exc.exc),
                ) from exc
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(self.root)) from exc
            raise
        if progress is not None and reported != done:
            progress(done, total or done, stage)
        return sealed

    def _check_space(self, size: int) -> None:
        try:
            free = shutil.disk_usage(self.root).free
        except OSError:
            return
        if free < sealed_size(size) + FREE_SPACE_MARGIN:
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(self.root))

    # -- reading and removing ---------------------------------------------------------------

    def open_raw(self, storage_name: str) -> BinaryIO:
        fd = os.open(self.path_for(storage_name), os.O_RDONLY | _NOFOLLOW)
        return open(fd, "rb", buffering=0)

    def delete(self, storage_name: str) -> None:
        path = self.path_for(storage_name)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(OSError):
            fsync_dir(path.parent)

    def cleanup(self, live_names: Callable[[], set[str]]) -> CleanupReport:
        """Remove ``.partial`` files and store files not named in ``live_names()``.

        ``live_names`` is called once the lock is held. Skipped (and reported) when another
        process holds the writer lock.
        """
        if not self.root.exists():
            return CleanupReport(0, 0)
        with self._lock(exclusive=True, blocking=False) as acquired:
            if not acquired:
                return CleanupReport(0, 0, skipped_busy=True)
            keep = live_names()
            partials = orphans = 0
            for folder in sorted(self.root.iterdir()):
                if not folder.is_dir() or folder.is_symlink() or len(folder.name) != 2:
                    continue
                for entry in sorted(folder.iterdir()):
                    if _PARTIAL.match(entry.name):
                        entry.unlink(missing_ok=True)
                        partials += 1
                    elif _NAME.match(entry.name) and entry.name not in keep:
                        entry.unlink(missing_ok=True)
                        orphans += 1
                if partials or orphans:
                    with contextlib.suppress(OSError):
                        fsync_dir(folder)
            return CleanupReport(partials, orphans)

    def all_names(self) -> list[str]:
        names: list[str] = []
        if self.root.exists():
            for folder in self.root.iterdir():
                if folder.is_dir() and len(folder.name) == 2:
                    names.extend(e.name for e in folder.iterdir() if _NAME.match(e.name))
        return names


class EvidenceStore:
    """The vault's evidence file store plus key handling for evidence rows."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.files = FileStore(vault.store_dir)

    # -- keys -------------------------------------------------------------------------------

    def _wrap_aad(self, item_id: str, storage_name: str) -> bytes:
        return _WRAP_INFO + item_id.encode() + b"|" + storage_name.encode()

    def wrap_dek(self, item_id: str, storage_name: str, dek: bytes) -> bytes:
        nonce = os.urandom(12)
        aead = AESGCM(self.vault.subkey(STORE_KEY_PURPOSE))
        return nonce + aead.encrypt(nonce, dek, self._wrap_aad(item_id, storage_name))

    def unwrap_dek(self, row: EvidenceItemRow) -> bytes:
        if row.wrapped_dek is None:
            raise FieldkitError(ErrorCode.EVIDENCE_PURGED, id=row.id)
        blob = bytes(row.wrapped_dek)
        aead = AESGCM(self.vault.subkey(STORE_KEY_PURPOSE))
        try:
            return aead.decrypt(blob[:12], blob[12:], self._wrap_aad(row.id, row.storage_name))
        except (InvalidTag, ValueError):
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED,
                id=row.id,
                reason=TranslatableText(N_("its key does not unwrap")),
            ) from None

    def dedup_tag(self, sha256_hex: str) -> str:
        key = self.vault.subkey(DEDUP_KEY_PURPOSE)
        return hmac.new(key, bytes.fromhex(sha256_hex), hashlib.sha256).hexdigest()

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def get_row(session: Session, item_id: str) -> EvidenceItemRow:
        row = session.get(EvidenceItemRow, item_id)
        if row is None:
            raise FieldkitError(ErrorCode.EVIDENCE_NOT_FOUND, id=item_id)
        return row

    def find_duplicate(self, session: Session, sha256_hex: str) -> str | None:
        """The id of a stored (not purged) item with the same bytes, if any."""
        tag = self.dedup_tag(sha256_hex)
        found = session.execute(
            select(EvidenceItemRow.id)
            .where(EvidenceItemRow.dedup_tag == tag, EvidenceItemRow.state == "stored")
            .order_by(EvidenceItemRow.created_at)
            .limit(1)
        ).scalar_one_or_none()
        return str(found) if found is not None else None

    def open_row(self, row: EvidenceItemRow) -> io.BufferedReader:
        """The decrypted original as a buffered reader; each chunk is authenticated as read."""
        dek = self.unwrap_dek(row)
        try:
            raw = self.files.open_raw(row.storage_name)
        except FileNotFoundError:
            raise FieldkitError(ErrorCode.EVIDENCE_MISSING_FILE, id=row.id) from None
        try:
            reader = StreamReader(raw, dek, expected_file_id=bytes(row.file_id), close_source=True)
        except StreamError as exc:
            raw.close()
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED, id=row.id, reason=TranslatableText(exc.reason)
            ) from exc
        return io.BufferedReader(reader, buffer_size=CHUNK_SIZE)

    def file_status(self, row: EvidenceItemRow) -> str:
        """ "ok" when the stored file exists with the size the row expects, else why not."""
        if row.wrapped_dek is None:
            return "purged"
        try:
            st = os.stat(self.files.path_for(row.storage_name), follow_symlinks=False)
        except FileNotFoundError:
            return "missing"
        if not stat.S_ISREG(st.st_mode):
            return "missing"
        return "ok" if st.st_size == row.sealed_size else "size"

    def cleanup(self) -> CleanupReport:
        """Start-up clean-up: partial files, files without a row, files of purged items."""

        def live() -> set[str]:
            with self.vault.session() as session:
                return set(
                    session.execute(
                        select(EvidenceItemRow.storage_name).where(
                            EvidenceItemRow.wrapped_dek.is_not(None)
                        )
                    ).scalars()
                )

        return self.files.cleanup(live)

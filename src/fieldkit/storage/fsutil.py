"""Careful file operations: private permissions, atomic replacement, directory syncs."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import threading
from pathlib import Path

from fieldkit.domain.errors import ErrorCode, FieldkitError

FILE_MODE = 0o600
DIR_MODE = 0o700
PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """Where :func:`atomic_write_bytes` writes before the rename (a crash can leave it behind)."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def make_private_dir(path: Path) -> None:
    """Create a folder (and parents) readable only by the owner."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name beside the target, sync, rename over it, sync the folder."""
    tmp = partial_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(path.parent)) from exc
        raise


def destroy_file(path: Path) -> None:
    """Overwrite a small secret file with random bytes, sync, then unlink it.

    On flash storage an overwrite is not guaranteed to reach the old blocks; this is why the secret
    that matters (the wrapped master key) is tiny and the rest of the profile is ciphertext.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            os.write(fd, os.urandom(max(size, 1)))
            os.fsync(fd)
        finally:
            os.close(fd)
    path.unlink(missing_ok=True)


# While a large file is written, a third thread syncs what was written so far each time this
# much more arrived: the disk writes while the other threads decrypt, hash and encrypt, instead
# of all of it at the final fsync (the kernel alone starts only at a share of the memory).
EARLY_SYNC_BYTES = 32 * 1024 * 1024

_datasync = getattr(os, "fdatasync", os.fsync)


class BackgroundWriter:
    """Writes to a file descriptor from a second thread, so the disk works while this thread
    hashes and encrypts (file writes release the GIL). At most ``max_pending`` writes (each at
    most 1 MiB) wait in memory. With ``early_sync`` a third thread syncs the file every
    ``EARLY_SYNC_BYTES`` as it grows; :meth:`finish` with ``sync`` still fsyncs it whole."""

    def __init__(self, fd: int, max_pending: int = 16, *, early_sync: bool = True) -> None:
        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="file-writer", daemon=True)
        self._closed = False
        self._written = 0  # bytes written so far (the writer thread)
        self._synced = 0  # of those, synced by the early-sync thread
        self._stop = False
        self._grew = threading.Condition()
        self._syncer: threading.Thread | None = None
        if early_sync:
            self._syncer = threading.Thread(target=self._sync_run, name="file-sync", daemon=True)
            self._syncer.start()
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue
            try:
                view = memoryview(item)
                while view:
                    view = view[os.write(self._fd, view) :]
            except BaseException as exc:  # reported to the writing thread
                self._error = exc
                continue
            if self._syncer is not None:
                with self._grew:
                    self._written += len(item)
                    if self._written - self._synced >= EARLY_SYNC_BYTES:
                        self._grew.notify()

    def _sync_run(self) -> None:
        while True:
            with self._grew:
                while not self._stop and self._written - self._synced < EARLY_SYNC_BYTES:
                    self._grew.wait()
                if self._stop:
                    return
                upto = self._written
            try:
                _datasync(self._fd)
            except BaseException as exc:  # reported to the writing thread
                if self._error is None:
                    self._error = exc
                return
            with self._grew:
                self._synced = upto

    def write(self, data: bytes) -> int:
        if self._error is not None:
            raise self._error
        self._queue.put(bytes(data))
        return len(data)

    def finish(self, *, sync: bool) -> None:
        """Wait for every pending write; then fsync when asked. Raises the writer's error."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
            if self._syncer is not None:
                with self._grew:
                    self._stop = True
                    self._grew.notify()
                self._syncer.join()
        if self._error is not None:
            raise self._error
        if sync:
            os.fsync(self._fd)

    def abandon(self) -> None:
        with contextlib.suppress(BaseException):
            self.finish(sync=False)

"""What the bundle use cases share: file names, limits, result types, the background writer."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


BUNDLE_SUFFIX = ".fkb"
PARTIAL_SUFFIX = ".partial"
QUARANTINE_SUFFIX = ".q"
HELD_DIR = "held"
RECEIPT_FORMAT = "fieldkit-receipt/1"
MAX_RECEIPT_BYTES = 4 * 1024 * 1024
DEFAULT_MEDIA_TYPE = "application/octet-stream"
READ_BLOCK = 1024 * 1024
# Far below the readers' limits (100 000 entries, 16 MiB of manifest): a longer backlog travels
# in several bundles, each complete for its range of changes.
MAX_BUNDLE_RECORDS = 40_000


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bundle_id: str
    seq: int
    bundle_hash: str
    records: int
    evidence: int
    objects: int
    audit_entries: int
    custody_events: int
    payload_bytes: int
    encrypted_bytes: int
    change_from: int
    change_through: int

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["path"] = str(self.path)
        return data


@dataclass
class BundleReport:
    """What an import did, or what a verification found (``imported`` is False then)."""

    path: str
    ok: bool = False
    imported: bool = False
    status: str = "refused"  # imported | flagged | already_imported | verified | refused
    bundle_id: str | None = None
    device_id: str | None = None
    signer_label: str | None = None
    key_id: str | None = None
    seq: int | None = None
    bundle_hash: str | None = None
    chain: str | None = None  # first | linked | pending
    gaps: list[list[int]] = field(default_factory=list)  # [first, last] missing numbers
    records: int = 0
    records_new: int = 0
    records_same: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    evidence: int = 0
    objects: int = 0
    payload_bytes: int = 0
    encrypted_bytes: int = 0
    audit_entries: int = 0
    custody_events: int = 0
    receipt: str | None = None
    refusal: dict[str, str] | None = None
    held_resolved: int = 0  # held entries of this same bundle, resolved by this import

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReceiptResult:
    receipt_id: str
    acknowledged_through: int
    bundles: list[int]


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]
    acknowledged_through: int


class _BackgroundWriter:
    """Writes to a file descriptor from a second thread, so the disk works while this thread
    hashes and encrypts (file writes release the GIL). At most ``max_pending`` writes (each at
    most 1 MiB) wait in memory."""

    def __init__(self, fd: int, max_pending: int = 16) -> None:
        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bundle-writer", daemon=True)
        self._thread.start()
        self._closed = False

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
        if self._error is not None:
            raise self._error
        if sync:
            os.fsync(self._fd)

    def abandon(self) -> None:
        with contextlib.suppress(BaseException):
            self.finish(sync=False)

"""What the bundle use cases share: file names, limits, result types, the background writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.storage.fsutil import BackgroundWriter

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
    records_new: int = 0  # versions of records not here before
    records_updated: int = 0  # new versions of records already here
    records_same: int = 0  # versions already here (unchanged)
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
    # what the organisation now holds from this laptop, in a monitor's words
    records_held: int = 0  # records with at least one version the organisation has
    evidence_held: int = 0  # evidence items the organisation has
    erasable: int = 0  # originals still on this laptop that the organisation has


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]
    acknowledged_through: int


# Moved to the storage layer (the evidence store writes through it too); the old name stays.
_BackgroundWriter = BackgroundWriter

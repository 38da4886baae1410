"""The bundle manifest: what a bundle carries, in canonical JSON, and its strict schema check.

The manifest names every other member with its SHA-256 and size, so its own hash (the "bundle
hash") commits to the whole bundle; the next bundle of the same device records it as ``prev``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.export.bundle_format import (
    AUDIT_NAME,
    CUSTODY_NAME,
    MANIFEST_NAME,
    UUID_PATTERN,
    evidence_member,
    object_member,
    record_member,
)

FORMAT = "fieldkit-bundle/1"
MAX_ENTRIES = 100_000
MAX_SIZE = 1 << 44  # 16 TiB: larger than any real object, small enough to stay an exact integer

_UUID_RE = re.compile(UUID_PATTERN)
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_TYPE_RE = re.compile(r"[a-z][a-z_]{0,31}")
_MEDIA_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_KEY_ID_RE = re.compile(r"[0-9A-F]{16}")
_FPR_RE = re.compile(r"sha256:[0-9a-f]{64}")
OPERATIONS = ("upsert", "delete")


class ManifestError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RecordEntry:
    id: str
    type: str
    revision: int
    operation: str
    sha256: str
    size: int

    @property
    def member(self) -> str:
        return record_member(self.id, self.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "revision": self.revision,
            "operation": self.operation,
            "sha256": self.sha256,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, value: Any, operations: tuple[str, ...] = OPERATIONS) -> RecordEntry:
        rec = _obj(value, "records[]")
        _keys(rec, "records[]", {"id", "type", "revision", "operation", "sha256", "size"})
        return cls(
            id=_match(rec["id"], _UUID_RE, "records[].id"),
            type=_match(rec["type"], _TYPE_RE, "records[].type"),
            revision=_int(rec["revision"], "records[].revision", 1, 999_999_999),
            operation=_choice(rec["operation"], operations, "records[].operation"),
            sha256=_match(rec["sha256"], _SHA_RE, "records[].sha256"),
            size=_int(rec["size"], "records[].size", 0),
        )


@dataclass(frozen=True)
class EvidenceEntry:
    id: str
    sha256: str
    size: int

    @property
    def member(self) -> str:
        return evidence_member(self.id)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_json(cls, value: Any) -> EvidenceEntry:
        ev = _obj(value, "evidence[]")
        _keys(ev, "evidence[]", {"id", "sha256", "size"})
        return cls(
            id=_match(ev["id"], _UUID_RE, "evidence[].id"),
            sha256=_match(ev["sha256"], _SHA_RE, "evidence[].sha256"),
            size=_int(ev["size"], "evidence[].size", 0),
        )


@dataclass(frozen=True)
class AuditEntry:
    sha256: str
    size: int
    entries: int

    member = AUDIT_NAME

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "entries": self.entries}

    @classmethod
    def from_json(cls, value: Any) -> AuditEntry:
        sha256, size, entries = _log_entry(value, "audit")
        return cls(sha256=sha256, size=size, entries=entries)


@dataclass(frozen=True)
class CustodyEntry:
    sha256: str
    size: int
    entries: int

    member = CUSTODY_NAME

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "entries": self.entries}

    @classmethod
    def from_json(cls, value: Any) -> CustodyEntry:
        sha256, size, entries = _log_entry(value, "custody")
        return cls(sha256=sha256, size=size, entries=entries)


@dataclass(frozen=True)
class ObjectEntry:
    sha256: str
    size: int
    media_type: str

    @property
    def member(self) -> str:
        return object_member(self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "media_type": self.media_type}

    @classmethod
    def from_json(cls, value: Any) -> ObjectEntry:
        ob = _obj(value, "objects[]")
        _keys(ob, "objects[]", {"sha256", "size", "media_type"})
        return cls(
            sha256=_match(ob["sha256"], _SHA_RE, "objects[].sha256"),
            size=_int(ob["size"], "objects[].size", 0),
            media_type=_match(ob["media_type"], _MEDIA_RE, "objects[].media_type"),
        )


@dataclass
class Manifest:
    bundle_id: str
    created_at: str
    device_id: str
    device_key_id: str
    org_recipients: list[str]
    seq: int
    prev: str | None
    change_from: int
    change_through: int
    records: list[RecordEntry] = field(default_factory=list)
    evidence: list[EvidenceEntry] = field(default_factory=list)
    audit: AuditEntry | None = None
    custody: CustodyEntry | None = None
    objects: list[ObjectEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "bundle_id": self.bundle_id,
            "created_at": self.created_at,
            "device": {"device_id": self.device_id, "key_id": self.device_key_id},
            "org_recipients": list(self.org_recipients),
            "seq": self.seq,
            "prev": self.prev,
            "changes": {"from": self.change_from, "through": self.change_through},
            "records": [r.to_json() for r in self.records],
            "evidence": [e.to_json() for e in self.evidence],
            "audit": self.audit.to_json() if self.audit else None,
            "custody": self.custody.to_json() if self.custody else None,
            "objects": [o.to_json() for o in self.objects],
        }

    def to_bytes(self) -> bytes:
        return canonical_dumps(self.to_json())

    def members(self) -> list[tuple[str, str, int]]:
        """(name, sha256, size) of every member after the manifest, in bundle order."""
        out: list[tuple[str, str, int]] = []
        out.extend((r.member, r.sha256, r.size) for r in self.records)
        out.extend((e.member, e.sha256, e.size) for e in self.evidence)
        if self.audit is not None:
            out.append((self.audit.member, self.audit.sha256, self.audit.size))
        if self.custody is not None:
            out.append((self.custody.member, self.custody.sha256, self.custody.size))
        out.extend((o.member, o.sha256, o.size) for o in self.objects)
        return out

    def trusted_comment(self, manifest_sha256: str) -> str:
        return (
            f"{FORMAT} bundle={self.bundle_id} device={self.device_id} seq={self.seq} "
            f"manifest={manifest_sha256}"
        )

    @classmethod
    def from_json(cls, doc: Any) -> Manifest:
        """Check the whole schema; every problem is a :class:`ManifestError` with a short reason."""
        obj = _obj(doc, "manifest")
        fmt = obj.get("format")
        if fmt != FORMAT:
            raise UnsupportedFormatError(str(fmt)[:40] if isinstance(fmt, str) else "none")
        _keys(
            obj,
            "manifest",
            {
                "format",
                "bundle_id",
                "created_at",
                "device",
                "org_recipients",
                "seq",
                "prev",
                "changes",
                "records",
                "evidence",
                "audit",
                "custody",
                "objects",
            },
        )
        device = _obj(obj["device"], "device")
        _keys(device, "device", {"device_id", "key_id"})
        changes = _obj(obj["changes"], "changes")
        _keys(changes, "changes", {"from", "through"})
        recipients = _list(obj["org_recipients"], "org_recipients", 16)
        if not recipients:
            raise ManifestError("org_recipients is empty")
        prev = obj["prev"]
        if prev is not None:
            prev = _match(prev, _SHA_RE, "prev")
        manifest = cls(
            bundle_id=_match(obj["bundle_id"], _UUID_RE, "bundle_id"),
            created_at=_str(obj["created_at"], "created_at", 40),
            device_id=_match(device["device_id"], _UUID_RE, "device.device_id"),
            device_key_id=_match(device["key_id"], _KEY_ID_RE, "device.key_id"),
            org_recipients=[_match(r, _FPR_RE, "org_recipients") for r in recipients],
            seq=_int(obj["seq"], "seq", 1),
            prev=prev,
            change_from=_int(changes["from"], "changes.from", 0),
            change_through=_int(changes["through"], "changes.through", 0),
        )
        if manifest.change_through < manifest.change_from:
            raise ManifestError("changes.through is below changes.from")
        if (manifest.seq == 1) != (prev is None):
            raise ManifestError("prev must be null exactly for the first bundle")
        seen_records: set[tuple[str, int]] = set()
        for item in _list(obj["records"], "records", MAX_ENTRIES):
            entry = RecordEntry.from_json(item)
            key = (entry.id, entry.revision)
            if key in seen_records:
                raise ManifestError(f"record {entry.id} revision {entry.revision} is listed twice")
            seen_records.add(key)
            manifest.records.append(entry)
        manifest.evidence = evidence_entries(obj["evidence"])
        if obj["audit"] is not None:
            manifest.audit = AuditEntry.from_json(obj["audit"])
        if obj["custody"] is not None:
            manifest.custody = CustodyEntry.from_json(obj["custody"])
        manifest.objects = object_entries(obj["objects"])
        return manifest


class UnsupportedFormatError(ManifestError):
    """The manifest declares a format this program does not read."""


def evidence_entries(value: Any) -> list[EvidenceEntry]:
    """The ``evidence`` list of a manifest, each item at most once."""
    out: list[EvidenceEntry] = []
    seen: set[str] = set()
    for item in _list(value, "evidence", MAX_ENTRIES):
        entry = EvidenceEntry.from_json(item)
        if entry.id in seen:
            raise ManifestError(f"evidence item {entry.id} is listed twice")
        seen.add(entry.id)
        out.append(entry)
    return out


def object_entries(value: Any) -> list[ObjectEntry]:
    """The ``objects`` list of a manifest, each object at most once."""
    out: list[ObjectEntry] = []
    seen: set[str] = set()
    for item in _list(value, "objects", MAX_ENTRIES):
        entry = ObjectEntry.from_json(item)
        if entry.sha256 in seen:
            raise ManifestError(f"object {entry.sha256[:16]} is listed twice")
        seen.add(entry.sha256)
        out.append(entry)
    return out


def _log_entry(value: Any, where: str) -> tuple[str, int, int]:
    """(sha256, size, entries) of an audit or custody member."""
    obj = _obj(value, where)
    _keys(obj, where, {"sha256", "size", "entries"})
    return (
        _match(obj["sha256"], _SHA_RE, f"{where}.sha256"),
        _int(obj["size"], f"{where}.size", 0),
        _int(obj["entries"], f"{where}.entries", 0),
    )


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be an object")
    return value


def _keys(obj: dict[str, Any], where: str, expected: set[str]) -> None:
    keys = set(obj)
    if keys != expected:
        missing = sorted(expected - keys)
        extra = sorted(keys - expected)
        if missing:
            raise ManifestError(f"{where} lacks {', '.join(missing)}")
        raise ManifestError(f"{where} has unknown fields ({len(extra)})")


def _list(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ManifestError(f"{where} must be a list")
    if len(value) > limit:
        raise ManifestError(f"{where} has more than {limit} entries")
    return value


def _str(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ManifestError(f"{where} must be a short string")
    return value


def _match(value: Any, pattern: re.Pattern[str], where: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ManifestError(f"{where} is malformed")
    return value


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        if len(choices) == 1:
            raise ManifestError(f"{where} must be {choices[0]}")
        raise ManifestError(f"{where} is not one of {', '.join(choices)}")
    return str(value)


def _int(value: Any, where: str, minimum: int, maximum: int = MAX_SIZE) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ManifestError(f"{where} must be an integer from {minimum} to {maximum}")
    return value


class _HasMembers(Protocol):
    def members(self) -> list[tuple[str, str, int]]: ...


def sums_text(manifest_sha256: str, manifest: _HasMembers) -> bytes:
    """The SHA256SUMS member, in ``sha256sum`` text format, manifest first."""
    lines = [f"{manifest_sha256}  {MANIFEST_NAME}\n"]
    lines.extend(f"{sha}  {name}\n" for name, sha, _size in manifest.members())
    return "".join(lines).encode("ascii")

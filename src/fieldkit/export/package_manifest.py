"""The manifest of a case package for a lawyer (``fieldkit-case-package/1``).

A case package is a bundle in every layer (age, strict tar, SHA256SUMS signed with minisign,
canonical JSON; docs/bundle-format.md §15) with a manifest of its own: it is signed by the
organisation instead of a device, encrypted to one lawyer's key, carries one case as the
disclosure policy allows it for counsel, and lists what was withheld and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.export.manifest import (
    _FPR_RE,
    _KEY_ID_RE,
    _SHA_RE,
    _TYPE_RE,
    _UUID_RE,
    MAX_ENTRIES,
    CustodyEntry,
    EvidenceEntry,
    ManifestError,
    ObjectEntry,
    RecordEntry,
    UnsupportedFormatError,
    _int,
    _keys,
    _list,
    _match,
    _obj,
    _str,
    evidence_entries,
    object_entries,
)

PACKAGE_FORMAT = "fieldkit-case-package/1"
PACKAGE_UNTRUSTED_COMMENT = "fieldkit case package checksum list signed by the organisation key"
AUDIENCE_COUNSEL = "counsel"
WITHHELD_KINDS = ("record", "evidence", "field")
_PACKAGE_OPERATIONS = ("upsert",)  # a package is the case as it stands: nothing is deleted

_REASON_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class WithheldEntry:
    """One thing the policy kept out of the package: a record, an evidence item or a field."""

    kind: str  # record | evidence | field
    id: str
    record_type: str | None
    field: str | None
    reason: str  # the policy's reason code
    explanation: str  # the reason in English words, for a reader without fieldkit

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "record_type": self.record_type,
            "field": self.field,
            "reason": self.reason,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, value: Any) -> WithheldEntry:
        obj = _obj(value, "withheld[]")
        _keys(obj, "withheld[]", {"kind", "id", "record_type", "field", "reason", "explanation"})
        kind = obj["kind"]
        if kind not in WITHHELD_KINDS:
            raise ManifestError("withheld[].kind is not one of record, evidence, field")
        record_type = obj["record_type"]
        if record_type is not None:
            record_type = _match(record_type, _TYPE_RE, "withheld[].record_type")
        field_name = obj["field"]
        if field_name is not None:
            field_name = _str(field_name, "withheld[].field", 200)
        if (kind == "field") != (field_name is not None):
            raise ManifestError("withheld[].field is set exactly for withheld fields")
        return cls(
            kind=str(kind),
            id=_match(obj["id"], _UUID_RE, "withheld[].id"),
            record_type=record_type,
            field=field_name,
            reason=_match(obj["reason"], _REASON_RE, "withheld[].reason"),
            explanation=_str(obj["explanation"], "withheld[].explanation", 1000),
        )


@dataclass
class PackageManifest:
    package_id: str
    created_at: str
    org_id: str
    org_key_id: str
    counsel_id: str
    counsel_recipient: str  # fingerprint of the lawyer's age recipient
    case_id: str
    seq: int
    supersedes: str | None  # manifest SHA-256 of the previous package of this case to this lawyer
    records: list[RecordEntry] = field(default_factory=list)
    evidence: list[EvidenceEntry] = field(default_factory=list)
    custody: CustodyEntry | None = None
    objects: list[ObjectEntry] = field(default_factory=list)
    withheld: list[WithheldEntry] = field(default_factory=list)
    audience: str = AUDIENCE_COUNSEL

    # The names write_bundle uses for any signed manifest.
    @property
    def bundle_id(self) -> str:
        return self.package_id

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PACKAGE_FORMAT,
            "package_id": self.package_id,
            "created_at": self.created_at,
            "org": {"org_id": self.org_id, "key_id": self.org_key_id},
            "counsel": {"counsel_id": self.counsel_id, "recipient": self.counsel_recipient},
            "audience": self.audience,
            "case_id": self.case_id,
            "seq": self.seq,
            "supersedes": self.supersedes,
            "records": [r.to_json() for r in self.records],
            "evidence": [e.to_json() for e in self.evidence],
            "custody": self.custody.to_json() if self.custody else None,
            "objects": [o.to_json() for o in self.objects],
            "withheld": [w.to_json() for w in self.withheld],
        }

    def to_bytes(self) -> bytes:
        return canonical_dumps(self.to_json())

    def members(self) -> list[tuple[str, str, int]]:
        """(name, sha256, size) of every member after the manifest, in package order."""
        out: list[tuple[str, str, int]] = []
        out.extend((r.member, r.sha256, r.size) for r in self.records)
        out.extend((e.member, e.sha256, e.size) for e in self.evidence)
        if self.custody is not None:
            out.append((self.custody.member, self.custody.sha256, self.custody.size))
        out.extend((o.member, o.sha256, o.size) for o in self.objects)
        return out

    def trusted_comment(self, manifest_sha256: str) -> str:
        return (
            f"{PACKAGE_FORMAT} package={self.package_id} case={self.case_id} "
            f"counsel={self.counsel_id} seq={self.seq} manifest={manifest_sha256}"
        )

    @classmethod
    def from_json(cls, doc: Any) -> PackageManifest:
        """Check the whole schema; every problem is a :class:`ManifestError`."""
        obj = _obj(doc, "manifest")
        fmt = obj.get("format")
        if fmt != PACKAGE_FORMAT:
            raise UnsupportedFormatError(str(fmt)[:40] if isinstance(fmt, str) else "none")
        _keys(
            obj,
            "manifest",
            {
                "format",
                "package_id",
                "created_at",
                "org",
                "counsel",
                "audience",
                "case_id",
                "seq",
                "supersedes",
                "records",
                "evidence",
                "custody",
                "objects",
                "withheld",
            },
        )
        org = _obj(obj["org"], "org")
        _keys(org, "org", {"org_id", "key_id"})
        counsel = _obj(obj["counsel"], "counsel")
        _keys(counsel, "counsel", {"counsel_id", "recipient"})
        if obj["audience"] != AUDIENCE_COUNSEL:
            raise ManifestError("audience must be counsel")
        supersedes = obj["supersedes"]
        if supersedes is not None:
            supersedes = _match(supersedes, _SHA_RE, "supersedes")
        manifest = cls(
            package_id=_match(obj["package_id"], _UUID_RE, "package_id"),
            created_at=_str(obj["created_at"], "created_at", 40),
            org_id=_match(org["org_id"], _UUID_RE, "org.org_id"),
            org_key_id=_match(org["key_id"], _KEY_ID_RE, "org.key_id"),
            counsel_id=_match(counsel["counsel_id"], _UUID_RE, "counsel.counsel_id"),
            counsel_recipient=_match(counsel["recipient"], _FPR_RE, "counsel.recipient"),
            case_id=_match(obj["case_id"], _UUID_RE, "case_id"),
            seq=_int(obj["seq"], "seq", 1),
            supersedes=supersedes,
        )
        if (manifest.seq == 1) != (supersedes is None):
            raise ManifestError("supersedes must be null exactly for the first package")
        seen_records: set[str] = set()
        for item in _list(obj["records"], "records", MAX_ENTRIES):
            entry = RecordEntry.from_json(item, _PACKAGE_OPERATIONS)
            # One version of each record: the package is the case as it stands.
            if entry.id in seen_records:
                raise ManifestError(f"record {entry.id} is listed twice")
            seen_records.add(entry.id)
            manifest.records.append(entry)
        if manifest.case_id not in seen_records:
            raise ManifestError("the case record itself is missing")
        manifest.evidence = evidence_entries(obj["evidence"])
        if obj["custody"] is not None:
            manifest.custody = CustodyEntry.from_json(obj["custody"])
        manifest.objects = object_entries(obj["objects"])
        for item in _list(obj["withheld"], "withheld", MAX_ENTRIES):
            manifest.withheld.append(WithheldEntry.from_json(item))
        return manifest

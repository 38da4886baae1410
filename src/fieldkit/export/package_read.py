"""Reading a case package in the order the bundle reader keeps (export/bundle_read.py):

age header (the lawyer's identity) → SHA256SUMS → its minisign signature by the organisation key
this profile enrolled with → the manifest (hash, strict parse, schema, addressed to this lawyer)
→ every member in the listed order, hashed while it streams → the verified end of the archive
and of the age stream.

The tar, checksum-list, age and object-streaming primitives are the bundle reader's. Every
failure is a :class:`FieldkitError` with a package code, so a lawyer reads "addressed to another
lawyer" rather than a coordinator's bundle wording.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fieldkit.crypto.age import AgeError, X25519Identity
from fieldkit.crypto.age_read import AgeDecryptReader
from fieldkit.crypto.canonical_json import StrictJSONError, strict_loads
from fieldkit.crypto.minisign import MinisignError, MinisignPublicKey, MinisignSignature, verify
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import (
    CUSTODY_NAME,
    MANIFEST_NAME,
    SIG_NAME,
    SUMS_NAME,
    TarFormatError,
    TarReader,
)
from fieldkit.export.bundle_read import (
    Limits,
    ObjectSink,
    _age_error,
    _CountingReader,
    _Source,
    _stream_object,
    _tar_error,
    open_input,
    parse_sums,
)
from fieldkit.export.manifest import (
    CustodyEntry,
    EvidenceEntry,
    ManifestError,
    ObjectEntry,
    RecordEntry,
    UnsupportedFormatError,
)
from fieldkit.export.package_manifest import PACKAGE_UNTRUSTED_COMMENT, PackageManifest

DEFAULT_LIMITS = Limits()


class PackageVisitor(Protocol):
    """Receives each verified piece; may raise FieldkitError to refuse the package."""

    def on_signed(self, manifest: PackageManifest, package_hash: str) -> None: ...
    def on_record(self, entry: RecordEntry, doc: dict[str, Any]) -> None: ...
    def on_evidence(self, entry: EvidenceEntry, doc: dict[str, Any]) -> None: ...
    def on_custody(self, entry: CustodyEntry, events: list[Any]) -> None: ...
    def open_object(self, entry: ObjectEntry) -> ObjectSink: ...


@dataclass(frozen=True)
class PackageReadResult:
    manifest: PackageManifest
    package_hash: str
    encrypted_bytes: int


# Bundle codes raised by the shared primitives, as the lawyer's profile words them.
_TAMPER_CODES = {
    ErrorCode.BUNDLE_TRUNCATED,
    ErrorCode.BUNDLE_TAMPERED,
    ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
    ErrorCode.BUNDLE_SIGNATURE_INVALID,
}


def _as_package_error(exc: FieldkitError, shown: str) -> FieldkitError:
    if exc.code == ErrorCode.BUNDLE_WRONG_RECIPIENT:
        return FieldkitError(ErrorCode.PACKAGE_NOT_ADDRESSED_HERE, path=shown)
    reason = exc.params.get("reason")
    if exc.code == ErrorCode.BUNDLE_CHECKSUM_MISMATCH:
        reason = TranslatableText(N_("an entry does not match its signed checksum"))
    if exc.code == ErrorCode.BUNDLE_SIGNATURE_INVALID:
        reason = TranslatableText(N_("the organisation's signature does not verify"))
    if exc.code in _TAMPER_CODES:
        return FieldkitError(
            ErrorCode.PACKAGE_TAMPERED,
            path=shown,
            reason=reason or TranslatableText(N_("the file was cut short")),
        )
    if exc.code == ErrorCode.NOT_A_BUNDLE:
        return FieldkitError(ErrorCode.PACKAGE_INVALID, path=shown, reason=reason or "")
    return FieldkitError(
        ErrorCode.PACKAGE_INVALID, path=shown, reason=reason if reason is not None else exc.code
    )


def read_package(
    path: Path,
    *,
    identity: X25519Identity,
    org_key: MinisignPublicKey,
    visitor: PackageVisitor,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> PackageReadResult:
    """Check and read one case package, handing each verified piece to ``visitor``."""
    raw, shown = open_input(path)
    with raw:
        total = os.fstat(raw.fileno()).st_size
        counting = _CountingReader(raw)
        try:
            try:
                age = AgeDecryptReader(counting, [identity])  # type: ignore[arg-type]
            except AgeError as exc:
                raise _age_error(exc, shown) from None
            try:
                return _read_inner(
                    _Source(age, shown),
                    counting,
                    total,
                    shown,
                    identity,
                    org_key,
                    visitor,
                    limits,
                    progress,
                    cancel,
                )
            except TarFormatError as exc:
                raise _tar_error(exc, shown) from None
        except FieldkitError as exc:
            if exc.code.value.startswith("bundle_") or exc.code == ErrorCode.NOT_A_BUNDLE:
                raise _as_package_error(exc, shown) from None
            raise


def _read_inner(
    source: _Source,
    counting: _CountingReader,
    total: int,
    shown: str,
    identity: X25519Identity,
    org_key: MinisignPublicKey,
    visitor: PackageVisitor,
    limits: Limits,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> PackageReadResult:
    tar = TarReader(source)

    def invalid(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.PACKAGE_INVALID, path=shown, reason=reason)

    def tampered(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.PACKAGE_TAMPERED, path=shown, reason=reason)

    first = tar.next()
    if first is None or first.name != SUMS_NAME:
        raise invalid(f"the first entry must be {SUMS_NAME}")
    if first.size > limits.sums_bytes:
        raise invalid(f"{SUMS_NAME} is too large")
    sums_bytes = tar.read_all(limits.sums_bytes)

    second = tar.next()
    if second is None or second.name != SIG_NAME:
        raise invalid(f"the second entry must be {SIG_NAME}")
    if second.size > limits.signature_bytes:
        raise invalid(f"{SIG_NAME} is too large")
    sig_bytes = tar.read_all(limits.signature_bytes)
    try:
        signature = MinisignSignature.parse(sig_bytes)
    except MinisignError:
        raise tampered(TranslatableText(N_("the signature file is malformed"))) from None
    if (
        signature.file_bytes() != sig_bytes
        or signature.untrusted_comment != PACKAGE_UNTRUSTED_COMMENT
    ):
        raise tampered(TranslatableText(N_("the signature file is malformed")))
    if signature.key_id_hex != org_key.id_hex:
        raise FieldkitError(
            ErrorCode.PACKAGE_UNKNOWN_SIGNER, path=shown, key_id=signature.key_id_hex
        )
    try:
        verify(org_key, signature, sums_bytes)
    except MinisignError:
        raise tampered(
            TranslatableText(N_("the organisation's signature does not verify"))
        ) from None
    try:
        sums = parse_sums(sums_bytes)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    if not sums or sums[0][1] != MANIFEST_NAME:
        raise invalid(f"the checksum list must start with {MANIFEST_NAME}")

    third = tar.next()
    if third is None or third.name != MANIFEST_NAME:
        raise invalid(f"the third entry must be {MANIFEST_NAME}")
    if third.size > limits.manifest_bytes:
        raise invalid("the manifest is too large")
    manifest_bytes = tar.read_all(limits.manifest_bytes)
    package_hash = hashlib.sha256(manifest_bytes).hexdigest()
    if package_hash != sums[0][0]:
        raise tampered(TranslatableText(N_("an entry does not match its signed checksum")))
    try:
        doc = strict_loads(manifest_bytes, max_bytes=limits.manifest_bytes, allow_floats=False)
        manifest = PackageManifest.from_json(doc)
    except UnsupportedFormatError as exc:
        raise invalid(f"unsupported package format {exc.reason}") from None
    except (StrictJSONError, ManifestError) as exc:
        raise invalid(str(exc.args[0])) from None
    if signature.trusted_comment != manifest.trusted_comment(package_hash):
        raise tampered(TranslatableText(N_("the signed comment does not match the manifest")))
    if manifest.org_key_id != org_key.id_hex:
        raise invalid(TranslatableText(N_("the manifest names another organisation key")))
    if manifest.counsel_recipient != identity.recipient.fingerprint():
        raise FieldkitError(ErrorCode.PACKAGE_NOT_ADDRESSED_HERE, path=shown)
    expected = manifest.members()
    if [(name, sha) for name, sha, _ in expected] != [(name, sha) for sha, name in sums[1:]]:
        raise tampered(TranslatableText(N_("the manifest and the signed checksum list disagree")))
    visitor.on_signed(manifest, package_hash)

    records = {r.member: r for r in manifest.records}
    evidence = {e.member: e for e in manifest.evidence}
    objects = {o.member: o for o in manifest.objects}
    for name, sha, size in expected:
        check_cancel(cancel)
        header = tar.next()
        if header is None:
            raise tampered(f"the entry {name} is missing")
        if header.name != name:
            raise invalid(f"unexpected entry {header.name} (expected {name})")
        if header.size != size:
            raise tampered(f"{name} has {header.size} bytes, the manifest says {size}")
        if name in objects:
            if size > limits.object_bytes:
                raise invalid(f"{name} is too large")

            def report() -> None:
                if progress is not None:
                    progress(counting.count, total, "verifying")

            _stream_object(tar, objects[name], visitor, shown, cancel, report)
            continue
        limit = (
            limits.record_bytes
            if name in records
            else limits.evidence_meta_bytes
            if name in evidence
            else limits.custody_bytes
        )
        if size > limit:
            raise invalid(f"{name} is too large")
        data = tar.read_all(limit)
        if hashlib.sha256(data).hexdigest() != sha:
            raise tampered(TranslatableText(N_("an entry does not match its signed checksum")))
        try:
            value = strict_loads(data, max_bytes=limit, max_depth=limits.json_depth)
        except StrictJSONError as exc:
            raise invalid(f"{name}: {exc.reason}") from None
        if name in records:
            entry = records[name]
            if (
                not isinstance(value, dict)
                or value.get("id") != entry.id
                or value.get("revision") != entry.revision
                or value.get("type") != entry.type
            ):
                raise invalid(f"{name} differs from the manifest")
            visitor.on_record(entry, value)
        elif name in evidence:
            if not isinstance(value, dict) or value.get("id") != evidence[name].id:
                raise invalid(f"{name} differs from the manifest")
            visitor.on_evidence(evidence[name], value)
        elif name == CUSTODY_NAME and manifest.custody is not None:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise invalid("the custody log must be a JSON list of objects")
            if len(value) != manifest.custody.entries:
                raise invalid("the custody log has another number of entries than the manifest")
            visitor.on_custody(manifest.custody, value)
        else:
            raise invalid(f"unexpected entry {name}")
        if progress is not None:
            progress(counting.count, total, "verifying")
    extra = tar.next()
    if extra is not None:
        raise invalid(f"unexpected entry {extra.name}")
    if progress is not None:
        progress(total, total, "verifying")
    return PackageReadResult(
        manifest=manifest, package_hash=package_hash, encrypted_bytes=counting.count
    )

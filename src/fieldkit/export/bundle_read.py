"""Reading a bundle in the order that keeps an attacker's bytes away from every parser:

age header → streamed decryption → SHA256SUMS (size-capped) → its minisign signature, checked
against the trust list → the manifest (hash first, then a strict parse, then the schema) → every
member in the listed order, hashed while it streams to the caller's sink → the verified end of the
archive and of the age stream.

Every failure is a :class:`~fieldkit.domain.errors.FieldkitError` with a specific code. The caller
(a ``BundleVisitor``) decides what to do with each verified piece; nothing here touches a database
or turns a member name into a path.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from fieldkit.crypto.age import (
    AgeError,
    AgeHeaderTamperedError,
    AgeNoIdentityError,
    AgeNotAgeFileError,
    AgePayloadTamperedError,
    AgeTruncatedError,
    X25519Identity,
)
from fieldkit.crypto.age_read import AgeDecryptReader
from fieldkit.crypto.canonical_json import StrictJSONError, strict_loads
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
    MinisignSignature,
    verify,
)
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import NOT_REGULAR_FILE, os_reason
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import (
    AUDIT_NAME,
    MANIFEST_NAME,
    SIG_NAME,
    SUMS_NAME,
    TarFormatError,
    TarReader,
    display_name,
    is_allowed_name,
    open_regular_file,
)
from fieldkit.export.bundle_write import UNTRUSTED_COMMENT
from fieldkit.export.manifest import (
    AuditEntry,
    CustodyEntry,
    EvidenceEntry,
    Manifest,
    ManifestError,
    ObjectEntry,
    RecordEntry,
    UnsupportedFormatError,
)

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    sums_bytes: int = 16 * 1024 * 1024
    signature_bytes: int = 4096
    manifest_bytes: int = 16 * 1024 * 1024
    record_bytes: int = 16 * 1024 * 1024
    evidence_meta_bytes: int = 4 * 1024 * 1024
    audit_bytes: int = 64 * 1024 * 1024
    custody_bytes: int = 64 * 1024 * 1024
    object_bytes: int = 1 << 40
    json_depth: int = 64


@dataclass(frozen=True)
class Signer:
    """An enrolled device as the trust list knows it."""

    device_id: str
    label: str
    public_key: MinisignPublicKey
    status: str  # "active" | "revoked"
    last_good_seq: int | None = None


class ObjectSink(Protocol):
    def write(self, data: bytes, /) -> object: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class UnknownSignerError(FieldkitError):
    """BUNDLE_UNKNOWN_SIGNER, with the bundle's signed head: the exact ``SHA256SUMS.minisig``
    bytes (at most the reader's signature limit), which name the key and carry the signed
    trusted comment (bundle id, device, seq), checkable once the key is enrolled."""

    def __init__(self, shown: str, key_id: str, signed_head: bytes) -> None:
        super().__init__(ErrorCode.BUNDLE_UNKNOWN_SIGNER, path=shown, key_id=key_id)
        self.signed_head = signed_head


class BundleVisitor(Protocol):
    """Receives each piece once it verified; may raise FieldkitError to refuse the bundle."""

    def on_signed(self, signer: Signer, manifest: Manifest, bundle_hash: str) -> None: ...
    def on_record(self, entry: RecordEntry, doc: dict[str, Any]) -> None: ...
    def on_evidence(self, entry: EvidenceEntry, doc: dict[str, Any]) -> None: ...
    def on_audit(self, entry: AuditEntry, entries: list[Any]) -> None: ...
    def on_custody(self, entry: CustodyEntry, events: list[Any]) -> None: ...
    def open_object(self, entry: ObjectEntry) -> ObjectSink: ...


@dataclass(frozen=True)
class ReadResult:
    manifest: Manifest
    signer: Signer
    bundle_hash: str
    trusted_comment: str
    encrypted_bytes: int
    payload_bytes: int


_SUMS_LINE = re.compile(r"([0-9a-f]{64})  (.+)", re.DOTALL)


def parse_sums(data: bytes) -> list[tuple[str, str]]:
    """(sha256, name) pairs of a SHA256SUMS member; strict about every byte.

    A malformed list raises ValueError; a list naming an entry the format forbids raises
    TarFormatError("unsafe"), as the entry itself would.
    """
    if not data.endswith(b"\n"):
        raise ValueError("the checksum list does not end with a newline")
    out: list[tuple[str, str]] = []
    names: set[str] = set()
    for raw_line in data[:-1].split(b"\n"):
        match = _SUMS_LINE.fullmatch(raw_line.decode("utf-8", "backslashreplace"))
        if match is None:
            raise ValueError("a line of the checksum list is malformed")
        sha, name = match.groups()
        if not is_allowed_name(name) or name in (SUMS_NAME, SIG_NAME):
            raise TarFormatError(
                "unsafe", f"the checksum list names a forbidden entry {display_name(name)}"
            )
        if name in names:
            raise ValueError(f"the checksum list names {name} twice")
        names.add(name)
        out.append((sha, name))
    return out


class _CountingReader:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        return data


class _Source:
    """The age plaintext as the tar reader sees it, with age failures made FieldkitErrors."""

    def __init__(self, reader: AgeDecryptReader, shown: str) -> None:
        self._reader = reader
        self._shown = shown

    def read(self, n: int = -1) -> bytes:
        try:
            return self._reader.read(n)
        except AgeError as exc:
            raise _age_error(exc, self._shown) from None


def _age_error(exc: AgeError, shown: str) -> FieldkitError:
    if isinstance(exc, AgeTruncatedError):
        return FieldkitError(
            ErrorCode.BUNDLE_TRUNCATED, path=shown, reason=TranslatableText(exc.reason)
        )
    if isinstance(exc, AgeNoIdentityError):
        return FieldkitError(ErrorCode.BUNDLE_WRONG_RECIPIENT, path=shown)
    if isinstance(exc, AgeHeaderTamperedError | AgePayloadTamperedError):
        return FieldkitError(
            ErrorCode.BUNDLE_TAMPERED, path=shown, reason=TranslatableText(exc.reason)
        )
    if isinstance(exc, AgeNotAgeFileError):
        return FieldkitError(
            ErrorCode.NOT_A_BUNDLE, path=shown, reason=TranslatableText(exc.reason)
        )
    return FieldkitError(ErrorCode.BUNDLE_TAMPERED, path=shown, reason=TranslatableText(exc.reason))


def _tar_error(exc: TarFormatError, shown: str) -> FieldkitError:
    reason = TranslatableText(exc.reason)  # fixed reasons are marked for translation
    if exc.kind == "unsafe":
        return FieldkitError(ErrorCode.BUNDLE_UNSAFE_MEMBER, path=shown, reason=reason)
    if exc.kind == "truncated":
        return FieldkitError(ErrorCode.BUNDLE_TRUNCATED, path=shown, reason=reason)
    return FieldkitError(ErrorCode.BUNDLE_LAYOUT, path=shown, reason=reason)


def _parse_comment(comment: str) -> dict[str, str]:
    parts = comment.split(" ")
    fields = {"format": parts[0]}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or key in fields:
            raise ValueError("malformed")
        fields[key] = value
    return fields


def open_input(path: Path) -> tuple[BinaryIO, str]:
    """Open a bundle or package file to read (a regular file, no symbolic link), with the name to
    show for it; anything else is a clear FILE_NOT_READABLE error."""
    shown = display_name(str(path), 200)
    try:
        return open_regular_file(str(path)), shown
    except OSError as exc:
        reason = (
            TranslatableText(NOT_REGULAR_FILE)
            if isinstance(exc, IsADirectoryError)
            else os_reason(exc)
        )
        raise FieldkitError(ErrorCode.FILE_NOT_READABLE, path=shown, reason=reason) from None


def read_bundle(
    path: Path,
    *,
    identities: Sequence[X25519Identity],
    find_signer: Callable[[str], Signer | None],
    visitor: BundleVisitor,
    limits: Limits = Limits(),
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ReadResult:
    """Check and read one bundle file, handing each verified piece to ``visitor``."""
    raw, shown = open_input(path)
    with raw:
        return read_bundle_stream(
            raw,
            os.fstat(raw.fileno()).st_size,
            shown,
            identities=identities,
            find_signer=find_signer,
            visitor=visitor,
            limits=limits,
            progress=progress,
            cancel=cancel,
        )


def read_bundle_stream(
    raw: BinaryIO,
    total: int,
    shown: str,
    *,
    identities: Sequence[X25519Identity],
    find_signer: Callable[[str], Signer | None],
    visitor: BundleVisitor,
    limits: Limits = Limits(),
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ReadResult:
    """The same checks on a bundle that arrives as a stream (``total``: its announced size, for
    progress). Used by the sync server, which reads the upload as it arrives."""
    counting = _CountingReader(raw)
    try:
        age = AgeDecryptReader(counting, identities)  # type: ignore[arg-type]
    except AgeError as exc:
        raise _age_error(exc, shown) from None
    try:
        return _read_inner(
            _Source(age, shown),
            age,
            counting,
            total,
            shown,
            find_signer,
            visitor,
            limits,
            progress,
            cancel,
        )
    except TarFormatError as exc:
        raise _tar_error(exc, shown) from None


def _read_inner(
    source: _Source,
    age: AgeDecryptReader,
    counting: _CountingReader,
    total: int,
    shown: str,
    find_signer: Callable[[str], Signer | None],
    visitor: BundleVisitor,
    limits: Limits,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> ReadResult:
    tar = TarReader(source)

    def layout(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.BUNDLE_LAYOUT, path=shown, reason=reason)

    def too_large(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.BUNDLE_TOO_LARGE, path=shown, reason=reason)

    # 1. the checksum list
    first = tar.next()
    if first is None:
        raise layout("the archive is empty")
    if first.name != SUMS_NAME:
        raise layout(f"the first entry must be {SUMS_NAME}, found {first.name}")
    if first.size > limits.sums_bytes:
        raise too_large(f"{SUMS_NAME} has {first.size} bytes (limit {limits.sums_bytes})")
    sums_bytes = tar.read_all(limits.sums_bytes)

    # 2. its signature, checked against the trust list before anything else is read
    second = tar.next()
    if second is None or second.name != SIG_NAME:
        found = second.name if second else "the end of the archive"
        raise layout(f"the second entry must be {SIG_NAME}, found {found}")
    if second.size > limits.signature_bytes:
        raise too_large(f"{SIG_NAME} has {second.size} bytes")
    sig_bytes = tar.read_all(limits.signature_bytes)
    try:
        signature = MinisignSignature.parse(sig_bytes)
    except MinisignError:
        raise FieldkitError(ErrorCode.BUNDLE_SIGNATURE_INVALID, path=shown) from None
    if signature.file_bytes() != sig_bytes or signature.untrusted_comment != UNTRUSTED_COMMENT:
        # Only the exact file the writer makes: even the unsigned comment line may not vary.
        raise FieldkitError(ErrorCode.BUNDLE_SIGNATURE_INVALID, path=shown)
    signer = find_signer(signature.key_id_hex)
    if signer is None:
        raise UnknownSignerError(shown, signature.key_id_hex, sig_bytes)
    try:
        verify(signer.public_key, signature, sums_bytes)
    except MinisignError:
        raise FieldkitError(ErrorCode.BUNDLE_SIGNATURE_INVALID, path=shown) from None
    try:
        sums = parse_sums(sums_bytes)
    except ValueError as exc:
        raise layout(str(exc)) from None
    if not sums or sums[0][1] != MANIFEST_NAME:
        raise layout(f"the checksum list must start with {MANIFEST_NAME}")

    # 3. the manifest: hash, strict parse, schema, binding to the signer and to us
    third = tar.next()
    if third is None or third.name != MANIFEST_NAME:
        found = third.name if third else "the end of the archive"
        raise layout(f"the third entry must be {MANIFEST_NAME}, found {found}")
    if third.size > limits.manifest_bytes:
        raise too_large(f"the manifest has {third.size} bytes (limit {limits.manifest_bytes})")
    manifest_bytes = tar.read_all(limits.manifest_bytes)
    bundle_hash = hashlib.sha256(manifest_bytes).hexdigest()
    if bundle_hash != sums[0][0]:
        raise FieldkitError(ErrorCode.BUNDLE_CHECKSUM_MISMATCH, path=shown, member=MANIFEST_NAME)
    try:
        doc = strict_loads(manifest_bytes, max_bytes=limits.manifest_bytes, allow_floats=False)
        manifest = Manifest.from_json(doc)
    except UnsupportedFormatError as exc:
        raise FieldkitError(
            ErrorCode.BUNDLE_UNSUPPORTED_VERSION, path=shown, version=exc.reason
        ) from None
    except (StrictJSONError, ManifestError) as exc:
        raise FieldkitError(
            ErrorCode.BUNDLE_MANIFEST_INVALID, path=shown, reason=exc.args[0]
        ) from None
    if manifest.device_id != signer.device_id or manifest.device_key_id != signature.key_id_hex:
        raise FieldkitError(
            ErrorCode.BUNDLE_DEVICE_MISMATCH, path=shown, claimed=manifest.device_id
        )
    try:
        comment = _parse_comment(signature.trusted_comment)
    except ValueError:
        comment = {}
    expected_comment = _parse_comment(manifest.trusted_comment(bundle_hash))
    if comment != expected_comment:
        raise FieldkitError(
            ErrorCode.BUNDLE_MANIFEST_INVALID,
            path=shown,
            reason=TranslatableText(N_("the signed comment does not match the manifest")),
        )
    recipient = age.matched_recipient
    if recipient is None or recipient.fingerprint() not in manifest.org_recipients:
        raise FieldkitError(
            ErrorCode.BUNDLE_MANIFEST_INVALID,
            path=shown,
            reason=TranslatableText(N_("the manifest is addressed to another organisation key")),
        )
    expected = manifest.members()
    if [(name, sha) for name, sha, _ in expected] != [(name, sha) for sha, name in sums[1:]]:
        raise FieldkitError(
            ErrorCode.BUNDLE_MANIFEST_INVALID,
            path=shown,
            reason=TranslatableText(N_("the manifest and the signed checksum list disagree")),
        )
    visitor.on_signed(signer, manifest, bundle_hash)

    # 4. every member, in order, hashed while it streams
    records = {r.member: r for r in manifest.records}
    evidence = {e.member: e for e in manifest.evidence}
    objects = {o.member: o for o in manifest.objects}
    expected_names = {name for name, _s, _z in expected}
    payload = 0
    for index, (name, sha, size) in enumerate(expected):
        check_cancel(cancel)
        header = tar.next()
        if header is None:
            raise layout(f"the entry {name} is missing")
        if header.name != name:
            if header.name in expected_names:
                later = [n for n, _s, _z in expected[index:]]
                if header.name in later:
                    raise layout(f"the entry {header.name} is out of order (expected {name})")
            raise layout(f"unexpected entry {header.name}")
        if header.size != size:
            raise FieldkitError(
                ErrorCode.BUNDLE_TAMPERED,
                path=shown,
                reason=f"{name} has {header.size} bytes, the manifest says {size}",
            )
        if name in objects:
            if size > limits.object_bytes:
                raise too_large(f"{name} has {size} bytes (limit {limits.object_bytes})")

            def report() -> None:
                if progress is not None:
                    progress(counting.count, total, "verifying")

            _stream_object(tar, objects[name], visitor, shown, cancel, report)
        else:
            limit = (
                limits.record_bytes
                if name in records
                else limits.evidence_meta_bytes
                if name in evidence
                else limits.audit_bytes
                if name == AUDIT_NAME
                else limits.custody_bytes
            )
            if size > limit:
                raise too_large(f"{name} has {size} bytes (limit {limit})")
            data = tar.read_all(limit)
            if hashlib.sha256(data).hexdigest() != sha:
                raise FieldkitError(ErrorCode.BUNDLE_CHECKSUM_MISMATCH, path=shown, member=name)
            try:
                value = strict_loads(data, max_bytes=limit, max_depth=limits.json_depth)
            except StrictJSONError as exc:
                raise FieldkitError(
                    ErrorCode.BUNDLE_MEMBER_INVALID, path=shown, member=name, reason=exc.reason
                ) from None
            _dispatch_json(name, value, records, evidence, manifest, visitor, shown)
        payload += size
        if progress is not None:
            progress(counting.count, total, "verifying")
    extra = tar.next()
    if extra is not None:
        raise layout(f"unexpected entry {extra.name}")
    if progress is not None:
        progress(total, total, "verifying")
    return ReadResult(
        manifest=manifest,
        signer=signer,
        bundle_hash=bundle_hash,
        trusted_comment=signature.trusted_comment,
        encrypted_bytes=counting.count,
        payload_bytes=payload,
    )


def _dispatch_json(
    name: str,
    value: Any,
    records: dict[str, RecordEntry],
    evidence: dict[str, EvidenceEntry],
    manifest: Manifest,
    visitor: BundleVisitor,
    shown: str,
) -> None:
    def invalid(reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.BUNDLE_MEMBER_INVALID, path=shown, member=name, reason=reason
        )

    if name in records:
        entry = records[name]
        if not isinstance(value, dict):
            raise invalid("a record must be a JSON object")
        if value.get("id") != entry.id or value.get("revision") != entry.revision:
            raise invalid("the record's id or revision differs from the manifest")
        if value.get("type") != entry.type:
            raise invalid("the record's type differs from the manifest")
        visitor.on_record(entry, value)
    elif name in evidence:
        eentry = evidence[name]
        if not isinstance(value, dict) or value.get("id") != eentry.id:
            raise invalid("the evidence description's id differs from the manifest")
        visitor.on_evidence(eentry, value)
    elif name == AUDIT_NAME:
        assert manifest.audit is not None
        if not isinstance(value, list):
            raise invalid("the audit log must be a JSON list")
        if len(value) != manifest.audit.entries:
            raise invalid("the audit log has a different number of entries than the manifest")
        visitor.on_audit(manifest.audit, value)
    else:
        assert manifest.custody is not None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid("the custody log must be a JSON list of objects")
        if len(value) != manifest.custody.entries:
            raise invalid("the custody log has a different number of entries than the manifest")
        visitor.on_custody(manifest.custody, value)


class OpensObjects(Protocol):
    def open_object(self, entry: ObjectEntry) -> ObjectSink: ...


def _stream_object(
    tar: TarReader,
    entry: ObjectEntry,
    visitor: OpensObjects,
    shown: str,
    cancel: CancelToken | None,
    report: Callable[[], None],
) -> None:
    sink = visitor.open_object(entry)
    digest = hashlib.sha256()
    # SHA-256 releases the GIL on large blocks: it runs on a second core while this thread
    # hands the same block to the sink (which encrypts it), so the two overlap.
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="object-hash")
    try:
        pending: Future[None] | None = None
        while True:
            chunk = tar.read(READ_CHUNK)
            if pending is not None:
                pending.result()
            if not chunk:
                break
            pending = hasher.submit(digest.update, chunk)
            sink.write(chunk)
            report()
            check_cancel(cancel)
        pending = None
        if digest.hexdigest() != entry.sha256:
            raise FieldkitError(ErrorCode.BUNDLE_CHECKSUM_MISMATCH, path=shown, member=entry.member)
    except BaseException:
        sink.abort()
        raise
    finally:
        hasher.shutdown(wait=True)
    sink.commit()


class NullObjectSink:
    """Hashes and forgets: for checking a bundle without keeping its objects."""

    def write(self, data: bytes) -> int:
        return len(data)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass

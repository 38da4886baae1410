"""Writing a bundle: age(X25519) around a tar of SHA256SUMS, its minisign signature, the manifest
and the members it lists, in that order (see docs/bundle-format.md).

The caller computes every member's SHA-256 and size first (records from their canonical bytes,
evidence from intake), so the signed checksum list can lead the archive while the members stream
behind it in constant memory. Each member is hashed again as it is written; if what arrives differs
from what was announced the write stops with :class:`MemberChangedError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.crypto.age import AgeEncryptWriter, X25519Recipient
from fieldkit.crypto.minisign import MinisignSignature, sign
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import MANIFEST_NAME, SIG_NAME, SUMS_NAME, TarWriter
from fieldkit.export.manifest import sums_text


class SignedManifest(Protocol):
    """What the writer needs of a manifest: a bundle's, or a case package's."""

    @property
    def bundle_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    def members(self) -> list[tuple[str, str, int]]: ...
    def trusted_comment(self, manifest_sha256: str) -> str: ...


class MemberChangedError(Exception):
    """A member's bytes differ from the hash or size announced in the manifest."""

    def __init__(self, member: str) -> None:
        super().__init__(member)
        self.member = member


@dataclass(frozen=True)
class WrittenBundle:
    bundle_id: str
    seq: int
    bundle_hash: str  # SHA-256 of the manifest bytes
    manifest_bytes: int
    payload_bytes: int  # plaintext bytes of the members after the manifest
    encrypted_bytes: int


class _CountingSink:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        self.count += len(data)
        return len(data)


UNTRUSTED_COMMENT = "fieldkit bundle checksum list signed by the device key"


def sign_sums(
    key: Ed25519PrivateKey,
    sums: bytes,
    trusted_comment: str,
    untrusted_comment: str = UNTRUSTED_COMMENT,
) -> MinisignSignature:
    return sign(key, sums, trusted_comment=trusted_comment, untrusted_comment=untrusted_comment)


def write_bundle(
    sink: BinaryIO,
    *,
    manifest: SignedManifest,
    recipients: Sequence[X25519Recipient],
    signing_key: Ed25519PrivateKey,
    contents: Iterable[tuple[str, Iterable[bytes]]],
    mtime: int = 0,
    untrusted_comment: str = UNTRUSTED_COMMENT,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> WrittenBundle:
    """Write one bundle to ``sink``; ``contents`` yields (member name, chunks) in manifest order.

    A case package is written the same way, with its own manifest and ``untrusted_comment``.
    """
    manifest_bytes = manifest.to_bytes()
    manifest_hash = hashlib.sha256(manifest_bytes).hexdigest()
    sums = sums_text(manifest_hash, manifest)
    signature = sign_sums(
        signing_key, sums, manifest.trusted_comment(manifest_hash), untrusted_comment
    )
    expected = manifest.members()
    total = sum(size for _n, _s, size in expected)
    counter = _CountingSink(sink)
    age = AgeEncryptWriter(counter, recipients)  # type: ignore[arg-type]
    tar = TarWriter(age, mtime=mtime)
    tar.add(SUMS_NAME, sums)
    tar.add(SIG_NAME, signature.file_bytes())
    tar.add(MANIFEST_NAME, manifest_bytes)
    done = 0
    content_iter: Iterator[tuple[str, Iterable[bytes]]] = iter(contents)
    for name, sha, size in expected:
        check_cancel(cancel)
        try:
            got_name, chunks = next(content_iter)
        except StopIteration:
            raise MemberChangedError(name) from None
        if got_name != name:
            raise MemberChangedError(name)
        digest = hashlib.sha256()
        written = 0
        tar.begin(name, size)
        for chunk in chunks:
            written += len(chunk)
            if written > size:
                raise MemberChangedError(name)
            digest.update(chunk)
            tar.write(chunk)
            done += len(chunk)
            if progress is not None and len(chunk) >= 65536:
                progress(done, total, "writing")
            check_cancel(cancel)
        if written != size or digest.hexdigest() != sha:
            raise MemberChangedError(name)
        tar.end()
    if next(content_iter, None) is not None:
        raise MemberChangedError("(extra member)")
    tar.close()
    age.close()
    if progress is not None:
        progress(total, total, "writing")
    return WrittenBundle(
        bundle_id=manifest.bundle_id,
        seq=manifest.seq,
        bundle_hash=manifest_hash,
        manifest_bytes=len(manifest_bytes),
        payload_bytes=total,
        encrypted_bytes=counter.count,
    )

"""The coordinator's side of sync, without HTTP: who may send, what was received, receipts.

:mod:`fieldkit.server` turns requests into calls of :class:`Inbox`; everything that touches the
profile happens here (and in the bundle and trust services), so the server works on whatever
storage the profile has.

An upload is kept, still age-encrypted, as ``sync/uploads/<bundle id>.part`` beside a small
``.json`` saying which device announced which size and SHA-256. Nothing is written before the
request's signature names an enrolled, active device, and nothing beyond the bundle's signed
head (checksum list, signature, manifest) before that head verified and names the same device.
The import runs while the upload streams; it commits only when the last byte arrived and the
file's SHA-256 matches. An interrupted upload keeps what arrived, and the next attempt continues
from there (the import starts again, reading the kept part first).

The profile's database has one writer, so one import runs at a time. An upload that arrives
while another imports is not turned away: its signed head is verified as it arrives (reading
the trust list only), the rest goes to its part, and once the whole file is there it waits (at
most ``InboxLimits.import_wait``) for the running import and is then imported from the part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_read import Signer, read_bundle_stream
from fieldkit.export.manifest import Manifest
from fieldkit.services import bundles as bundle_service
from fieldkit.services import sync_protocol as proto
from fieldkit.services import trust
from fieldkit.services.bundles import BundleReport
from fieldkit.services.roles import require_role
from fieldkit.storage.fsutil import FILE_MODE, atomic_write_bytes, make_private_dir
from fieldkit.storage.vault import Vault

GiB = 1024 * 1024 * 1024
UPLOADS_DIR = "uploads"
# Enough for the age header and the signed head at the readers' limits (two 16 MiB members).
HEAD_BYTES = 40 * 1024 * 1024
RETRY_BUSY_SECONDS = 5


@dataclass(frozen=True)
class InboxLimits:
    max_bundle_bytes: int = 8 * GiB
    requests_per_minute: int = 120  # per device, with bursts of up to ``burst``
    burst: int = 30
    challenges_per_minute: int = 60  # per address (before a device is known)
    idle_timeout: float = 120.0  # seconds without a byte from the sender
    max_partial_uploads: int = 4  # per device
    challenge_lifetime: float = 600.0
    # how long a complete upload waits for another device's import before the sender is told
    # to come back (it then sends nothing again: the whole file is kept)
    import_wait: float = 30.0


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per key; ``take`` returns 0 or the seconds to wait."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float]) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            self._buckets[key] = bucket
            while len(self._buckets) > 10_000:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, int((1 - bucket.tokens) / self.rate + 0.999))


@dataclass(frozen=True)
class Device:
    device_id: str
    key_id: str
    label: str


@dataclass
class UploadState:
    device_id: str
    size: int
    sha256: str
    received: int = 0


@dataclass
class UploadResult:
    report: BundleReport
    receipt: dict[str, str] | None
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ClientGone(Exception):
    """The sender stopped before the last byte (closed, or silent past the idle timeout)."""


class Inbox:
    def __init__(
        self,
        vault: Vault,
        certificate_sha256: str,
        limits: InboxLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        require_role(vault, Role.COORDINATOR)
        trust.org_info(vault)  # refuse to serve a profile without organisation keys
        self.vault = vault
        self.certificate_sha256 = certificate_sha256
        self.limits = limits or InboxLimits()
        self.clock = clock
        self.folder = vault.path / "sync" / UPLOADS_DIR
        make_private_dir(self.folder)
        self._challenges: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._refusals: OrderedDict[str, FieldkitError] = OrderedDict()
        self._device_limiter = RateLimiter(
            self.limits.requests_per_minute, self.limits.burst, clock
        )
        self._address_limiter = RateLimiter(
            self.limits.challenges_per_minute, max(5, self.limits.challenges_per_minute // 4), clock
        )
        # one import at a time: the profile's database has one writer
        self._import_lock = threading.Lock()

    # -- who is asking --

    def new_challenge(self, address: str) -> str:
        wait = self._address_limiter.take(address)
        if wait:
            raise FieldkitError(ErrorCode.SYNC_RATE_LIMITED, seconds=wait)
        challenge = secrets.token_hex(32)
        now = self.clock()
        with self._lock:
            self._challenges[challenge] = now + self.limits.challenge_lifetime
            while len(self._challenges) > 50_000:
                self._challenges.popitem(last=False)
        return challenge

    def authenticate(self, header: str | None, method: str, target: str) -> Device:
        credentials = proto.parse_authorization(header)
        if credentials is None:
            raise FieldkitError(
                ErrorCode.SYNC_AUTH_FAILED,
                reason=TranslatableText(N_("the request is not signed by a device key")),
            )
        with self._lock:
            expires = self._challenges.get(credentials.challenge)
        if expires is None or expires < self.clock():
            raise FieldkitError(
                ErrorCode.SYNC_AUTH_FAILED,
                reason=TranslatableText(N_("the server's challenge is unknown or expired")),
            )
        with self.vault.session() as s:
            signer = trust.signer_for_key(s, credentials.key_id)
        if signer is None:
            raise FieldkitError(
                ErrorCode.SYNC_AUTH_FAILED,
                reason=TranslatableText(N_("this device is not enrolled with the organisation")),
            )
        public = Ed25519PublicKey.from_public_bytes(signer.public_key.public_bytes)
        if not proto.signature_valid(public, credentials, method, target, self.certificate_sha256):
            raise FieldkitError(
                ErrorCode.SYNC_AUTH_FAILED,
                reason=TranslatableText(N_("the request's signature does not verify")),
            )
        if signer.status != "active":
            raise FieldkitError(
                ErrorCode.SYNC_AUTH_FAILED,
                reason=TranslatableText(N_("this device was revoked by the organisation")),
            )
        wait = self._device_limiter.take(signer.device_id)
        if wait:
            raise FieldkitError(ErrorCode.SYNC_RATE_LIMITED, seconds=wait)
        return Device(signer.device_id, credentials.key_id, signer.label)

    # -- what was received --

    def card(self) -> bytes | None:
        """The card last written with a sync address (``org public --sync-url``)."""
        return trust.published_card(self.vault)

    def _paths(self, bundle_id: str) -> tuple[Path, Path]:
        return self.folder / f"{bundle_id}.part", self.folder / f"{bundle_id}.json"

    def _state(self, bundle_id: str) -> UploadState | None:
        part, meta = self._paths(bundle_id)
        try:
            doc = json.loads(meta.read_bytes())
            state = UploadState(str(doc["device_id"]), int(doc["size"]), str(doc["sha256"]))
            state.received = part.stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return state

    def _drop(self, bundle_id: str) -> None:
        for path in self._paths(bundle_id):
            with contextlib.suppress(OSError):
                path.unlink()

    def remember_refusal(self, bundle_id: str, exc: FieldkitError) -> None:
        """A refusal found while the body streamed may not reach a sender that is still
        writing; the next status request of the same bundle tells it (once)."""
        with self._lock:
            self._refusals[bundle_id] = exc
            while len(self._refusals) > 1000:
                self._refusals.popitem(last=False)

    def status(
        self, device: Device, bundle_id: str, size: int | None = None, sha256: str | None = None
    ) -> dict[str, Any]:
        """Where an upload stands: ``imported``, ``partial`` (with ``received``) or
        ``absent``; with the announced size, refusals that need no byte of the body come here
        (too large), so the sender learns them before it sends."""
        imported_by = bundle_service.imported_bundle_device(self.vault, bundle_id)
        if imported_by is not None:
            if imported_by != device.device_id:
                raise _not_yours(bundle_id)
            return {"state": "imported", "received": 0}
        with self._lock:
            refusal = self._refusals.pop(bundle_id, None)
        if refusal is not None:
            raise refusal
        if size is not None and size > self.limits.max_bundle_bytes:
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_TOO_LARGE,
                bundle=bundle_id,
                size=size,
                limit=self.limits.max_bundle_bytes,
            )
        state = self._state(bundle_id)
        if state is not None and sha256 is not None and state.sha256 != sha256:
            return {"state": "absent", "received": 0}
        if state is None:
            return {"state": "absent", "received": 0}
        if state.device_id != device.device_id:
            raise _not_yours(bundle_id)
        return {
            "state": "partial",
            "received": state.received,
            "size": state.size,
            "sha256": state.sha256,
        }

    def receipt(self, device: Device) -> dict[str, str] | None:
        made = bundle_service.device_receipt(self.vault, device.device_id)
        if made is None:
            return None
        data, signature = made
        return {"receipt": data.decode("utf-8"), "signature": signature.decode("ascii")}

    # -- receiving --

    def begin(self, device: Device, bundle_id: str, offset: int, size: int, sha256: str) -> Upload:
        if not proto.SHA256.fullmatch(sha256):
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_MISMATCH,
                bundle=bundle_id,
                reason=TranslatableText(N_("the announced SHA-256 is malformed")),
            )
        if size > self.limits.max_bundle_bytes:
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_TOO_LARGE,
                bundle=bundle_id,
                size=size,
                limit=self.limits.max_bundle_bytes,
            )
        if size <= 0:
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_MISMATCH,
                bundle=bundle_id,
                reason=TranslatableText(N_("the announced size is not positive")),
            )
        with self._lock:
            if bundle_id in self._busy:
                raise FieldkitError(ErrorCode.SYNC_UPLOAD_BUSY, bundle=bundle_id)
            self._busy.add(bundle_id)
        try:
            return self._begin(device, bundle_id, offset, size, sha256)
        except BaseException:
            self._release(bundle_id)
            raise

    def _begin(self, device: Device, bundle_id: str, offset: int, size: int, sha: str) -> Upload:
        state = self._state(bundle_id)
        if state is not None and state.device_id != device.device_id:
            raise _not_yours(bundle_id)
        if state is not None and (state.size != size or state.sha256 != sha):
            # another file under the same id (the device exported again): start afresh
            self._drop(bundle_id)
            state = None
        received = state.received if state is not None else 0
        if offset != received:
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_MISMATCH,
                bundle=bundle_id,
                reason=TranslatableText(N_("the upload does not go on where the server stopped")),
                received=received,
            )
        if state is None:
            partials = [p for p in self.folder.glob("*.json") if self._owner(p) == device.device_id]
            if len(partials) >= self.limits.max_partial_uploads:
                for old in sorted(partials, key=lambda p: p.stat().st_mtime)[
                    : len(partials) - self.limits.max_partial_uploads + 1
                ]:
                    self._drop(old.stem)
            part, meta = self._paths(bundle_id)
            atomic_write_bytes(
                meta,
                json.dumps({"device_id": device.device_id, "size": size, "sha256": sha}).encode(),
            )
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
            os.close(fd)
        return Upload(self, device, bundle_id, size, sha, received)

    def _owner(self, meta: Path) -> str | None:
        try:
            return str(json.loads(meta.read_bytes())["device_id"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _release(self, bundle_id: str) -> None:
        with self._lock:
            self._busy.discard(bundle_id)

    def verify_head(self, source: _UploadSource, device: Device) -> None:
        """Check the signed head of an upload as it arrives, as the import would, without
        writing to the database (used while another import holds it)."""
        with self.vault.session() as s:
            identities = trust.org_identities(s)

            def find_signer(key_id: str) -> Signer | None:
                signer = trust.signer_for_key(s, key_id)
                if signer is not None and signer.device_id != device.device_id:
                    raise FieldkitError(ErrorCode.BUNDLE_DEVICE_MISMATCH, path=source.upload.shown)
                return signer

            try:
                read_bundle_stream(
                    source,  # type: ignore[arg-type]
                    source.upload.size,
                    source.upload.shown,
                    identities=identities,
                    find_signer=find_signer,
                    visitor=_HeadOnly(source),  # type: ignore[arg-type]
                )
            except _HeadVerified:
                return
        raise AssertionError("a bundle without a signed head was read")  # pragma: no cover


class _HeadVerified(Exception):
    pass


class _HeadOnly:
    """A visitor that stops at the verified signed head (opening the part to the rest)."""

    def __init__(self, source: _UploadSource) -> None:
        self.source = source

    def on_signed(self, signer: Signer, manifest: Manifest, bundle_hash: str) -> None:
        self.source.open_gate()
        raise _HeadVerified()


def _not_yours(bundle_id: str) -> FieldkitError:
    return FieldkitError(
        ErrorCode.SYNC_UPLOAD_MISMATCH,
        bundle=bundle_id,
        reason=TranslatableText(N_("this bundle id belongs to another device")),
    )


class _WaitedTooLong(Exception):
    """The whole upload is kept, but another import held the database past the wait."""


def _sha_mismatch(bundle_id: str) -> FieldkitError:
    return FieldkitError(
        ErrorCode.SYNC_UPLOAD_MISMATCH,
        bundle=bundle_id,
        reason=TranslatableText(N_("the file's SHA-256 is not the announced one")),
    )


class _UploadSource:
    """The bundle file as the importer reads it: the kept part first, then the network.

    Bytes from the network are held in memory until the signed head verified (``open_gate``);
    then they and everything after go to the kept part as they pass through."""

    def __init__(
        self,
        upload: Upload,
        pull: Callable[[], bytes | None],
        kept: int | None = None,
    ) -> None:
        self.upload = upload
        self.pull = pull
        part, _meta = upload.inbox._paths(upload.bundle_id)
        # the part grows as this runs: read only what it held before (``kept`` bytes)
        kept = upload.resumed_from if kept is None else kept
        self.kept = part.open("rb")
        self.kept_left = kept
        self.out = part.open("ab")
        self.digest = hashlib.sha256()
        self.buffer = bytearray()
        self.held = bytearray()  # network bytes not yet written (before the head verified)
        self.gate_open = kept > 0
        self.received = kept
        self.ended = False

    def open_gate(self) -> None:
        if not self.gate_open:
            self.gate_open = True
            self.out.write(self.held)
            self.held.clear()

    def _fill(self) -> bool:
        block = self.kept.read(min(1024 * 1024, self.kept_left)) if self.kept_left else b""
        if block:
            self.kept_left -= len(block)
            self.digest.update(block)
            self.buffer += block
            return True
        if self.ended:
            return False
        chunk = self.pull()
        if chunk is None:
            self.ended = True
            if self.received != self.upload.size:
                raise ClientGone()
            return False
        self.received += len(chunk)
        if self.received > self.upload.size:
            raise FieldkitError(
                ErrorCode.SYNC_UPLOAD_MISMATCH,
                bundle=self.upload.bundle_id,
                reason=TranslatableText(N_("more bytes arrived than were announced")),
            )
        self.digest.update(chunk)
        self.buffer += chunk
        if self.gate_open:
            self.out.write(chunk)
        else:
            self.held += chunk
            if len(self.held) > HEAD_BYTES:
                raise FieldkitError(
                    ErrorCode.BUNDLE_TOO_LARGE,
                    path=self.upload.shown,
                    reason=TranslatableText(N_("the signed head is too large")),
                )
        return True

    def read(self, n: int = -1) -> bytes:
        want = n if n >= 0 else 1 << 62
        while len(self.buffer) < want and self._fill():
            pass
        out = bytes(self.buffer[:want])
        del self.buffer[:want]
        return out

    def spool(self) -> None:
        """Write the rest of the upload to the part, keeping none of it in memory."""
        self.buffer.clear()
        while self._fill():
            self.buffer.clear()

    def drain(self) -> None:
        """Read to the end of the upload (the importer stops at the end of the age stream)."""
        while self._fill():
            if self.buffer:
                raise FieldkitError(
                    ErrorCode.BUNDLE_LAYOUT,
                    path=self.upload.shown,
                    reason=TranslatableText(N_("data follows the end of the bundle")),
                )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.out.flush()
            os.fsync(self.out.fileno())
        self.out.close()
        self.kept.close()


class Upload:
    """One attempt at receiving one bundle; :meth:`run` imports as the bytes arrive."""

    def __init__(
        self, inbox: Inbox, device: Device, bundle_id: str, size: int, sha256: str, offset: int
    ) -> None:
        self.inbox = inbox
        self.device = device
        self.bundle_id = bundle_id
        self.size = size
        self.sha256 = sha256
        self.resumed_from = offset
        self.shown = f"bundle {bundle_id}"

    def run(self, pull: Callable[[], bytes | None]) -> UploadResult:
        """Import while ``pull`` hands over the request body (None at its end).

        Raises :class:`ClientGone` when the sender stops early (what arrived is kept) and
        FieldkitError when the bundle is refused (nothing is kept)."""
        inbox = self.inbox
        try:
            report = self._receive(pull)
        except ClientGone:
            inbox._release(self.bundle_id)
            raise
        except _WaitedTooLong:
            inbox._release(self.bundle_id)
            raise FieldkitError(ErrorCode.SYNC_SERVER_BUSY, seconds=RETRY_BUSY_SECONDS) from None
        except BaseException:
            inbox._drop(self.bundle_id)
            inbox._release(self.bundle_id)
            raise
        inbox._drop(self.bundle_id)
        inbox._release(self.bundle_id)
        return UploadResult(report, inbox.receipt(self.device), self.resumed_from)

    def _receive(self, pull: Callable[[], bytes | None]) -> BundleReport:
        lock = self.inbox._import_lock
        if lock.acquire(blocking=False):
            # the usual case: import as the bytes stream in
            try:
                source = _UploadSource(self, pull)
                try:
                    return self._import(source)
                finally:
                    source.close()
            finally:
                lock.release()
        # Another device's import holds the database: verify the head as it arrives, keep the
        # rest in the part, then import from the part once that import is done.
        source = _UploadSource(self, pull)
        try:
            self.inbox.verify_head(source, self.device)
            source.spool()
            if source.digest.hexdigest() != self.sha256:
                raise _sha_mismatch(self.bundle_id)
        finally:
            source.close()
        if not lock.acquire(timeout=self.inbox.limits.import_wait):
            raise _WaitedTooLong()
        try:
            source = _UploadSource(self, lambda: None, kept=self.size)
            try:
                return self._import(source)
            finally:
                source.close()
        finally:
            lock.release()

    def _import(self, source: _UploadSource) -> BundleReport:
        device = self.device

        def check_signer(signer: Signer) -> None:
            if signer.device_id != device.device_id:
                raise FieldkitError(ErrorCode.BUNDLE_DEVICE_MISMATCH, path=self.shown)

        def on_head() -> None:
            source.open_gate()

        def before_commit() -> None:
            source.drain()
            if source.digest.hexdigest() != self.sha256:
                raise _sha_mismatch(self.bundle_id)

        return bundle_service.import_stream(
            self.inbox.vault,
            source,  # type: ignore[arg-type]
            self.size,
            self.shown,
            check_signer=check_signer,
            on_head=on_head,
            before_commit=before_commit,
        )

"""The monitor's side of sync: deliver every unacknowledged bundle, bring back the receipt.

``sync`` exports into the profile's ``outbox/`` (bundles are age-encrypted to the organisation,
so they may rest there), pushes each bundle the organisation has not acknowledged to the address
in the organisation card over HTTPS with the card's certificate pinned, continues an upload
where the server stopped, and applies the receipt the server answers with. Bundles carried on a
stick keep working as before: a bundle the organisation already has (by either way) is not sent
again, and the server imports a bundle id once. Qt-free; progress callback and cancel token as
every slow service (docs/developing.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.services import bundles as bundle_service
from fieldkit.services import sync_protocol as proto
from fieldkit.services import trust
from fieldkit.services.bundles import ReceiptResult
from fieldkit.services.roles import require_role
from fieldkit.services.sync_tls import pinned_client_context
from fieldkit.storage.fsutil import make_private_dir
from fieldkit.storage.tables.bundles import ExportedBundle
from fieldkit.storage.vault import Vault

OUTBOX = "outbox"
UPLOAD_CHUNK = 256 * 1024
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_ATTEMPTS = 4  # per bundle: a dropped connection or a busy server is tried again
MAX_WAIT_SECONDS = 60


@dataclass
class PushResult:
    bundle_id: str
    seq: int
    status: str  # imported | already_imported | flagged
    resumed_from: int = 0
    sent_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SyncResult:
    url: str
    pushed: list[PushResult] = field(default_factory=list)
    exported: str | None = None  # the bundle id written for this sync, if any
    receipt: ReceiptResult | None = None
    card_updated: bool = False
    removed_from_outbox: int = 0

    def summary_lines(self) -> list[str]:
        """What the sync did, in the interface language: one line a bundle, then the receipt."""
        _ = i18n._
        lines = []
        if self.card_updated:
            lines.append(_("Took a newer organisation card from the server."))
        for pushed in self.pushed:
            if pushed.status == "already_imported":
                lines.append(
                    _("Bundle {seq}: the organisation already had it.").format(seq=pushed.seq)
                )
            elif pushed.resumed_from:
                lines.append(
                    _("Bundle {seq}: delivered (continued from byte {offset}).").format(
                        seq=pushed.seq, offset=pushed.resumed_from
                    )
                )
            else:
                lines.append(_("Bundle {seq}: delivered.").format(seq=pushed.seq))
        if not self.pushed:
            lines.append(_("Nothing to send: the organisation has everything."))
        if self.receipt is not None:
            lines.append(_("Receipt applied."))
            lines.extend(bundle_service.receipt_summary(self.receipt))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "pushed": [p.to_dict() for p in self.pushed],
            "exported": self.exported,
            "acknowledged_through": self.receipt.acknowledged_through if self.receipt else None,
            "acknowledged_bundles": self.receipt.bundles if self.receipt else [],
            "card_updated": self.card_updated,
            "removed_from_outbox": self.removed_from_outbox,
        }


def outbox_dir(vault: Vault) -> Path:
    return vault.path / OUTBOX


@dataclass(frozen=True)
class _Waiting:
    bundle_id: str
    seq: int
    path: Path


def _waiting(vault: Vault) -> list[_Waiting]:
    """Bundles in the outbox that the organisation has not acknowledged, oldest first."""
    folder = outbox_dir(vault)
    with vault.session() as s:
        rows = s.execute(
            select(ExportedBundle)
            .where(ExportedBundle.acknowledged.is_(False))
            .order_by(ExportedBundle.seq)
        ).scalars()
        found = [_Waiting(r.bundle_id, r.seq, folder / r.file_name) for r in rows]
    return [w for w in found if w.path.is_file()]


def _tidy_outbox(vault: Vault) -> int:
    """Delete outbox bundles the organisation acknowledged."""
    folder = outbox_dir(vault)
    removed = 0
    with vault.session() as s:
        names = s.execute(
            select(ExportedBundle.file_name).where(ExportedBundle.acknowledged.is_(True))
        ).scalars()
        for name in names:
            path = folder / name
            if path.is_file():
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
    return removed


class _Client:
    """One pinned HTTPS connection to the organisation's server, device-signed requests."""

    def __init__(
        self, vault: Vault, endpoint: trust.SyncEndpoint, proxy: str | None, timeout: float
    ) -> None:
        self.vault = vault
        self.endpoint = endpoint
        self.url = endpoint.url
        self.key = vault.device_signing_key()
        self.key_id = trust.device_public_key(vault).id_hex
        self.http = httpx.Client(
            base_url=endpoint.url,
            verify=pinned_client_context(endpoint.certificate),
            proxy=proxy,
            trust_env=False,  # only the proxy given here; never one from the environment
            follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 60.0)),
        )
        self.challenge: str | None = None

    def close(self) -> None:
        self.http.close()

    # -- transport and answers --

    def _transport_error(self, exc: Exception) -> FieldkitError:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return FieldkitError(ErrorCode.SYNC_CERTIFICATE_MISMATCH, url=self.url)
            cause = cause.__cause__ or cause.__context__
        reason = TranslatableText(N_("the connection failed"))
        if isinstance(exc, httpx.TimeoutException):
            reason = TranslatableText(N_("no answer in time"))
        elif isinstance(exc, httpx.ProxyError):
            reason = TranslatableText(N_("the proxy refused the connection"))
        elif isinstance(exc, httpx.ConnectError):
            reason = TranslatableText(N_("no connection could be made"))
        elif isinstance(exc, httpx.RemoteProtocolError) and "disconnected" not in str(exc):
            # an answer that is not HTTP at all
            return self._bad(N_("the answer is not HTTP"))
        elif isinstance(exc, httpx.RemoteProtocolError | httpx.WriteError | httpx.ReadError):
            reason = TranslatableText(N_("the connection was closed"))
        return FieldkitError(ErrorCode.SYNC_CONNECT_FAILED, url=self.url, reason=reason)

    def _bad(self, reason: str) -> FieldkitError:
        return FieldkitError(
            ErrorCode.SYNC_BAD_RESPONSE, url=self.url, reason=TranslatableText(reason)
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise self._bad(N_("the answer is too large"))
        if not response.headers.get("content-type", "").startswith(proto.JSON_TYPE):
            raise self._bad(N_("the answer is not JSON"))
        try:
            doc = json.loads(response.content)
        except ValueError:
            raise self._bad(N_("the answer is not JSON")) from None
        if not isinstance(doc, dict):
            raise self._bad(N_("unexpected answer"))
        return doc

    def _server_error(self, response: httpx.Response, bundle_id: str | None) -> FieldkitError:
        """The server's refusal, in this program's language (from its code and parameters)."""
        doc = self._json(response)
        error = doc.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            raise self._bad(N_("unexpected answer"))
        params = error.get("params") if isinstance(error.get("params"), dict) else {}
        assert isinstance(params, dict)
        safe = {str(k)[:40]: TranslatableText(str(v)[:300]) for k, v in params.items()}
        try:
            code = ErrorCode(error["code"])
        except ValueError:
            message = str(error.get("message", error["code"]))[:300]
            return FieldkitError(ErrorCode.SYNC_REFUSED, bundle=bundle_id or "-", reason=message)
        if code.value.startswith("sync_"):
            if code == ErrorCode.SYNC_RATE_LIMITED or code == ErrorCode.SYNC_SERVER_BUSY:
                safe["seconds"] = TranslatableText(response.headers.get("retry-after", "5")[:4])
            return FieldkitError(code, **safe)
        inner = FieldkitError(code, **safe)
        return FieldkitError(
            ErrorCode.SYNC_REFUSED,
            bundle=bundle_id or "-",
            reason=inner.message(i18n.current()),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        signed: bool = True,
        bundle_id: str | None = None,
        headers: dict[str, str] | None = None,
        content: Iterator[bytes] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if signed:
            if self.challenge is None:
                self.challenge = self._new_challenge()
            all_headers["Authorization"] = proto.authorization(
                self.key,
                self.key_id,
                method,
                path,
                self.challenge,
                self.endpoint.certificate_sha256,
            )
        try:
            response = self.http.request(method, path, headers=all_headers, content=content)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            error = self._server_error(response, bundle_id)
            if signed and error.code == ErrorCode.SYNC_AUTH_FAILED and self.challenge:
                # the challenge may have expired on a long sync: one fresh try
                self.challenge = None
            raise error
        return response

    def _new_challenge(self) -> str:
        doc = self._json(self.request("GET", proto.CHALLENGE_PATH, signed=False))
        value = doc.get("challenge")
        if doc.get("protocol") != proto.PROTOCOL or not isinstance(value, str):
            raise self._bad(N_("unexpected answer"))
        if not proto.CHALLENGE.fullmatch(value):
            raise self._bad(N_("unexpected answer"))
        return value

    # -- the protocol --

    def card(self) -> bytes | None:
        """The server's current card, or None when it has none to give."""
        try:
            response = self.request("GET", proto.CARD_PATH)
        except FieldkitError as exc:
            if exc.code == ErrorCode.SYNC_REFUSED and "card" in str(exc.params):
                return None  # 404: no card written with a sync address yet
            raise
        if not response.headers.get("content-type", "").startswith(proto.JSON_TYPE):
            raise self._bad(N_("the answer is not JSON"))
        return response.content[: trust.MAX_CARD_BYTES + 1]

    def status(self, bundle_id: str, size: int, sha: str) -> dict[str, Any]:
        doc = self._json(
            self.request(
                "GET",
                proto.BUNDLE_PATH.format(bundle_id=bundle_id),
                bundle_id=bundle_id,
                headers={proto.SIZE_HEADER: str(size), proto.SHA256_HEADER: sha},
            )
        )
        state = doc.get("state")
        received = doc.get("received", 0)
        if state not in ("imported", "partial", "absent") or not isinstance(received, int):
            raise self._bad(N_("unexpected answer"))
        if not 0 <= received <= size:
            raise self._bad(N_("the server says it holds more than the bundle"))
        return doc

    def put(
        self, bundle_id: str, size: int, sha: str, offset: int, body: Iterator[bytes]
    ) -> dict[str, Any]:
        path = proto.BUNDLE_PATH.format(bundle_id=bundle_id) + f"?offset={offset}"
        doc = self._json(
            self.request(
                "PUT",
                path,
                bundle_id=bundle_id,
                headers={
                    proto.SIZE_HEADER: str(size),
                    proto.SHA256_HEADER: sha,
                    "Content-Type": proto.BUNDLE_TYPE,
                    "Content-Length": str(size - offset),
                },
                content=body,
            )
        )
        if doc.get("state") != "imported" or not isinstance(doc.get("status"), str):
            raise self._bad(N_("unexpected answer"))
        return doc

    def receipt(self) -> tuple[bytes, bytes] | None:
        try:
            doc = self._json(self.request("GET", proto.RECEIPT_PATH))
        except FieldkitError as exc:
            if exc.code == ErrorCode.SYNC_REFUSED and "receipt" in str(exc.params):
                return None
            raise
        data, signature = doc.get("receipt"), doc.get("signature")
        if not isinstance(data, str) or not isinstance(signature, str):
            raise self._bad(N_("unexpected answer"))
        return data.encode("utf-8"), signature.encode("ascii", "replace")


def _file_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _body(
    path: Path,
    offset: int,
    sent: list[int],
    progress: ProgressFn | None,
    total: int,
    cancel: CancelToken | None,
) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(offset)
        while True:
            check_cancel(cancel)
            block = fh.read(UPLOAD_CHUNK)
            if not block:
                return
            sent[0] += len(block)
            yield block
            if progress is not None:
                progress(offset + sent[0], total, "upload")


def _push(
    client: _Client,
    waiting: _Waiting,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> PushResult:
    size, sha = _file_sha256(waiting.path)
    result = PushResult(waiting.bundle_id, waiting.seq, "imported")
    for attempt in range(MAX_ATTEMPTS):
        check_cancel(cancel)
        client.challenge = None  # a fresh one for each attempt: a long upload outlives one
        try:
            state = client.status(waiting.bundle_id, size, sha)
            if state["state"] == "imported":
                result.status = "already_imported"
                return result
            offset = int(state["received"]) if state["state"] == "partial" else 0
            if attempt == 0 or offset:
                result.resumed_from = offset
            sent = [0]
            try:
                doc = client.put(
                    waiting.bundle_id,
                    size,
                    sha,
                    offset,
                    _body(waiting.path, offset, sent, progress, size, cancel),
                )
            finally:
                result.sent_bytes += sent[0]
            result.status = str(doc["status"])[:20]
            return result
        except FieldkitError as exc:
            retry_in = _retry_delay(exc, attempt)
            if retry_in is None:
                raise
            if cancel is not None and cancel.wait(retry_in):
                check_cancel(cancel)
            elif cancel is None:
                time.sleep(retry_in)
    raise FieldkitError(
        ErrorCode.SYNC_CONNECT_FAILED,
        url=client.url,
        reason=TranslatableText(N_("it kept failing; what arrived is kept for the next sync")),
    )


def _retry_delay(exc: FieldkitError, attempt: int) -> float | None:
    """Seconds to wait before trying the same bundle again, or None to give up now."""
    if attempt + 1 >= MAX_ATTEMPTS:
        return None
    if exc.code in (ErrorCode.SYNC_SERVER_BUSY, ErrorCode.SYNC_RATE_LIMITED):
        try:
            return min(float(str(exc.params.get("seconds", "5"))), MAX_WAIT_SECONDS)
        except ValueError:
            return 5.0
    if exc.code == ErrorCode.SYNC_UPLOAD_BUSY:
        return 5.0
    if exc.code == ErrorCode.SYNC_CONNECT_FAILED:
        return min(2.0 * (attempt + 1), 10.0)  # a dropped connection: resume where it stopped
    if exc.code == ErrorCode.SYNC_UPLOAD_MISMATCH:
        return 0.0  # ask again where the server stands
    return None


def sync(
    vault: Vault,
    *,
    proxy: str | None = None,
    timeout: float = 120.0,
    export: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SyncResult:
    """Deliver every unacknowledged bundle to the organisation's server; apply its receipt.

    ``proxy``: e.g. ``socks5://127.0.0.1:9050`` for Tor. ``export``: write a bundle of what is
    new first (off: only deliver what the outbox holds)."""
    require_role(vault, Role.MONITOR)
    card = trust.enrolled_card(vault)
    if card.sync is None:
        raise FieldkitError(ErrorCode.SYNC_NOT_CONFIGURED)
    make_private_dir(outbox_dir(vault))
    result = SyncResult(url=card.sync.url)
    client = _Client(vault, card.sync, proxy, timeout)
    try:
        newer = client.card()
        if newer is not None:
            with contextlib.suppress(FieldkitError):
                result.card_updated = trust.take_newer_card(vault, newer, "org.pub")
        waiting = _waiting(vault)
        if export and not waiting:
            check_cancel(cancel)
            try:
                exported = bundle_service.export_bundle(vault, outbox_dir(vault), cancel=cancel)
            except FieldkitError as exc:
                if exc.code != ErrorCode.NOTHING_TO_EXPORT:
                    raise
            else:
                result.exported = exported.bundle_id
                waiting = _waiting(vault)
        for item in waiting:
            result.pushed.append(_push(client, item, progress, cancel))
        check_cancel(cancel)
        got = client.receipt()
        if got is not None:
            data, signature = got
            result.receipt = bundle_service.apply_receipt_data(
                vault, data, signature, f"{card.sync.url}{proto.RECEIPT_PATH}"
            )
        result.removed_from_outbox = _tidy_outbox(vault)
    finally:
        client.close()
    return result


def outbox_size(vault: Vault) -> int:
    """How many bundles wait in the outbox (for the desktop program's status)."""
    return len(_waiting(vault))

"""Receipts (the organisation acknowledges what it imported from a device) and the purge of
acknowledged originals on the monitor."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from fieldkit.crypto.canonical_json import StrictJSONError, canonical_dumps, strict_loads
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
    MinisignSignature,
    sign,
    verify,
)
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import ItemState
from fieldkit.domain.oserrors import NOT_REGULAR_FILE as NOT_REGULAR
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import display_name, open_regular_file
from fieldkit.services import trust
from fieldkit.services.roles import require_role
from fieldkit.storage.audit import utc_now
from fieldkit.storage.fsutil import atomic_write_bytes
from fieldkit.storage.tables.bundles import (
    ExportedBundle,
    ExportState,
    ImportedBundle,
)
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordVersionRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    pass
from fieldkit.services.bundles.common import (
    MAX_RECEIPT_BYTES,
    RECEIPT_FORMAT,
    PurgeResult,
    ReceiptResult,
)

# --- receipts ------------------------------------------------------------------------------------


def acknowledged_through(bundles: Iterable[ImportedBundle]) -> int:
    """The highest change number covered without a hole by the bundles imported so far."""
    mark = 0
    for row in sorted(bundles, key=lambda b: (b.change_from, b.change_through)):
        if row.change_from <= mark:
            mark = max(mark, row.change_through)
    return mark


def receipt_name(device_id: str, seq: int) -> str:
    return f"receipt-{device_id[:8]}-{seq}.json"


def device_receipt(vault: Vault, device_id: str) -> tuple[bytes, bytes] | None:
    """A receipt signed by the organisation for everything imported from ``device_id``: the
    canonical JSON and its minisign signature file; None when nothing was imported from it."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        key = trust.org_signing_key(s)
        org = trust.org_info(vault)
        rows = list(
            s.execute(
                select(ImportedBundle)
                .where(ImportedBundle.device_id == device_id)
                .order_by(ImportedBundle.seq)
            ).scalars()
        )
    if not rows:
        return None
    receipt_id = str(uuid.uuid4())
    mark = acknowledged_through(rows)
    body = {
        "format": RECEIPT_FORMAT,
        "receipt_id": receipt_id,
        "org_id": org.org_id,
        "org_key_id": org.key_id,
        "device_id": device_id,
        "issued_at": utc_now(),
        "acknowledged_through": mark,
        "bundles": [
            {"bundle_id": r.bundle_id, "seq": r.seq, "sha256": r.bundle_hash} for r in rows
        ],
    }
    data = canonical_dumps(body)
    signature = sign(
        key,
        data,
        trusted_comment=f"{RECEIPT_FORMAT} receipt={receipt_id} device={device_id} through={mark}",
        untrusted_comment="fieldkit receipt signed by the organisation key",
    )
    return data, signature.file_bytes()


def write_device_receipt(vault: Vault, device_id: str, out_dir: Path) -> Path:
    """A receipt signed by the organisation for everything imported from ``device_id``."""
    made = device_receipt(vault, device_id)
    if made is None:
        raise FieldkitError(ErrorCode.TRUST_UNKNOWN_DEVICE, device=device_id)
    data, signature = made
    last_seq = strict_loads(data, max_bytes=MAX_RECEIPT_BYTES, max_depth=8)["bundles"][-1]["seq"]
    out = Path(out_dir) / receipt_name(device_id, int(last_seq))
    try:
        atomic_write_bytes(out, data)
        atomic_write_bytes(out.with_name(out.name + ".minisig"), signature)
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(out), reason=os_reason(exc)
        ) from None
    return out


def _read_limited(path: Path, limit: int, *, shown: str | None = None) -> bytes:
    try:
        with open_regular_file(str(path)) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        reason = (
            TranslatableText(NOT_REGULAR) if isinstance(exc, IsADirectoryError) else os_reason(exc)
        )
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=shown or str(path), reason=reason
        ) from None
    if len(data) > limit:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown or display_name(str(path), 200))
    return data


def _t(text: str) -> TranslatableText:
    return TranslatableText(text)


def apply_receipt(vault: Vault, path: Path) -> ReceiptResult:
    """Monitor: check a receipt against the organisation key and mark what it acknowledges."""
    require_role(vault, Role.MONITOR)
    path = Path(path)
    if path.name.endswith(".json.minisig"):
        path = path.with_name(path.name[: -len(".minisig")])  # the signature file was given
    shown = display_name(str(path), 200)
    data = _read_limited(path, MAX_RECEIPT_BYTES, shown=shown)
    _receipt_doc(data, shown)  # what the file is comes before its signature
    sig_path = path.with_name(path.name + ".minisig")
    try:
        sig_bytes = _read_limited(sig_path, 4096)
    except FieldkitError:
        raise FieldkitError(
            ErrorCode.RECEIPT_INVALID,
            path=shown,
            reason=_t(
                N_("its signature file (the same name ending in .minisig) is missing or unreadable")
            ),
        ) from None
    return apply_receipt_data(vault, data, sig_bytes, shown)


def _receipt_doc(data: bytes, shown: str) -> dict[str, Any]:
    # What the file is comes first (bounded, strict parse): another file given by mistake, such
    # as the organisation card, is "not a receipt", not a missing signature.
    try:
        doc = strict_loads(data, max_bytes=MAX_RECEIPT_BYTES, max_depth=8, allow_floats=False)
    except StrictJSONError:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown) from None
    if not isinstance(doc, dict) or doc.get("format") != RECEIPT_FORMAT:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown)
    return doc


def apply_receipt_data(vault: Vault, data: bytes, sig_bytes: bytes, shown: str) -> ReceiptResult:
    """:func:`apply_receipt` on a receipt and its signature in memory (as sync fetches them)."""
    require_role(vault, Role.MONITOR)

    def bad(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.RECEIPT_INVALID, path=shown, reason=_t(reason))

    if len(data) > MAX_RECEIPT_BYTES:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown)
    doc = _receipt_doc(data, shown)
    with vault.session() as s:
        org_key: MinisignPublicKey = trust.enrolment(s).signing_key
    try:
        signature = MinisignSignature.parse(sig_bytes)
    except MinisignError:
        raise bad(N_("its signature file is malformed")) from None
    try:
        verify(org_key, signature, data)
    except MinisignError:
        raise FieldkitError(ErrorCode.RECEIPT_SIGNATURE_INVALID, path=shown) from None
    expected = {
        "format",
        "receipt_id",
        "org_id",
        "org_key_id",
        "device_id",
        "issued_at",
        "acknowledged_through",
        "bundles",
    }
    if set(doc) != expected:
        raise bad(N_("unexpected fields"))
    if doc["device_id"] != vault.device_id:
        raise bad(N_("it is for another device"))
    mark = doc["acknowledged_through"]
    bundles = doc["bundles"]
    if not isinstance(mark, int) or isinstance(mark, bool) or mark < 0:
        raise bad(N_("acknowledged_through is malformed"))
    if not isinstance(bundles, list):
        raise bad(N_("bundles is malformed"))
    with vault.session() as s:
        exported = {b.bundle_id: b for b in s.execute(select(ExportedBundle)).scalars()}
        acknowledged: list[ExportedBundle] = []
        for item in bundles:
            if not isinstance(item, Mapping) or set(item) != {"bundle_id", "seq", "sha256"}:
                raise bad(N_("a bundle entry is malformed"))
            row = exported.get(str(item["bundle_id"]))
            if row is None or row.seq != item["seq"] or row.bundle_hash != item["sha256"]:
                raise bad(N_("it names a bundle this device did not write"))
            acknowledged.append(row)
        covered = max((b.change_through for b in acknowledged), default=0)
        if mark > covered:
            raise bad(N_("it acknowledges changes that were never exported"))
        state = s.get(ExportState, 1)
        assert state is not None
        for row in acknowledged:
            row.acknowledged = True
        if mark > state.acknowledged_through:
            state.acknowledged_through = mark
            audit_marks = [b.audit_through for b in acknowledged if b.change_through <= mark]
            if audit_marks:
                state.audit_acknowledged_through = max(
                    state.audit_acknowledged_through, max(audit_marks)
                )
        state.last_receipt_id = str(doc["receipt_id"])[:36]
        held = state.acknowledged_through
        return ReceiptResult(
            receipt_id=str(doc["receipt_id"]),
            acknowledged_through=held,
            bundles=sorted(b.seq for b in acknowledged),
            records_held=_count(
                s,
                select(func.count(func.distinct(RecordVersionRow.record_id))).where(
                    RecordVersionRow.change_seq <= held
                ),
            ),
            evidence_held=_count(s, select(func.count()).where(EvidenceItemRow.change_seq <= held)),
            erasable=_count(
                s,
                select(func.count()).where(
                    EvidenceItemRow.change_seq <= held,
                    EvidenceItemRow.state == ItemState.STORED.value,
                ),
            ),
        )


def _count(s: Any, query: Any) -> int:
    return int(s.execute(query).scalar_one())


# --- purge (monitor) -----------------------------------------------------------------------------


def purge_acknowledged(vault: Vault) -> PurgeResult:
    """Crypto-erase evidence originals the organisation acknowledged; metadata and custody stay."""
    require_role(vault, Role.MONITOR)
    from fieldkit.domain.evidence import ItemState
    from fieldkit.services.evidence import EvidenceService

    with vault.session() as s:
        state = s.get(ExportState, 1)
        assert state is not None
        mark = state.acknowledged_through
        ids = list(
            s.execute(
                select(EvidenceItemRow.id).where(
                    EvidenceItemRow.state == ItemState.STORED.value,
                    EvidenceItemRow.change_seq <= mark,
                )
            ).scalars()
        )
    service = EvidenceService(vault)
    purged = []
    for item_id in ids:
        service.purge(item_id, reason="purged after acknowledgement")
        purged.append(item_id)
    return PurgeResult(purged=purged, acknowledged_through=mark)

"""The chain of custody: an append-only, hash-chained log of events per evidence item.

Each device keeps one chain per item: events ``seq`` 1, 2, 3... where each event's ``prev_hash`` is
the ``event_hash`` of the one before (``GENESIS_HASH`` for the first) and ``event_hash`` is the
SHA-256 of the event's canonical JSON ``body`` (which holds ``prev_hash``). Altering an event
changes its hash; removing or reordering one breaks the link of the next. Triggers refuse UPDATE
and DELETE on the table; :meth:`CustodyLog.verify` recomputes everything because someone holding
the key could drop them. Events received from another device keep that device's chain and hashes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import CustodyAction, CustodyEvent
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.tables.evidence import CustodyEventRow

GENESIS_HASH = "0" * 64
BODY_VERSION = 1
_BODY_KEYS = frozenset(
    {
        "v",
        "id",
        "item_id",
        "device_id",
        "seq",
        "action",
        "at",
        "actor",
        "purpose",
        "hash_before",
        "hash_after",
        "details",
        "prev_hash",
    }
)
MAX_BODY_BYTES = 64 * 1024


def utc_now() -> str:
    """The current UTC time, ISO 8601 with microseconds and a trailing Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class CustodyProblem:
    item_id: str
    device_id: str
    seq: int
    reason: str


def _hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _event_from_row(row: CustodyEventRow) -> CustodyEvent:
    body = json.loads(row.body)
    return CustodyEvent(
        id=body["id"],
        item_id=body["item_id"],
        device_id=body["device_id"],
        seq=body["seq"],
        action=CustodyAction(body["action"]),
        at=body["at"],
        actor=body["actor"],
        purpose=body.get("purpose"),
        hash_before=body.get("hash_before"),
        hash_after=body.get("hash_after"),
        details=body.get("details") or {},
        prev_hash=body["prev_hash"],
        event_hash=row.event_hash,
        change_seq=row.change_seq,
    )


def event_doc(event: CustodyEvent) -> dict[str, Any]:
    """The exchange form of an event (its hashed body plus ``event_hash``) for bundles."""
    body = _body_dict(event)
    return {**body, "event_hash": event.event_hash}


def _body_dict(event: CustodyEvent) -> dict[str, Any]:
    return {
        "v": BODY_VERSION,
        "id": event.id,
        "item_id": event.item_id,
        "device_id": event.device_id,
        "seq": event.seq,
        "action": event.action.value,
        "at": event.at,
        "actor": event.actor,
        "purpose": event.purpose,
        "hash_before": event.hash_before,
        "hash_after": event.hash_after,
        "details": dict(event.details),
        "prev_hash": event.prev_hash,
    }


class CustodyLog:
    """Custody events; every method works inside the caller's session (transaction)."""

    @staticmethod
    def head(session: Session, item_id: str, device_id: str) -> tuple[int, str]:
        row = session.execute(
            select(CustodyEventRow.seq, CustodyEventRow.event_hash)
            .where(CustodyEventRow.item_id == item_id, CustodyEventRow.device_id == device_id)
            .order_by(CustodyEventRow.seq.desc())
            .limit(1)
        ).first()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    @staticmethod
    def append(
        session: Session,
        item_id: str,
        action: CustodyAction,
        *,
        device_id: str,
        actor: str,
        purpose: str | None = None,
        hash_before: str | None = None,
        hash_after: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: str | None = None,
    ) -> CustodyEvent:
        """Append one event after this device's newest event for the item; returns it."""
        seq, prev = CustodyLog.head(session, item_id, device_id)
        body = {
            "v": BODY_VERSION,
            "id": str(uuid.uuid4()),
            "item_id": item_id,
            "device_id": device_id,
            "seq": seq + 1,
            "action": CustodyAction(action).value,
            "at": at or utc_now(),
            "actor": actor,
            "purpose": purpose,
            "hash_before": hash_before,
            "hash_after": hash_after,
            "details": dict(details or {}),
            "prev_hash": prev,
        }
        raw = canonical_dumps(body)
        if len(raw) > MAX_BODY_BYTES:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=TranslatableText(N_("the custody event is too large")),
            )
        row = CustodyEventRow(
            id=body["id"],
            item_id=item_id,
            device_id=device_id,
            seq=body["seq"],
            action=body["action"],
            at=body["at"],
            body=raw,
            prev_hash=prev,
            event_hash=_hash(raw),
            change_seq=next_change_seq(session),
            origin="local",
        )
        session.add(row)
        session.flush()
        return _event_from_row(row)

    @staticmethod
    def events(session: Session, item_id: str) -> list[CustodyEvent]:
        """All events of an item, every device's, in time order (ties by device then seq)."""
        rows = session.execute(
            select(CustodyEventRow)
            .where(CustodyEventRow.item_id == item_id)
            .order_by(CustodyEventRow.at, CustodyEventRow.device_id, CustodyEventRow.seq)
        ).scalars()
        return [_event_from_row(row) for row in rows]

    @staticmethod
    def events_since(
        session: Session, change_seq: int, *, local_only: bool = True
    ) -> Iterator[CustodyEvent]:
        """Events that took a change number above ``change_seq`` (for bundles), oldest first."""
        query = select(CustodyEventRow).where(CustodyEventRow.change_seq > change_seq)
        if local_only:
            query = query.where(CustodyEventRow.origin == "local")
        for row in session.execute(query.order_by(CustodyEventRow.change_seq)).scalars():
            yield _event_from_row(row)

    @staticmethod
    def import_events(
        session: Session,
        docs: Iterable[Mapping[str, Any]],
        *,
        local_device: str | None = None,
        expected_device: str | None = None,
    ) -> int:
        """Store events received from another device (as made by :func:`event_doc`).

        Each event's hash is recomputed from its body; an event already here (same id) must have
        the same hash. Events that claim to come from ``local_device`` (this profile) are refused,
        and with ``expected_device`` (the bundle's verified signer) every event must be that
        device's. Returns the number of new events. Links are checked by :meth:`verify`.
        """
        added = 0
        for doc in docs:
            event_hash = doc.get("event_hash")
            body = {k: v for k, v in doc.items() if k != "event_hash"}
            if set(body) != _BODY_KEYS or body.get("v") != BODY_VERSION:
                raise FieldkitError(
                    ErrorCode.CUSTODY_CHAIN_BROKEN,
                    id=str(doc.get("item_id", "?")),
                    seq=str(doc.get("seq", "?")),
                    reason=TranslatableText(N_("unexpected event fields")),
                )
            device = body.get("device_id")
            if device == local_device or (
                expected_device is not None and device != expected_device
            ):
                raise FieldkitError(
                    ErrorCode.CUSTODY_CHAIN_BROKEN,
                    id=str(body.get("item_id")),
                    seq=str(body.get("seq")),
                    reason=TranslatableText(
                        N_("the event names a device other than the one that sent it")
                    ),
                )
            try:
                CustodyAction(body["action"])
                raw = canonical_dumps(body)
            except (ValueError, TypeError) as exc:
                raise FieldkitError(
                    ErrorCode.CUSTODY_CHAIN_BROKEN,
                    id=str(body.get("item_id")),
                    seq=str(body.get("seq")),
                    reason=TranslatableText(N_("malformed event")),
                ) from exc
            if len(raw) > MAX_BODY_BYTES:
                raise FieldkitError(
                    ErrorCode.CUSTODY_CHAIN_BROKEN,
                    id=str(body.get("item_id"))[:64],
                    seq=str(body.get("seq"))[:20],
                    reason=TranslatableText(N_("the custody event is too large")),
                )
            if _hash(raw) != event_hash:
                raise FieldkitError(
                    ErrorCode.CUSTODY_CHAIN_BROKEN,
                    id=str(body["item_id"]),
                    seq=str(body["seq"]),
                    reason=TranslatableText(N_("the event hash does not match its content")),
                )
            existing = session.get(CustodyEventRow, body["id"])
            if existing is not None:
                if existing.event_hash != event_hash:
                    raise FieldkitError(
                        ErrorCode.CUSTODY_CHAIN_BROKEN,
                        id=str(body["item_id"]),
                        seq=str(body["seq"]),
                        reason=TranslatableText(
                            N_("an event with this id but other content is already here")
                        ),
                    )
                continue
            session.add(
                CustodyEventRow(
                    id=body["id"],
                    item_id=body["item_id"],
                    device_id=body["device_id"],
                    seq=body["seq"],
                    action=body["action"],
                    at=body["at"],
                    body=raw,
                    prev_hash=body["prev_hash"],
                    event_hash=event_hash,
                    change_seq=next_change_seq(session),
                    origin="imported",
                )
            )
            added += 1
        session.flush()
        return added

    @staticmethod
    def verify(
        session: Session, item_id: str | None = None, *, local_device: str | None = None
    ) -> list[CustodyProblem]:
        """Recompute every hash and link; returns the problems found (empty when intact).

        A gap in another device's chain is reported too (a bundle may still be on its way), with
        its own reason so a caller can tell it from tampering.
        """
        query = select(CustodyEventRow)
        if item_id is not None:
            query = query.where(CustodyEventRow.item_id == item_id)
        query = query.order_by(
            CustodyEventRow.item_id, CustodyEventRow.device_id, CustodyEventRow.seq
        )
        problems: list[CustodyProblem] = []
        previous: tuple[str, str, int, str] | None = None
        for row in session.execute(query).scalars():
            problem = _check_row(row)
            if problem is not None:
                problems.append(CustodyProblem(row.item_id, row.device_id, row.seq, problem))
            chain = (row.item_id, row.device_id)
            if previous is None or previous[:2] != chain:
                expected_seq, expected_prev = 1, GENESIS_HASH
            else:
                expected_seq, expected_prev = previous[2] + 1, previous[3]
            if row.seq != expected_seq:
                reason = (
                    N_("events are missing before this one")
                    if local_device is None or row.device_id == local_device
                    else N_("events of another device have not arrived yet")
                )
                problems.append(CustodyProblem(row.item_id, row.device_id, row.seq, reason))
            elif row.prev_hash != expected_prev:
                problems.append(
                    CustodyProblem(
                        row.item_id,
                        row.device_id,
                        row.seq,
                        N_("the link to the previous event is broken"),
                    )
                )
            previous = (row.item_id, row.device_id, row.seq, row.event_hash)
        return problems


def _check_row(row: CustodyEventRow) -> str | None:
    raw = bytes(row.body)
    if _hash(raw) != row.event_hash:
        return N_("the event was altered (its hash does not match)")
    try:
        body = json.loads(raw)
    except ValueError:
        return N_("the event body is not readable")
    if not isinstance(body, dict):
        return N_("the event body is not readable")
    expected = {
        "id": row.id,
        "item_id": row.item_id,
        "device_id": row.device_id,
        "seq": row.seq,
        "action": row.action,
        "at": row.at,
        "prev_hash": row.prev_hash,
    }
    for key, value in expected.items():
        if body.get(key) != value:
            return N_("a column does not match the hashed event")
    return None

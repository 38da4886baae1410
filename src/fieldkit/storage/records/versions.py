"""Record versions: the version document (what is hashed, carried in bundles and compared on
import), its immutable stored form, and the shape check of a document from another device."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import CanonicalJSONError, canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import RECORD_TYPES, FormTemplate
from fieldkit.domain.forms import load_template as _load_template
from fieldkit.domain.validation import validate_record
from fieldkit.i18n import N_, _
from fieldkit.storage.changes import current_change_seq
from fieldkit.storage.tables.profile import ChangeCounter
from fieldkit.storage.tables.records import RecordVersionRow

DOC_KEYS = frozenset(
    {
        "id",
        "type",
        "revision",
        "template_id",
        "template_version",
        "origin_device",
        "created_at",
        "updated_at",
        "confidential",
        "deleted",
        "data",
    }
)


@dataclass(frozen=True)
class RecordVersionView:
    """One saved version exactly as stored: the document, its canonical bytes and their hash."""

    record_id: str
    revision: int
    content_hash: str
    deleted: bool
    saved_at: str
    saved_by_device: str
    origin: str
    change_seq: int
    canonical: bytes
    in_conflict: bool

    @property
    def doc(self) -> dict[str, Any]:
        value = json.loads(self.canonical)
        assert isinstance(value, dict)
        return value


def load_template(form_id: str, version: int | None = None) -> FormTemplate:
    return _load_template(form_id, version)


def version_document(
    *,
    record_id: str,
    type_: str,
    revision: int,
    template: FormTemplate,
    origin_device: str,
    created_at: str,
    updated_at: str,
    confidential: bool,
    deleted: bool,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "id": record_id,
        "type": type_,
        "revision": revision,
        "template_id": template.id,
        "template_version": template.version,
        "origin_device": origin_device,
        "created_at": created_at,
        "updated_at": updated_at,
        "confidential": confidential,
        "deleted": deleted,
        "data": dict(data),
    }


def _version_view(row: RecordVersionRow, in_conflict: bool = False) -> RecordVersionView:
    return RecordVersionView(
        record_id=row.record_id,
        revision=row.revision,
        content_hash=row.content_hash,
        deleted=bool(row.deleted),
        saved_at=row.saved_at,
        saved_by_device=row.saved_by_device,
        origin=row.origin,
        change_seq=row.change_seq,
        canonical=bytes(row.doc),
        in_conflict=in_conflict,
    )


def _reserve_change_seqs(session: Session, count: int) -> int:
    """Take ``count`` consecutive change numbers at once; returns the first."""
    session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + count)
    )
    return current_change_seq(session) - count + 1


def _canonical_id(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise FieldkitError(ErrorCode.RECORD_NOT_FOUND, id=str(value)[:64]) from None


def _int_version(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _checked_document(doc: Mapping[str, Any]) -> tuple[dict[str, Any], FormTemplate, bytes]:
    """Check the shape of a version document from another device and validate its data."""
    raw_id = doc.get("id") if isinstance(doc, Mapping) else None
    shown = raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else "?"

    def bad(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.RECORD_INVALID, id=shown, reason=_(reason))

    if not isinstance(doc, Mapping) or set(doc) != DOC_KEYS:
        raise bad(N_("the version document has missing or unexpected fields"))
    try:
        if (
            str(uuid.UUID(str(doc["id"]))) != doc["id"]
            or str(uuid.UUID(str(doc["origin_device"]))) != doc["origin_device"]
        ):
            raise bad(N_("an id is not a canonical UUID"))
    except ValueError:
        raise bad(N_("an id is not a UUID")) from None
    revision = doc["revision"]
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise bad(N_("the revision is not a positive integer"))
    if doc["type"] not in RECORD_TYPES:
        raise bad(N_("unknown record type"))
    for name in ("created_at", "updated_at"):
        value = doc[name]
        if not isinstance(value, str) or not 10 <= len(value) <= 40:
            raise bad(N_("a time is not valid"))
    for name in ("confidential", "deleted"):
        if not isinstance(doc[name], bool):
            raise bad(N_("a flag is not true or false"))
    version = doc["template_version"]
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not isinstance(doc["template_id"], str)
    ):
        raise bad(N_("the template is not named correctly"))
    if not isinstance(doc["data"], Mapping):
        raise bad(N_("data is not an object"))
    template = load_template(doc["template_id"], version)
    if template.record_type != doc["type"]:
        raise bad(N_("the template does not match the record type"))
    normalised = validate_record(template.id, dict(doc["data"]), template=template)
    if normalised != doc["data"]:
        raise bad(N_("the data is not in its normalised form"))
    clean = dict(doc)
    clean["data"] = dict(doc["data"])
    try:
        canonical = canonical_dumps(clean)
    except CanonicalJSONError as exc:
        raise bad(str(exc)) from None
    return clean, template, canonical

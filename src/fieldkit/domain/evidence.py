"""Evidence items and their chain of custody (records.md sections 6 and 7).

Pure models and rules, no I/O: what an evidence item records, the custody actions, how a media
type is recognised from the first bytes of a file (never from its name alone).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fieldkit.domain.errors import N_


class ItemType(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT_ORIGINAL = "document_original"
    DOCUMENT_COPY = "document_copy"
    WEB_CAPTURE = "web_capture"
    MEDICAL_RECORD = "medical_record"
    PHYSICAL_OBJECT = "physical_object"
    DRAWING = "drawing"
    TRANSCRIPT = "transcript"
    TRANSLATION = "translation"
    OTHER = "other"


class ObtainedHow(StrEnum):
    CAPTURED = "captured"
    HANDED_OVER = "handed_over"
    RECEIVED_BY_MESSAGE = "received_by_message"
    DOWNLOADED = "downloaded"
    RECEIVED_IN_BUNDLE = "received_in_bundle"
    OTHER = "other"


class CopyRole(StrEnum):
    ORIGINAL = "original"  # the evidentiary original
    WORKING = "working"  # an exact working copy
    DERIVED = "derived"  # redacted, transcoded, transcript, translation...


class ItemState(StrEnum):
    STORED = "stored"
    PURGED = "purged"


class VerificationStatus(StrEnum):
    UNVERIFIED = "unverified"
    CORROBORATED = "corroborated"
    INCONCLUSIVE = "inconclusive"
    CONTRADICTED = "contradicted"


# Berkeley Protocol content verification: whether what an item shows was corroborated. Not the
# hash check (integrity), which the custody log records as "hash verified".
VERIFICATION_STATUS_LABELS: dict[str, str] = {
    VerificationStatus.UNVERIFIED: N_("not yet corroborated"),
    VerificationStatus.CORROBORATED: N_("corroborated"),
    VerificationStatus.INCONCLUSIVE: N_("inconclusive"),
    VerificationStatus.CONTRADICTED: N_("contradicted"),
}


class LinkKind(StrEnum):
    """Kinds of rows in ``record_links`` from an evidence item to a record."""

    CASE = "evidence_case"
    INTERVIEW = "evidence_interview"
    VISIT = "evidence_visit"
    PERSON = "evidence_person"


class SensitiveFlag(StrEnum):
    GPS = "gps"
    DEVICE_SERIAL = "device_serial"
    EMBEDDED_METADATA = "embedded_metadata"
    IDENTIFIABLE_PERSONS = "identifiable_persons"
    INJURY = "injury"
    CONSENT_LIMITED = "consent_limited"


class CustodyAction(StrEnum):
    COLLECTED = "collected"
    RECEIVED = "received"
    VIEWED = "viewed"
    EXPORTED = "exported"
    COPIED = "copied"
    HASH_VERIFIED = "hash_verified"
    DERIVATIVE_CREATED = "derivative_created"
    INTEGRITY_FAILURE = "integrity_failure"
    EXPORTED_IN_BUNDLE = "exported_in_bundle"
    PURGED = "purged"


CUSTODY_ACTION_LABELS: dict[CustodyAction, str] = {
    CustodyAction.COLLECTED: N_("collected"),
    CustodyAction.RECEIVED: N_("received"),
    CustodyAction.VIEWED: N_("viewed"),
    CustodyAction.EXPORTED: N_("exported"),
    CustodyAction.COPIED: N_("copied"),
    CustodyAction.HASH_VERIFIED: N_("hash verified"),
    CustodyAction.DERIVATIVE_CREATED: N_("derivative created"),
    CustodyAction.INTEGRITY_FAILURE: N_("integrity failure"),
    CustodyAction.EXPORTED_IN_BUNDLE: N_("exported in bundle"),
    CustodyAction.PURGED: N_("purged"),
}


class CustodyPurpose(StrEnum):
    """Purposes the program itself records; stored as these codes, translated when shown.

    A purpose a person typed is stored as typed. Events written before these codes existed may
    hold English text; it is shown as it is.
    """

    PURGED_AFTER_ACKNOWLEDGEMENT = "purged_after_acknowledgement"
    EXPORTED_FROM_DESKTOP = "exported_from_desktop"
    VIEWED_IN_DESKTOP = "viewed_in_desktop"


CUSTODY_PURPOSE_LABELS: dict[str, str] = {
    CustodyPurpose.PURGED_AFTER_ACKNOWLEDGEMENT: N_(
        "purged after the organisation acknowledged receipt"
    ),
    CustodyPurpose.EXPORTED_FROM_DESKTOP: N_("exported from the desktop program"),
    CustodyPurpose.VIEWED_IN_DESKTOP: N_("viewed in the desktop program"),
}

# Program-made English purposes of earlier versions, stored from now on as their codes.
LEGACY_PURPOSES: dict[str, CustodyPurpose] = {
    "purged after acknowledgement": CustodyPurpose.PURGED_AFTER_ACKNOWLEDGEMENT,
}

# Labels of the keys of a custody event's ``details`` (the keys themselves are stored).
CUSTODY_DETAIL_LABELS: dict[str, str] = {
    "size": N_("size (bytes)"),
    "media_type": N_("file type"),
    "file_name": N_("file name"),
    "to": N_("written to"),
    "destination": N_("destination"),
    "derived_item": N_("copy or derivative"),
    "transformation": N_("transformation"),
    "from_device": N_("from device"),
    "bundle_id": N_("bundle"),
    "recipient": N_("recipient"),
    "during": N_("during"),
    "detail": N_("problem"),
    "status": N_("result"),
    "what": N_("what was shown"),
    "chunk": N_("encrypted block"),
}

# Coded values inside ``details`` (destination kinds, stages, results); anything else is shown
# as stored (ids, sizes, names).
CUSTODY_VALUE_LABELS: dict[str, str] = {
    "removable": N_("removable drive"),
    "local": N_("local drive"),
    "export": N_("export"),
    "preview": N_("preview"),
    "tampered": N_("content does not match"),
    "missing": N_("stored file missing"),
    "exact_copy": N_("exact copy"),
    "exact copy": N_("exact copy"),
}

_CODED_DETAIL_KEYS = frozenset({"destination", "during", "status", "what", "transformation"})


def custody_purpose_text(purpose: str | None, gettext: Any) -> str:
    """A stored purpose for display: a code translated, anything else as typed."""
    if not purpose:
        return ""
    label = CUSTODY_PURPOSE_LABELS.get(purpose)
    return str(gettext(label)) if label else purpose


def custody_detail_label(key: str, gettext: Any) -> str:
    """The translated label of a details key (unknown keys as stored)."""
    label = CUSTODY_DETAIL_LABELS.get(key)
    return str(gettext(label)) if label else key


def custody_detail_value(key: str, value: Any, gettext: Any) -> str:
    """A details value for display: coded values and program messages translated."""
    if isinstance(value, str):
        label = CUSTODY_VALUE_LABELS.get(value)
        if label is not None and key in (
            "destination",
            "during",
            "status",
            "what",
            "transformation",
        ):
            return str(gettext(label))
        if key == "detail":  # program messages (integrity problems), marked for translation
            return str(gettext(value))
        return value
    return str(value)


class PreviewStatus(StrEnum):
    NONE = "none"  # not an image type we preview (video, audio, documents)
    OK = "ok"
    HOSTILE = "hostile"  # refused: decompression bomb, too many pixels, resource limits
    FAILED = "failed"  # could not be decoded


class EvidenceLinks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str | None = None
    interview_id: str | None = None
    visit_id: str | None = None
    person_ids: tuple[str, ...] = ()


class EvidenceInput(BaseModel):
    """What a person enters about an item when adding it; every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_type: ItemType | None = None  # guessed from the media type when not given
    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    creator: str | None = Field(default=None, max_length=500)
    collected_by: str | None = Field(default=None, max_length=200)
    collected_at: str | None = Field(default=None, max_length=40)
    content_created_at: str | None = Field(default=None, max_length=40)
    place_created: str | None = Field(default=None, max_length=1000)
    place_collected: str | None = Field(default=None, max_length=1000)
    obtained_from: str | None = Field(default=None, max_length=1000)
    obtained_how: ObtainedHow | None = None
    capture_device: str | None = Field(default=None, max_length=500)
    copy_role: CopyRole = CopyRole.ORIGINAL
    parent_id: str | None = None
    transformation: str | None = Field(default=None, max_length=2000)
    confidential: bool = False
    sensitive_flags: tuple[SensitiveFlag, ...] = ()


class EvidenceUpdate(BaseModel):
    """Changes to an item's description; only the fields given are changed.

    The file, its hash, size, media type and embedded metadata never change after intake.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_type: ItemType | None = None
    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    creator: str | None = Field(default=None, max_length=500)
    collected_by: str | None = Field(default=None, max_length=200)
    collected_at: str | None = Field(default=None, max_length=40)
    content_created_at: str | None = Field(default=None, max_length=40)
    place_created: str | None = Field(default=None, max_length=1000)
    place_collected: str | None = Field(default=None, max_length=1000)
    obtained_from: str | None = Field(default=None, max_length=1000)
    obtained_how: ObtainedHow | None = None
    capture_device: str | None = Field(default=None, max_length=500)
    transformation: str | None = Field(default=None, max_length=2000)
    confidential: bool | None = None
    verification_status: VerificationStatus | None = None
    sensitive_flags: tuple[SensitiveFlag, ...] | None = None


DESCRIPTIVE_FIELDS: tuple[str, ...] = tuple(EvidenceUpdate.model_fields)

# Bounds of what is not described by a person: the file's own name and the JSON the program
# derives (consent limits, embedded metadata), checked on intake and on import.
MAX_ORIGINAL_NAME = 1000
MAX_JSON_FIELD_CHARS = 64 * 1024


def description_bound_problems(doc: Mapping[str, Any]) -> list[str]:
    """The fields of an evidence description (from a bundle) that break a length bound: every
    text a person enters has the same bound as on intake (EvidenceInput / EvidenceUpdate)."""
    problems: list[str] = []
    for name in DESCRIPTIVE_FIELDS:
        value = doc.get(name)
        limit = _text_limit(name)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            problems.append(name)
    name_value = doc.get("original_name")
    if isinstance(name_value, str) and len(name_value) > MAX_ORIGINAL_NAME:
        problems.append("original_name")
    for name in ("consent_limits", "embedded_metadata"):
        value = doc.get(name)
        if value is not None and len(json.dumps(value, ensure_ascii=False)) > MAX_JSON_FIELD_CHARS:
            problems.append(name)
    return problems


def _text_limit(name: str) -> int | None:
    info = EvidenceUpdate.model_fields[name]
    for item in info.metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


class EvidenceItem(BaseModel):
    """One evidence item as the services return it (frozen; never an ORM row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    item_type: ItemType
    title: str | None = None
    description: str | None = None
    creator: str | None = None
    collected_by: str | None = None
    collected_at: str | None = None
    content_created_at: str | None = None
    place_created: str | None = None
    place_collected: str | None = None
    obtained_from: str | None = None
    obtained_how: ObtainedHow | None = None
    capture_device: str | None = None
    original_name: str
    size: int
    media_type: str
    sha256: str
    copy_role: CopyRole = CopyRole.ORIGINAL
    parent_id: str | None = None
    transformation: str | None = None
    links: EvidenceLinks = EvidenceLinks()
    consent_limits: dict[str, Any] | None = None
    sensitive_flags: tuple[SensitiveFlag, ...] = ()
    embedded_metadata: dict[str, Any] | None = None
    confidential: bool = False
    verification_status: VerificationStatus = VerificationStatus.UNVERIFIED
    preview_status: PreviewStatus = PreviewStatus.NONE
    state: ItemState = ItemState.STORED
    origin_device: str
    created_at: str
    updated_at: str
    change_seq: int


class CustodyEvent(BaseModel):
    """One entry of an item's append-only custody log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    item_id: str
    device_id: str
    seq: int
    action: CustodyAction
    at: str  # UTC, ISO 8601 with "Z"
    actor: str
    purpose: str | None = None
    hash_before: str | None = None
    hash_after: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    event_hash: str
    change_seq: int


class VerifyResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    ok: bool
    status: str  # "ok" | "tampered" | "missing" | "purged"
    detail: str | None = None  # a message marked for translation
    chunk: int | None = None  # the encrypted block that failed, when one did
    expected_sha256: str
    actual_sha256: str | None = None


class MediaReport(BaseModel):
    """What the media subprocess found out about an image; never the image itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: PreviewStatus
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    embedded_metadata: dict[str, Any] = Field(default_factory=dict)


# -- media types from magic bytes --------------------------------------------------------------

_EXTENSION_HINTS = {
    ".heic": "image/heic",
    ".heif": "image/heif",
}


def sniff_media_type(head: bytes, name: str = "") -> str:
    """The media type from a file's first bytes (at least 64 wanted); the name is a hint only.

    Recognises JPEG, PNG, GIF, WebP, TIFF, HEIC/HEIF, MP4/MOV/M4A, MP3, WAV, OGG, FLAC, PDF,
    ZIP-based office files (DOCX/XLSX/ODT come back as their ZIP-based type when the name says so),
    and plain UTF-8 text. Anything else is ``application/octet-stream``.
    """
    lower = name.lower()
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "image/heif" if brand in (b"mif1", b"msf1") else "image/heic"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if lower.endswith(".docx"):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if lower.endswith(".xlsx"):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if lower.endswith(".odt"):
            return "application/vnd.oasis.opendocument.text"
        return "application/zip"
    for extension, media_type in _EXTENSION_HINTS.items():
        if lower.endswith(extension):
            return media_type
    if _looks_like_text(head):
        return "text/plain"
    return "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            return False
    return all(b >= 0x20 or b in b"\t\n\r\f" for b in head)


PREVIEWABLE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff"})


def item_type_for(media_type: str) -> ItemType:
    if media_type.startswith("image/"):
        return ItemType.PHOTO
    if media_type.startswith("video/"):
        return ItemType.VIDEO
    if media_type.startswith("audio/"):
        return ItemType.AUDIO
    if media_type == "text/plain":
        return ItemType.DOCUMENT_ORIGINAL
    if media_type.startswith("application/"):
        return (
            ItemType.DOCUMENT_ORIGINAL
            if media_type != "application/octet-stream"
            else (ItemType.OTHER)
        )
    return ItemType.OTHER

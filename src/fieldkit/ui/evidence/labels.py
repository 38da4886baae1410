"""How the evidence screens word things: labels of codes, sizes, times, metadata values."""

from __future__ import annotations

from typing import Any

from fieldkit.i18n import N_, _

# Embedded metadata keys that can locate or identify a person or a device.
SENSITIVE_METADATA = frozenset({"gps", "serial_number", "image_unique_id", "lens_serial_number"})
COL_AT, COL_ACTION, COL_ACTOR, COL_PURPOSE, COL_HASH = range(5)

_METADATA_LABELS: dict[str, str] = {
    "gps": N_("GPS position"),
    "serial_number": N_("Device serial number"),
    "image_unique_id": N_("Image unique id"),
    "camera_make": N_("Camera make"),
    "camera_model": N_("Camera model"),
    "software": N_("Software"),
    "datetime": N_("Date and time (file)"),
    "datetime_original": N_("Date and time taken"),
    "offset_time_original": N_("Time zone when taken"),
    "orientation": N_("Orientation"),
    "lens_model": N_("Lens"),
}
_VERIFY_TEXT: dict[str, str] = {
    "ok": N_("Verified: the stored file matches its SHA-256."),
    "tampered": N_("INTEGRITY FAILURE: the stored file does not match its SHA-256."),
    "missing": N_("INTEGRITY FAILURE: the stored file is missing."),
    "purged": N_("This item was purged; there is no file to verify."),
}


_FLAG_LABELS: dict[str, str] = {
    "gps": N_("GPS position"),
    "device_serial": N_("device serial number"),
    "embedded_metadata": N_("embedded metadata"),
    "identifiable_persons": N_("identifiable persons"),
    "injury": N_("injuries"),
    "consent_limited": N_("limited consent"),
}


_ITEM_TYPE_LABELS: dict[str, str] = {
    "photo": N_("photograph"),
    "video": N_("video"),
    "audio": N_("audio recording"),
    "document_original": N_("original document"),
    "document_copy": N_("copy of a document"),
    "web_capture": N_("web or social media capture"),
    "medical_record": N_("medical record or certificate"),
    "physical_object": N_("physical object (described)"),
    "drawing": N_("drawing or sketch"),
    "transcript": N_("transcript"),
    "translation": N_("translation"),
    "other": N_("other"),
}
_COPY_ROLE_LABELS: dict[str, str] = {
    "original": N_("evidentiary original"),
    "working": N_("working copy"),
    "derived": N_("derivative (redacted, transcoded, transcript, translation)"),
}
_VERIFICATION_LABELS: dict[str, str] = {
    "unverified": N_("not verified"),
    "corroborated": N_("corroborated"),
    "inconclusive": N_("inconclusive"),
    "contradicted": N_("contradicted"),
}


def _label(table: dict[str, str], code: str) -> str:
    return _(table[code]) if code in table else code


def format_timestamp(value: str | None) -> str:
    """``2024-03-05T10:15:02.123456Z`` -> ``2024-03-05 10:15:02 UTC``; other text unchanged."""
    if not value:
        return ""
    text = value.replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1].split(".")[0] + " UTC"
    return text


def human_size(size: int) -> str:
    units = [_("bytes"), _("KiB"), _("MiB"), _("GiB"), _("TiB")]
    value = float(size)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            if unit == units[0]:
                return f"{size} {unit}"
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{size}"  # pragma: no cover


def format_metadata_value(key: str, value: Any) -> str:
    if key == "gps" and isinstance(value, dict):
        lat, lon = value.get("latitude"), value.get("longitude")
        parts = []
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            parts.append(f"{lat:.6f}, {lon:.6f}")
        if value.get("altitude") is not None:
            parts.append(_("altitude {metres} m").format(metres=value["altitude"]))
        if value.get("date"):
            parts.append(str(value["date"]))
        return "; ".join(parts) or str(value)
    if isinstance(value, dict | list):
        return str(value)
    return str(value)

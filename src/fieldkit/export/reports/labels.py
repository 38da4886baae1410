"""Translated names for the evidence codes that have no vocabulary file (item types, copy roles).

Custody action names come from the evidence area's own table (``CUSTODY_ACTION_LABELS``).
"""

from __future__ import annotations

from fieldkit.domain.evidence import CUSTODY_ACTION_LABELS, CustodyAction
from fieldkit.i18n import N_, Translator

ITEM_TYPE_LABELS = {
    "photo": N_("photograph"),
    "video": N_("video recording"),
    "audio": N_("audio recording"),
    "document_original": N_("document (original)"),
    "document_copy": N_("document (copy)"),
    "web_capture": N_("web or social-media capture"),
    "medical_record": N_("medical record or certificate"),
    "physical_object": N_("physical object (described)"),
    "drawing": N_("drawing or sketch"),
    "transcript": N_("transcript"),
    "translation": N_("translation"),
    "other": N_("other"),
}

COPY_ROLE_LABELS = {
    "original": N_("evidentiary original"),
    "working": N_("exact working copy"),
    "derived": N_("derivative (redacted, transcoded, transcribed or translated)"),
}


def item_type_label(code: str, translator: Translator) -> str:
    label = ITEM_TYPE_LABELS.get(code)
    return translator.gettext(label) if label else code


def copy_role_label(code: str, translator: Translator) -> str:
    label = COPY_ROLE_LABELS.get(code)
    return translator.gettext(label) if label else code


def custody_action_label(code: str, translator: Translator) -> str:
    try:
        label = CUSTODY_ACTION_LABELS.get(CustodyAction(code))
    except ValueError:
        label = None
    return translator.gettext(label) if label else code


def evidence_number(item_id: str) -> str:
    """An evidence item's number, the same in every report, on every device and after a bundle
    (Berkeley Protocol: one identifier per item): ``E-`` and the first six characters of its id."""
    return "E-" + item_id.replace("-", "")[:6].upper()

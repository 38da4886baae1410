"""What a form reads from other records: the choices of its reference pickers, and the values
it takes from a record it links to.

A visit names a facility record, and the facility record has its type: the visit's own
*facility type* is then filled from it and shown read-only, editable only while no facility
record (or one without a type) is linked. An older visit whose recorded type differs from its
facility's keeps what it recorded, editable, and says what the facility record holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from PySide6.QtWidgets import QLabel, QVBoxLayout

from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import _
from fieldkit.ui.forms.base import FieldWidget, RefOptions
from fieldkit.ui.forms.common import language, plain_label
from fieldkit.ui.forms.scope import FieldsForm


class FormEditor(Protocol):
    """What this module needs of ``renderer.FormEditor`` (importing it would make a circle)."""

    form_id: str
    read_only: bool

    def editor(self, path: str) -> FieldWidget: ...

    def form_of(self, field_id: str) -> FieldsForm: ...


log = logging.getLogger(__name__)

# How many records a reference picker lists.
REF_PICKER_LIMIT = 500

_REF_TYPES: dict[FieldType, tuple[str, ...]] = {
    FieldType.PERSON_REF: ("person",),
    FieldType.FACILITY_REF: ("facility",),
}


def records_service(services: Any) -> Any:
    return getattr(services, "records", services)


class ServicesRefProvider:
    """Reference choices from the records service (and the evidence service for evidence links)."""

    def __init__(self, services: Any, case_id: str | None = None) -> None:
        self.services = services
        self.case_id = case_id
        self._cache: dict[tuple[str, ...], RefOptions] = {}

    def __call__(self, fdef: FieldDef) -> RefOptions:
        if fdef.type == FieldType.EVIDENCE_LINK:
            return self._evidence()
        types = _REF_TYPES.get(fdef.type) or tuple(fdef.targets or ())
        if not types:
            return []
        if types not in self._cache:
            from fieldkit.services.records import RecordFilters

            records = records_service(self.services)
            found = records.list(RecordFilters(types=types), limit=REF_PICKER_LIMIT)
            self._cache[types] = [(r.id, r.title or r.id[:8]) for r in found]
        return self._cache[types]

    def _evidence(self) -> RefOptions:
        evidence = getattr(self.services, "evidence", None)
        if evidence is None:
            return []
        key = ("evidence", self.case_id or "")
        if key not in self._cache:
            items = evidence.list_items(
                case_id=self.case_id, include_purged=False, limit=REF_PICKER_LIMIT
            )
            self._cache[key] = [
                (item.id, item.title or item.original_name or item.id[:8]) for item in items
            ]
        return self._cache[key]


# (form, field) -> (the reference field naming the record, the field of that record)
FROM_LINKED: dict[tuple[str, str], tuple[str, str]] = {
    ("visit", "facility_type"): ("facility", "facility_type"),
}

NOTE_STYLE = "color: palette(mid); font-size: 8pt;"


class LinkedValues:
    """Fills the fields of ``FROM_LINKED`` from the linked record and keeps them read-only."""

    def __init__(self, editor: FormEditor, services: Any) -> None:
        self.editor = editor
        self.services = services
        self.notes: dict[str, QLabel] = {}
        self.rules: list[tuple[str, str, str]] = []
        if services is None:
            return
        for (form_id, field_id), (ref_id, source) in FROM_LINKED.items():
            if form_id != editor.form_id:
                continue
            try:
                row = editor.form_of(field_id).rows[field_id]
                ref_editor = editor.editor(ref_id)
            except KeyError:
                continue
            note = plain_label("", row.field_box)
            note.setObjectName(f"linked_{field_id}")
            note.setWordWrap(True)
            note.setStyleSheet(NOTE_STYLE)
            note.hide()
            box = row.field_box.layout()
            if isinstance(box, QVBoxLayout):
                box.insertWidget(1, note)
            self.notes[field_id] = note
            self.rules.append((field_id, ref_id, source))
            ref_editor.changed.connect(lambda f=field_id: self.update(f))

        self.update_all()

    def update_all(self) -> None:
        """After the whole form was loaded: fill what is empty, keep what was recorded."""
        for field_id, _ref, _source in self.rules:
            self.update(field_id, initial=True)

    def linked_value(self, ref_id: str, source: str) -> Any:
        value = self.editor.editor(ref_id).value()
        record_id = value.get("id") if isinstance(value, Mapping) else value
        if not isinstance(record_id, str) or not record_id:
            return None
        try:
            record = records_service(self.services).get(record_id)
        except FieldkitError:
            return None
        found = record.data.get(source)
        return found if found not in (None, "") else None

    def update(self, field_id: str, initial: bool = False) -> None:
        rule = next((r for r in self.rules if r[0] == field_id), None)
        if rule is None:
            return
        _field, ref_id, source = rule
        editor = self.editor.editor(field_id)
        note = self.notes[field_id]
        value = self.linked_value(ref_id, source)
        if value is None:
            editor.set_read_only(self.editor.read_only)
            note.hide()
            return
        current = editor.value()
        if initial and current not in (None, "") and current != value:
            # Recorded before the type was taken from the facility: kept as it was.
            editor.set_read_only(self.editor.read_only)
            note.setText(
                _("The facility record says: {value}. This visit keeps what it recorded.").format(
                    value=_term_label(editor.fdef, value)
                )
            )
            note.show()
            return
        if current != value:
            editor.set_value(value)
        editor.set_read_only(True)
        note.setText(_("Taken from the facility record; change it there."))
        note.show()


def _term_label(fdef: FieldDef, code: Any) -> str:
    if fdef.type is FieldType.CHOICE and fdef.vocabulary and isinstance(code, str):
        vocabulary = load_vocabulary(fdef.vocabulary)
        if code in vocabulary:
            return vocabulary.term(code).label(language())
    return str(code)

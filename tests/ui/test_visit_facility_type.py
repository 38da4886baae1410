"""The visit takes the facility type from the facility record it names: shown read-only, editable
only while no facility record with a type is linked; older visits keep what they recorded."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fieldkit import i18n
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import Vault
from fieldkit.ui.forms.renderer import FormEditor
from tests.storage.test_records_samples import facility_data, visit_data


@pytest.fixture
def services(new_vault: Vault) -> SimpleNamespace:
    return SimpleNamespace(records=RecordService(new_vault), evidence=None)


def _pick(editor: FormEditor, facility_id: str | None) -> None:
    combo = editor.editor("facility").combo
    combo.setCurrentIndex(combo.findData(facility_id) if facility_id else 0)


def test_type_comes_from_the_facility_and_is_read_only(
    services: SimpleNamespace, qtbot: Any
) -> None:
    facility = services.records.add("facility", facility_data())  # temporary_holding
    bare = services.records.add("facility", {"official_name": "Camp 3", "facility_type": "other"})
    editor = FormEditor(services, "visit")
    qtbot.addWidget(editor)
    kind = editor.editor("facility_type")
    note = editor.findChild(object, "linked_facility_type")
    assert kind.combo.isEnabled()
    assert note.isHidden()
    _pick(editor, facility.id)
    assert kind.value() == "temporary_holding"
    assert not kind.combo.isEnabled()
    assert "Taken from the facility record" in note.text()
    assert not note.isHidden()
    _pick(editor, bare.id)
    assert kind.value() == "other"
    # No facility linked: the type can be chosen again.
    _pick(editor, None)
    assert kind.combo.isEnabled()
    assert note.isHidden()
    # Saved with the facility: the record carries its type.
    data = visit_data(facility.id)
    data.pop("facility_type")
    editor.set_value(data)
    assert kind.value() == "temporary_holding"
    assert editor.save()
    stored = services.records.get(editor.record_id)
    assert stored.data["facility_type"] == "temporary_holding"


def test_an_older_visit_keeps_its_own_type_and_says_what_the_facility_holds(
    services: SimpleNamespace, qtbot: Any
) -> None:
    i18n.set_language("uk")
    facility = services.records.add("facility", facility_data())
    old = services.records.add("visit", {**visit_data(facility.id), "facility_type": "sizo"})
    editor = FormEditor(services, "visit", record_id=old.id)
    qtbot.addWidget(editor)
    kind = editor.editor("facility_type")
    assert kind.value() == "sizo"
    assert kind.combo.isEnabled()
    note = editor.findChild(object, "linked_facility_type")
    assert "Ізолятор тимчасового тримання" in note.text()
    assert not editor.dirty
    # Choosing the facility again takes its type.
    _pick(editor, None)
    _pick(editor, facility.id)
    assert kind.value() == "temporary_holding"
    assert not kind.combo.isEnabled()


def test_read_only_form_stays_read_only(services: SimpleNamespace, qtbot: Any) -> None:
    facility = services.records.add("facility", facility_data())
    visit = services.records.add("visit", visit_data(facility.id))
    editor = FormEditor(services, "visit", record_id=visit.id, read_only=True)
    qtbot.addWidget(editor)
    assert not editor.editor("facility_type").combo.isEnabled()

"""Record versions carried from a monitor's vault to a coordinator's: new, same, conflict, order."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError, RecordValidationError
from fieldkit.services.audit import AuditService
from fieldkit.services.records import RecordFilters, RecordService
from fieldkit.services.search import SearchService
from fieldkit.storage.changes import current_change_seq
from fieldkit.storage.records import RecordStore, RecordVersionView
from fieldkit.storage.vault import Vault
from tests.storage.test_records_samples import facility_data, person_data, visit_data

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


def _export(vault: Vault, since: int = 0) -> list[RecordVersionView]:
    with vault.session() as s:
        return list(RecordStore(vault.device_id).versions_since(s, since))


def _import(vault: Vault, versions: list[RecordVersionView], origin: str) -> list[str]:
    with vault.session() as s:
        store = RecordStore(vault.device_id)
        return [store.import_version(s, v.doc, origin) for v in versions]


def test_versions_since_follows_the_change_counter(new_vault: Vault) -> None:
    service = RecordService(new_vault)
    facility = service.add("facility", facility_data())
    with new_vault.session() as s:
        mark = current_change_seq(s)
    service.update(facility.id, {**facility.data, "capacity": 45}, 1)
    person = service.add("person", person_data())
    later = _export(new_vault, mark)
    assert [(v.record_id, v.revision) for v in later] == [(facility.id, 2), (person.id, 1)]
    assert all(v.change_seq > mark for v in later)
    assert len(_export(new_vault)) == 3


def test_import_new_same_and_newer(new_vault: Vault, new_coordinator_vault: Vault) -> None:
    monitor, office = new_vault, new_coordinator_vault
    service = RecordService(monitor)
    facility = service.add("facility", facility_data())
    visit = service.add("visit", visit_data(facility.id))
    first = _export(monitor)
    assert _import(office, first, monitor.device_id) == ["new", "new"]
    assert _import(office, first, monitor.device_id) == ["same", "same"]

    at_office = RecordService(office).get(visit.id)
    assert at_office.revision == 1
    assert at_office.origin_device == monitor.device_id
    assert at_office.content_hash == visit.content_hash
    assert at_office.facility_id == facility.id
    assert [h.record_id for h in SearchService(office).search("пліснява").hits] == [visit.id]

    service.update(visit.id, {**visit.data, "findings": "Камери переповнені."}, 1)
    service.delete(facility.id, 1, force=True)  # the visit still names it
    assert _import(
        office, _export(monitor, max(v.change_seq for v in first)), monitor.device_id
    ) == [
        "new",
        "new",
    ]
    office_service = RecordService(office)
    assert office_service.get(visit.id).revision == 2
    assert office_service.get(facility.id).deleted
    assert office_service.count(RecordFilters(types=("facility",))) == 0
    history = office_service.history(visit.id)
    assert [(v.revision, v.origin, v.saved_by_device) for v in history] == [
        (1, "imported", monitor.device_id),
        (2, "imported", monitor.device_id),
    ]
    report = AuditService(office).verify()
    assert report.ok
    assert report.own.versions_checked == 4
    assert {e.action for e in AuditService(office).entries_for(visit.id)} == {"record.import"}


def test_versions_arriving_out_of_order(new_vault: Vault, new_coordinator_vault: Vault) -> None:
    service = RecordService(new_vault)
    person = service.add("person", person_data())
    service.update(person.id, {**person.data, "occupation": "водій"}, 1)
    service.update(person.id, {**person.data, "occupation": "механік"}, 2)
    versions = _export(new_vault)
    assert _import(new_coordinator_vault, [versions[2], versions[0]], new_vault.device_id) == [
        "new",
        "new",
    ]
    office = RecordService(new_coordinator_vault)
    # the head advances by the record's own history: revision 3 waits for revision 2
    assert office.get(person.id).revision == 1
    assert "occupation" not in office.get(person.id).data
    assert _import(new_coordinator_vault, [versions[1]], new_vault.device_id) == ["new"]
    assert office.get(person.id).revision == 3  # revision 2 filled the gap; 3 follows it
    assert office.get(person.id).data["occupation"] == "механік"
    assert [v.revision for v in office.history(person.id)] == [1, 2, 3]
    assert AuditService(new_coordinator_vault).verify().ok


def test_same_revision_with_other_content_is_a_conflict(
    new_vault: Vault, new_coordinator_vault: Vault
) -> None:
    service = RecordService(new_vault)
    person = service.add("person", person_data())
    original = _export(new_vault)
    _import(new_coordinator_vault, original, new_vault.device_id)
    forked: dict[str, Any] = copy.deepcopy(original[0].doc)
    forked["data"]["occupation"] = "агроном"
    with new_coordinator_vault.session() as s:
        outcome = RecordStore(new_coordinator_vault.device_id).import_version(
            s, forked, new_vault.device_id
        )
    assert outcome == "conflict"
    office = RecordService(new_coordinator_vault)
    conflicts = office.conflicts()
    assert len(conflicts) == 1
    assert conflicts[0].record_id == person.id
    assert conflicts[0].local_hash == person.content_hash
    history = office.history(person.id)
    assert len(history) == 2
    assert all(v.in_conflict for v in history)
    # The head stays as it was until a person resolves the conflict.
    assert "occupation" not in office.get(person.id).data
    with new_coordinator_vault.session() as s:
        again = RecordStore(new_coordinator_vault.device_id).import_version(
            s, forked, new_vault.device_id
        )
    assert again == "same"
    assert len(office.conflicts()) == 1
    assert AuditService(new_coordinator_vault).verify().ok


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("origin_device"), "missing or unexpected"),
        (lambda d: d.update(extra=True), "missing or unexpected"),
        (lambda d: d.update(id="not-a-uuid"), "not a UUID"),
        (lambda d: d.update(id=d["id"].upper()), "canonical"),
        (lambda d: d.update(revision=0), "positive integer"),
        (lambda d: d.update(revision=True), "positive integer"),
        (lambda d: d.update(type="diary"), "unknown record type"),
        (lambda d: d.update(type="person"), "does not match the record type"),
        (lambda d: d.update(deleted="no"), "true or false"),
        (lambda d: d.update(data=[]), "not an object"),
        (lambda d: d.update(template_version="1"), "template"),
        (lambda d: d["data"].update(official_name=" padded "), "normalised"),
    ],
)
def test_malformed_documents_are_refused(
    new_vault: Vault, new_coordinator_vault: Vault, mutate: Any, reason: str
) -> None:
    RecordService(new_vault).add("facility", facility_data())
    doc = copy.deepcopy(_export(new_vault)[0].doc)
    mutate(doc)
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        RecordStore(new_coordinator_vault.device_id).import_version(s, doc, new_vault.device_id)
    assert info.value.code == ErrorCode.RECORD_INVALID
    assert reason in info.value.message()
    assert RecordService(new_coordinator_vault).count(RecordFilters(include_deleted=True)) == 0


def test_invalid_data_in_a_document_is_refused(
    new_vault: Vault, new_coordinator_vault: Vault
) -> None:
    RecordService(new_vault).add("facility", facility_data())
    doc = copy.deepcopy(_export(new_vault)[0].doc)
    doc["data"]["facility_type"] = "castle"
    with pytest.raises(RecordValidationError) as info, new_coordinator_vault.session() as s:
        RecordStore(new_coordinator_vault.device_id).import_version(s, doc, new_vault.device_id)
    assert info.value.issues[0].field == "facility_type"


def test_a_revision_far_above_the_head_waits_and_replaces_nothing(
    new_vault: Vault, new_coordinator_vault: Vault
) -> None:
    service = RecordService(new_vault)
    person = service.add("person", person_data())
    original = _export(new_vault)
    _import(new_coordinator_vault, original, new_vault.device_id)
    jump: dict[str, Any] = copy.deepcopy(original[0].doc)
    jump["revision"] = 999_999_999
    jump["deleted"] = True
    with new_coordinator_vault.session() as s:
        store = RecordStore(new_coordinator_vault.device_id)
        assert store.import_version(s, jump, new_vault.device_id) == "new"
    office = RecordService(new_coordinator_vault)
    head = office.get(person.id)
    assert (head.revision, head.deleted) == (1, False)  # kept as history only
    # the device's real next revision still becomes the head
    service.update(person.id, {**person.data, "occupation": "водій"}, 1)
    assert _import(new_coordinator_vault, _export(new_vault)[1:], new_vault.device_id) == ["new"]
    assert office.get(person.id).revision == 2
    assert office.get(person.id).data["occupation"] == "водій"

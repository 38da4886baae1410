"""Records on a real SQLCipher vault: enter, validate, revise, delete, history, links, audit."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select, text

from fieldkit.domain.errors import ErrorCode, FieldkitError, RecordValidationError
from fieldkit.services.audit import AuditService
from fieldkit.services.records import CaseService, RecordFilters, RecordService, RecordView
from fieldkit.services.search import SearchService
from fieldkit.storage.tables.records import (
    AuditRow,
    RecordLinkRow,
    RecordRow,
    RecordVersionRow,
)
from fieldkit.storage.vault import Vault
from tests.helpers import search_index_rows
from tests.storage.test_audit import raw_db
from tests.storage.test_records_samples import (
    facility_data,
    interview_data,
    person_data,
    visit_data,
)

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


def counts(vault: Vault) -> dict[str, int]:
    with vault.session() as s:
        result = {
            model.__tablename__: int(
                s.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (RecordRow, RecordVersionRow, AuditRow, RecordLinkRow)
        }
        result["records_fts"] = len(search_index_rows(s))
    return result


class Scene:
    """A facility, a person, a case, a visit to the facility and an interview of the person."""

    def __init__(self, vault: Vault) -> None:
        self.service = RecordService(vault)
        self.facility = self.service.add("facility", facility_data())
        self.person = self.service.add("person", person_data())
        self.case = CaseService(vault).add("Катування у відділі поліції, березень 2026")
        self.visit = self.service.add("visit", visit_data(self.facility.id))
        self.interview = self.service.add(
            "interview", {**interview_data(self.person.id, self.case.id), "visit": self.visit.id}
        )


@pytest.fixture
def scene(new_vault: Vault) -> Scene:
    return Scene(new_vault)


def _links(service: RecordService, record: RecordView) -> set[tuple[str, str, str, str]]:
    return {(lk.from_id, lk.to_id, lk.kind, lk.role) for lk in service.links(record.id)}


def test_visit_and_interview_in_ukrainian_end_to_end(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    visit, interview = scene.visit, scene.interview
    assert (visit.type, visit.revision, visit.title) == ("visit", 1, "V-2026-014")
    assert visit.facility_id == scene.facility.id
    assert (visit.date_from, visit.date_to) == ("2026-03-12", "2026-03-12")
    assert visit.origin_device == new_vault.device_id
    assert visit.template_id == "visit"
    # Normalised on the way in: a bare date became a date with precision.
    assert interview.data["interview_date"] == {"value": "2026-03-14", "precision": "exact"}
    assert interview.data["injuries"][0]["colour"] == "жовто-зелений"

    computed = service.computed(visit)
    assert computed["occupancy_percent"] == pytest.approx(130.0)
    assert computed["areas[0].area_per_person"] == pytest.approx(2.0)
    assert computed["admission_delay_minutes"] == 45

    # Links derived from the reference fields.
    assert (visit.id, scene.facility.id, "visit_facility", "") in _links(service, visit)
    interview_links = _links(service, interview)
    assert (interview.id, scene.person.id, "interview_person", "source") in interview_links
    assert (interview.id, scene.case.id, "interview_case", "") in interview_links
    assert (interview.id, visit.id, "interview_visit", "") in interview_links

    # Found by words of the narrative, the area notes and the case title.
    search = SearchService(new_vault)
    assert [h.record_id for h in search.search("катування").hits] == [scene.case.id, interview.id]
    assert [h.record_id for h in search.search("пліснява").hits] == [visit.id]
    assert [h.record_id for h in search.search("КИЙКАМИ").hits] == [interview.id]

    # Revised: a second revision, the first kept.
    revised_data = dict(interview.data)
    revised_data["narrative"] = interview.data["narrative"] + " Свідок бачив побиття."
    revised = service.update(interview.id, revised_data, expected_revision=1)
    assert revised.revision == 2
    assert revised.created_at == interview.created_at
    assert revised.updated_at > interview.updated_at
    assert [h.record_id for h in search.search("свідок побиття").hits] == [interview.id]

    history = service.history(interview.id)
    assert [v.revision for v in history] == [1, 2]
    for version in history:
        assert version.content_hash == hashlib.sha256(version.canonical).hexdigest()
        assert version.origin == "local"
        assert version.doc["id"] == interview.id
    assert history[0].doc["data"]["narrative"] == interview.data["narrative"]
    assert history[1].doc["data"]["narrative"].endswith("Свідок бачив побиття.")

    report = AuditService(new_vault).verify()
    assert report.ok
    assert report.own.count == 6  # five creations and one update
    assert report.own.versions_checked == 6
    entries = AuditService(new_vault).entries_for(interview.id)
    assert [(e.action, e.revision) for e in entries] == [
        ("record.create", 1),
        ("record.update", 2),
    ]
    assert entries[1].content_hash == history[1].content_hash


def test_invalid_data_names_the_field_and_saves_nothing(new_vault: Vault, scene: Scene) -> None:
    before = counts(new_vault)
    bad = visit_data(scene.facility.id)
    del bad["visit_date"]
    bad["areas"][0]["occupants"] = "багато"
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", bad)
    fields = {issue.field for issue in info.value.issues}
    assert "visit_date" in fields
    assert "areas[0].occupants" in fields
    assert counts(new_vault) == before


def test_unknown_form_is_refused(new_vault: Vault) -> None:
    with pytest.raises(FieldkitError) as info:
        RecordService(new_vault).add("diary", {"x": 1})
    assert info.value.code == ErrorCode.TEMPLATE_UNKNOWN


def test_references_must_exist_and_have_the_right_type(new_vault: Vault, scene: Scene) -> None:
    before = counts(new_vault)
    missing = "5d0c7a3e-1f2b-4c5d-8e9f-0a1b2c3d4e5f"
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", visit_data(missing))
    assert [(i.field, i.reason) for i in info.value.issues] == [
        ("facility", "refers to a record that does not exist")
    ]
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", visit_data(scene.person.id))
    assert info.value.issues[0].field == "facility"
    assert info.value.issues[0].reason == "refers to a record of the wrong type"
    assert counts(new_vault) == before


def test_stale_revision_is_refused(new_vault: Vault, scene: Scene) -> None:
    data = dict(scene.person.data)
    scene.service.update(scene.person.id, {**data, "occupation": "водій"}, 1)
    before = counts(new_vault)
    with pytest.raises(FieldkitError) as info:
        scene.service.update(scene.person.id, {**data, "occupation": "вчитель"}, 1)
    assert info.value.code == ErrorCode.STALE_REVISION
    assert dict(info.value.params) == {"id": scene.person.id, "current": 2, "edited": 1}
    assert counts(new_vault) == before
    assert scene.service.get(scene.person.id).data["occupation"] == "водій"


def test_saving_unchanged_data_makes_no_revision(new_vault: Vault, scene: Scene) -> None:
    before = counts(new_vault)
    same = scene.service.update(scene.facility.id, dict(scene.facility.data), 1)
    assert same.revision == 1
    assert counts(new_vault) == before


def test_confidential_flag_is_kept_and_changed(new_vault: Vault, scene: Scene) -> None:
    secret = scene.service.add("person", person_data("W-018"), confidential=True)
    assert secret.confidential
    again = scene.service.update(secret.id, {**secret.data, "occupation": "лікар"}, 1)
    assert again.confidential
    opened = scene.service.update(again.id, dict(again.data), 2, confidential=False)
    assert opened.revision == 3
    assert not opened.confidential
    assert [v.doc["confidential"] for v in scene.service.history(secret.id)] == [True, True, False]
    flt = RecordFilters(types=("person",), confidential=True)
    assert scene.service.count(flt) == 0


def test_delete_is_a_tombstone(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    search = SearchService(new_vault)
    assert search.search("пліснява").hits
    # The interview refers to the visit: deleting it needs force (see test_records_refs.py).
    deleted = service.delete(scene.visit.id, expected_revision=1, force=True)
    assert deleted.deleted
    assert deleted.revision == 2
    assert service.get(scene.visit.id).deleted
    assert scene.visit.id not in {r.id for r in service.list()}
    assert service.count(RecordFilters(types=("visit",))) == 0
    assert service.count(RecordFilters(types=("visit",), include_deleted=True)) == 1
    assert search.search("пліснява").hits == ()
    history = service.history(scene.visit.id)
    assert [(v.revision, v.deleted) for v in history] == [(1, False), (2, True)]
    assert history[1].doc["data"] == history[0].doc["data"]
    assert (scene.visit.id, scene.facility.id, "visit_facility", "") not in _links(
        service, scene.visit
    )
    with pytest.raises(FieldkitError) as info:
        service.update(scene.visit.id, dict(scene.visit.data), 2)
    assert info.value.code == ErrorCode.RECORD_DELETED
    with pytest.raises(FieldkitError) as info:
        service.delete(scene.visit.id, 2)
    assert info.value.code == ErrorCode.RECORD_DELETED
    # A deleted record cannot be referred to any more.
    with pytest.raises(RecordValidationError, match="deleted record"):
        service.add("interview", {**interview_data(scene.person.id), "visit": scene.visit.id})
    assert AuditService(new_vault).verify().ok


def test_unknown_and_malformed_ids(new_vault: Vault) -> None:
    service = RecordService(new_vault)
    for value in ("5d0c7a3e-1f2b-4c5d-8e9f-0a1b2c3d4e5f", "not-an-id", "' OR 1=1 --"):
        with pytest.raises(FieldkitError) as info:
            service.get(value)
        assert info.value.code == ErrorCode.RECORD_NOT_FOUND


def test_derived_links_follow_the_data(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    data = dict(scene.interview.data)
    data.pop("cases")
    data.pop("visit")
    service.update(scene.interview.id, data, 1)
    kinds = {kind for _f, _t, kind, _r in _links(service, scene.interview)}
    assert kinds == {"interview_person"}
    # A case that names a victim gives a person-case link with the role.
    case = service.get(scene.case.id)
    case_data = {**case.data, "acts": [{"victim": scene.person.id, "act_type": "torture"}]}
    service.update(case.id, case_data, 1)
    assert (scene.person.id, case.id, "person_case", "victim_direct") in _links(service, case)


def test_explicit_person_case_link_with_role(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    witness = service.add("person", person_data("W-021"))
    link = service.link_person(witness.id, scene.case.id, "witness_eye")
    assert (link.kind, link.role, link.source) == ("person_case", "witness_eye", "explicit")
    assert (witness.id, scene.case.id, "person_case", "witness_eye") in _links(service, scene.case)
    # Linking twice changes nothing.
    service.link_person(witness.id, scene.case.id, "witness_eye")
    assert len([lk for lk in service.links(witness.id) if lk.kind == "person_case"]) == 1
    with pytest.raises(FieldkitError) as info:
        service.link_person(witness.id, scene.case.id, "hero")
    assert info.value.code == ErrorCode.INVALID_ARGUMENT
    with pytest.raises(FieldkitError) as info:
        service.link_person(scene.case.id, witness.id, "witness_eye")
    assert info.value.code == ErrorCode.RECORD_WRONG_TYPE
    assert info.value.message() == (f"{scene.case.id} is a case record, not a person record.")
    assert service.unlink_person(witness.id, scene.case.id, "witness_eye")
    assert not service.unlink_person(witness.id, scene.case.id, "witness_eye")
    assert not [lk for lk in service.links(witness.id) if lk.kind == "person_case"]
    actions = [e.action for e in AuditService(new_vault).entries_for(witness.id)]
    assert actions == ["record.create", "record.link", "record.unlink"]
    assert AuditService(new_vault).verify().ok


def test_list_count_filters_and_pages(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    everything = service.list()
    assert len(everything) == 5
    assert [r.updated_at for r in everything] == sorted(
        (r.updated_at for r in everything), reverse=True
    )
    assert everything[0].id == scene.interview.id
    assert service.count() == 5
    assert [r.id for r in service.list(RecordFilters(types=("visit",)))] == [scene.visit.id]
    assert service.count(RecordFilters(facility_id=scene.facility.id)) == 1
    assert service.count(RecordFilters(status="active")) == 1
    march = RecordFilters(date_from="2026-03-01", date_to="2026-03-13")
    assert [r.id for r in service.list(march)] == [scene.visit.id]
    assert service.count(RecordFilters(date_from="2026-03-13")) == 1  # the interview
    assert service.count(RecordFilters(date_to="2026-02-28")) == 0
    first = service.list(limit=2)
    second = service.list(offset=2, limit=2)
    third = service.list(offset=4, limit=2)
    assert [r.id for r in first + second + third] == [r.id for r in everything]
    by_title = service.list(order="title")
    assert [r.title for r in by_title] == sorted(r.title for r in by_title)
    with pytest.raises(FieldkitError):
        service.list(limit=0)
    with pytest.raises(FieldkitError):
        service.list(offset=-1)


def test_stored_versions_are_append_only(new_vault: Vault, scene: Scene) -> None:
    for statement in (
        "UPDATE record_versions SET saved_at = 'forged'",
        "DELETE FROM record_versions",
    ):
        with pytest.raises(Exception, match="append-only"), new_vault.session() as s:
            s.execute(text(statement))
    assert AuditService(new_vault).verify().ok


def _tampered_report(vault: Vault, *statements: tuple[str, tuple[Any, ...]]) -> list[str]:
    with raw_db(vault) as conn:
        for sql, params in statements:
            conn.execute(sql, params)
    report = AuditService(vault).verify()
    assert not report.ok
    return [p.reason for p in report.own.problems]


@pytest.mark.sqlcipher_only  # a hub refuses unsealed values: tests/hub/test_hub_sealing.py
def test_edited_version_bytes_are_found(new_vault: Vault, scene: Scene) -> None:
    with new_vault.session() as s:
        doc = s.execute(
            select(RecordVersionRow.doc).where(RecordVersionRow.record_id == scene.interview.id)
        ).scalar_one()
    forged = bytes(doc).replace("гумовими".encode(), "дерев'яними".encode())
    reasons = _tampered_report(
        new_vault,
        ("UPDATE record_versions SET doc = ? WHERE record_id = ?", (forged, scene.interview.id)),
    )
    assert any("was altered" in r and scene.interview.id in r for r in reasons)


@pytest.mark.sqlcipher_only  # a hub refuses unsealed values: tests/hub/test_hub_sealing.py
def test_edited_version_with_matching_hash_is_found(new_vault: Vault, scene: Scene) -> None:
    with new_vault.session() as s:
        doc = json.loads(
            s.execute(
                select(RecordVersionRow.doc).where(RecordVersionRow.record_id == scene.person.id)
            ).scalar_one()
        )
    doc["data"]["pseudonym"] = "W-999"
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(forged).hexdigest()
    reasons = _tampered_report(
        new_vault,
        (
            "UPDATE record_versions SET doc = ?, content_hash = ? WHERE record_id = ?",
            (forged, digest, scene.person.id),
        ),
        ("UPDATE records SET content_hash = ? WHERE id = ?", (digest, scene.person.id)),
    )
    assert any("no matching audit entry" in r for r in reasons)
    assert any("does not match its saved version" in r for r in reasons)


@pytest.mark.sqlcipher_only  # a hub refuses unsealed values: tests/hub/test_hub_sealing.py
def test_edited_current_state_is_found(new_vault: Vault, scene: Scene) -> None:
    reasons = _tampered_report(
        new_vault,
        (
            "UPDATE records SET data = ? WHERE id = ?",
            (json.dumps({"pseudonym": "W-999"}), scene.person.id),
        ),
    )
    assert reasons == [
        f"the current state of record {scene.person.id} does not match its saved version"
    ]


def test_removed_audit_entry_of_a_version_is_found(new_vault: Vault, scene: Scene) -> None:
    # Removing the newest entry leaves no gap in the chain, but the version has lost its entry.
    reasons = _tampered_report(
        new_vault, ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)", ())
    )
    assert any(scene.interview.id in r and "no matching audit entry" in r for r in reasons)


def test_create_many_writes_what_create_writes(new_vault: Vault) -> None:
    from fieldkit.domain.validation import validate_record
    from fieldkit.storage.records import RecordStore

    store = RecordStore(new_vault.device_id)
    with new_vault.session() as s:
        [facility_id] = store.create_many(
            s, [("facility", validate_record("facility", facility_data()), False)]
        )
    visit = validate_record("visit", visit_data(facility_id))
    person = validate_record("person", person_data())
    with new_vault.session() as s:
        ids = store.create_many(s, [("visit", visit, False), ("person", person, True)])
    service = RecordService(new_vault)
    made = [service.get(i) for i in ids]
    assert [(r.type, r.revision, r.confidential) for r in made] == [
        ("visit", 1, False),
        ("person", 1, True),
    ]
    assert made[0].facility_id == facility_id
    assert (ids[0], facility_id, "visit_facility", "") in _links(service, made[0])
    assert [h.record_id for h in SearchService(new_vault).search("пліснява").hits] == [ids[0]]
    report = AuditService(new_vault).verify()
    assert report.ok
    assert report.own.versions_checked == 3
    with new_vault.session() as s:
        assert [v.change_seq for v in store.versions_since(s, 0)] == [1, 2, 3]

    before = counts(new_vault)
    missing = validate_record("visit", visit_data("5d0c7a3e-1f2b-4c5d-8e9f-0a1b2c3d4e5f"))
    with pytest.raises(RecordValidationError) as info, new_vault.session() as s:
        store.create_many(s, [("person", person, False), ("visit", missing, False)])
    assert info.value.issues[0].field == "[1].facility"
    assert counts(new_vault) == before


def test_profile_check_includes_the_audit_chain(new_vault: Vault, scene: Scene) -> None:
    from fieldkit.services.audit import problem_lines
    from fieldkit.services.profile import check_profile

    assert problem_lines(new_vault) == []
    assert check_profile(new_vault).extra["audit"] == []
    with raw_db(new_vault) as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 2")
    lines = problem_lines(new_vault)
    # the entry is named; the signed checkpoint the first check left saw the change too
    assert lines[0] == "audit entry 2: the entry was altered after it was written"
    assert [line for line in lines[1:] if "differ from the signed checkpoint" not in line] == []
    assert problem_lines(new_vault, full=True) == lines[:1]
    report = check_profile(new_vault)
    assert not report.ok
    assert report.extra["audit"] == lines


def test_a_save_that_loses_a_race_is_stale(
    new_vault: Vault, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer saves between our revision check and our write: ours must not land."""
    from fieldkit.storage.records import RecordStore

    data = dict(scene.person.data)
    original = RecordStore._editable
    raced = []

    def racing(self: RecordStore, session: Any, record_id: str, expected: int) -> Any:
        row = original(self, session, record_id, expected)
        if not raced:
            raced.append(True)
            RecordService(new_vault).update(record_id, {**data, "occupation": "водій"}, 1)
        return row

    monkeypatch.setattr(RecordStore, "_editable", racing)
    with pytest.raises(FieldkitError) as info:
        scene.service.update(scene.person.id, {**data, "occupation": "вчитель"}, 1)
    assert info.value.code == ErrorCode.STALE_REVISION
    assert dict(info.value.params) == {"id": scene.person.id, "current": 2, "edited": 1}
    assert scene.service.get(scene.person.id).data["occupation"] == "водій"
    assert [v.revision for v in scene.service.history(scene.person.id)] == [1, 2]
    assert AuditService(new_vault).verify().ok

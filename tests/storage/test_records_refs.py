"""References that must point somewhere: evidence links, records in use, one-pass validation,
and the light list rows the desktop list reads."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError, RecordValidationError
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import get_translator
from fieldkit.services.audit import AuditService
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordFilters, RecordService, RecordSummary
from fieldkit.storage.records import RecordStore
from fieldkit.storage.vault import Vault
from tests.storage.test_records import Scene
from tests.storage.test_records_samples import (
    facility_data,
    interview_data,
    person_data,
    visit_data,
)

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")

MISSING = "0b7d1f60-0000-4000-8000-000000000001"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def recommendation_data(facility_id: str, visit_id: str) -> dict[str, object]:
    data = json.loads((SAMPLES / "recommendation.json").read_text(encoding="utf-8"))
    data["facility"] = facility_id
    data["origin_visit"] = visit_id
    data.pop("follow_up")
    return dict(data)


@pytest.fixture
def scene(new_vault: Vault) -> Scene:
    return Scene(new_vault)


def _evidence(vault: Vault, tmp_path: Path, name: str = "photo.bin") -> str:
    source = tmp_path / name
    source.write_bytes(uuid.uuid4().bytes * 64)
    return EvidenceService(vault).add(source, make_preview=False).item.id


def _issues(exc: RecordValidationError) -> dict[str, str]:
    return {issue.field: issue.reason for issue in exc.issues}


# --- evidence links ---------------------------------------------------------------------------


def test_evidence_link_to_a_missing_item_is_refused_with_its_path(scene: Scene) -> None:
    data = visit_data(scene.facility.id)
    data["areas"][0]["photos"] = [MISSING]
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", data)
    assert _issues(info.value) == {
        "areas[0].photos[0]": "refers to an evidence item that is not in this profile"
    }
    uk = info.value.message(get_translator("uk"))
    assert uk == "areas[0].photos[0]: посилається на доказ, якого немає в цьому профілі"
    assert scene.service.count(RecordFilters(types=("visit",))) == 1  # nothing saved


def test_evidence_link_to_a_stored_item_is_kept_and_linked(
    new_vault: Vault, scene: Scene, tmp_path: Path
) -> None:
    photo = _evidence(new_vault, tmp_path)
    data = visit_data(scene.facility.id)
    data["areas"][0]["photos"] = [photo]
    visit = scene.service.add("visit", data)
    assert visit.data["areas"][0]["photos"] == [photo]
    assert (visit.id, photo, "visit_evidence") in {
        (lk.from_id, lk.to_id, lk.kind) for lk in scene.service.links(visit.id)
    }
    # An update that swaps the photo for a missing one is refused; the saved revision stays.
    data["areas"][0]["photos"] = [photo, MISSING]
    with pytest.raises(RecordValidationError) as info:
        scene.service.update(visit.id, data, 1)
    assert list(_issues(info.value)) == ["areas[0].photos[1]"]
    assert scene.service.get(visit.id).revision == 1


def test_a_malformed_evidence_id_is_a_field_problem(scene: Scene) -> None:
    data = visit_data(scene.facility.id)
    data["areas"][0]["photos"] = ["IMG_0042.jpg"]
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", data)
    assert _issues(info.value) == {"areas[0].photos[0]": "must be an evidence item id (UUID)"}


def test_summaries_of_name_deleted_and_unknown_records(scene: Scene) -> None:
    service = scene.service
    service.delete(scene.interview.id, 1)
    found = service.summaries_of([scene.interview.id, scene.person.id, MISSING])
    assert set(found) == {scene.interview.id, scene.person.id}
    assert found[scene.interview.id].deleted
    assert found[scene.person.id].title == "W-017"


def test_injury_photos_of_an_interview_are_checked(new_vault: Vault, scene: Scene) -> None:
    data = interview_data(scene.person.id, scene.case.id)
    data["injuries"][0]["photos"] = [MISSING]
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("interview", data)
    assert list(_issues(info.value)) == ["injuries[0].photos[0]"]


def test_bulk_entry_checks_evidence_links_too(new_vault: Vault, scene: Scene) -> None:
    data = visit_data(scene.facility.id)
    data["areas"][1]["photos"] = [MISSING]
    store = RecordStore(new_vault.device_id)
    with pytest.raises(RecordValidationError) as info, new_vault.session() as s:
        store.create_many(s, [("person", person_data("W-020"), False), ("visit", data, False)])
    assert list(_issues(info.value)) == ["[1].areas[1].photos[0]"]
    assert scene.service.count(RecordFilters(types=("person",))) == 1


# --- one pass ---------------------------------------------------------------------------------


def test_field_and_reference_problems_are_reported_together(scene: Scene) -> None:
    data = visit_data(scene.facility.id)
    data["facility"] = str(uuid.uuid4())  # a facility that does not exist
    data["total_present"] = "many"  # a field problem
    data["areas"][0]["floor_area_m2"] = -3  # a field problem inside the row ...
    data["areas"][0]["photos"] = [MISSING]  # ... next to a dangling photo in the same row
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", data)
    found = _issues(info.value)
    assert set(found) == {
        "total_present",
        "areas[0].floor_area_m2",
        "facility",
        "areas[0].photos[0]",
    }
    assert found["facility"] == "refers to a record that does not exist"


def test_update_reports_a_deleted_reference_with_the_field_problems(scene: Scene) -> None:
    other = scene.service.add("person", person_data("W-031"))
    scene.service.delete(other.id, 1)
    data = dict(interview_data(scene.person.id, scene.case.id))
    data["interviewee"] = other.id
    data["interview_date"] = "someday"
    with pytest.raises(RecordValidationError) as info:
        scene.service.update(scene.interview.id, data, 1)
    assert _issues(info.value) == {
        "interview_date": "date must be YYYY-MM-DD, YYYY-MM or YYYY",
        "interviewee": "refers to a deleted record",
    }


def test_paths_name_the_row_as_entered_even_after_blank_rows(scene: Scene) -> None:
    data = visit_data(scene.facility.id)
    data["areas"].insert(0, {"label": "", "notes": ""})  # a row left blank is dropped
    data["areas"][2]["photos"] = [MISSING]
    with pytest.raises(RecordValidationError) as info:
        scene.service.add("visit", data)
    assert list(_issues(info.value)) == ["areas[2].photos[0]"]


# --- records in use ---------------------------------------------------------------------------


def test_delete_of_a_record_in_use_is_refused_with_the_count(
    new_vault: Vault, scene: Scene
) -> None:
    service = scene.service
    second = service.add("visit", {**visit_data(scene.facility.id), "reference": "V-2026-015"})
    with pytest.raises(FieldkitError) as info:
        service.delete(scene.facility.id, 1)
    assert info.value.code == ErrorCode.RECORD_IN_USE
    assert info.value.params["count"] == 2
    message = info.value.message()
    assert "number of records: 2" in message
    assert "--force" in message
    assert scene.visit.id in message
    assert second.id in message
    uk = info.value.message(get_translator("uk"))
    assert "кількість записів: 2" in uk
    assert f"візит {second.id}" not in uk
    assert not service.get(scene.facility.id).deleted
    assert {r.id for r in service.referrers(scene.facility.id)} == {scene.visit.id, second.id}

    # A person named by an interview, a visit named by an interview and a recommendation.
    recommendation = service.add(
        "recommendation", recommendation_data(scene.facility.id, scene.visit.id)
    )
    for record_id, expected in (
        (scene.person.id, {scene.interview.id}),
        (scene.visit.id, {scene.interview.id, recommendation.id}),
    ):
        with pytest.raises(FieldkitError) as info:
            service.delete(record_id, 1)
        assert info.value.code == ErrorCode.RECORD_IN_USE
        assert {r.id for r in service.referrers(record_id)} == expected


def test_a_record_is_free_once_its_referrers_are_gone(scene: Scene) -> None:
    service = scene.service
    # The interview refers to the person, the case and the visit; nothing refers to it.
    assert service.referrers(scene.interview.id) == []
    service.delete(scene.interview.id, 1)
    assert service.referrers(scene.person.id) == []
    assert service.delete(scene.person.id, 1).deleted
    # Pointing the visit at another facility frees the first one.
    other = service.add("facility", {**facility_data(), "official_name": "СІЗО №2"})
    service.update(scene.visit.id, {**scene.visit.data, "facility": other.id}, 1)
    assert [r.id for r in service.referrers(other.id)] == [scene.visit.id]
    assert service.referrers(scene.facility.id) == []
    assert service.delete(scene.facility.id, 1).deleted


def test_forced_delete_is_explicit_and_audited(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    deleted = service.delete(scene.facility.id, 1, force=True)
    assert deleted.deleted
    entry = AuditService(new_vault).entries_for(scene.facility.id)[-1]
    assert entry.action == "record.delete"
    assert entry.details["referred_by"] == 1
    # The visit keeps its reference; its next save asks for it to be changed.
    with pytest.raises(RecordValidationError) as info:
        service.update(scene.visit.id, {**scene.visit.data, "findings": "Оновлено."}, 1)
    assert _issues(info.value) == {"facility": "refers to a deleted record"}
    assert AuditService(new_vault).verify().ok


def test_person_referred_to_by_a_case_is_in_use(scene: Scene) -> None:
    """A case naming a person gives a person→case link owned by the case: still a referrer."""
    service = scene.service
    victim = service.add("person", person_data("W-040"))
    case = service.add(
        "case",
        {
            "title": "Справа W-040",
            "case_type": "other",
            "monitoring_status": "active",
            "acts": [{"victim": victim.id, "act_type": load_vocabulary("act_types").codes()[0]}],
        },
    )
    assert [r.id for r in service.referrers(victim.id)] == [case.id]
    with pytest.raises(FieldkitError) as info:
        service.delete(victim.id, 1)
    assert info.value.code == ErrorCode.RECORD_IN_USE


def test_explicit_links_do_not_block_deletion(scene: Scene) -> None:
    service = scene.service
    witness = service.add("person", person_data("W-050"))
    service.link_person(witness.id, scene.case.id, "witness_eye")
    assert service.referrers(witness.id) == []
    assert service.delete(witness.id, 1).deleted


# --- light list rows ----------------------------------------------------------------------------


def test_list_summaries_match_the_full_list(new_vault: Vault, scene: Scene) -> None:
    service = scene.service
    service.add("facility", {**facility_data(), "official_name": "СІЗО №2"}, confidential=True)
    for filters in (
        None,
        RecordFilters(types=("visit", "facility")),
        RecordFilters(facility_id=scene.facility.id),
        RecordFilters(date_from="2026-03-01", date_to="2026-03-31"),
        RecordFilters(confidential=True),
    ):
        for order in ("updated_desc", "updated_asc", "created_desc", "title"):
            full = service.list(filters, order=order, limit=3, offset=1)
            light = service.list_summaries(filters, order=order, limit=3, offset=1)
            assert [
                (
                    r.id,
                    r.type,
                    r.title,
                    r.status,
                    r.revision,
                    r.updated_at,
                    r.created_at,
                    r.facility_id,
                    r.date_from,
                    r.date_to,
                    r.confidential,
                    r.deleted,
                )
                for r in full
            ] == [
                (
                    r.id,
                    r.type,
                    r.title,
                    r.status,
                    r.revision,
                    r.updated_at,
                    r.created_at,
                    r.facility_id,
                    r.date_from,
                    r.date_to,
                    r.confidential,
                    r.deleted,
                )
                for r in light
            ]
    rows = service.list_summaries(RecordFilters(types=("visit",)))
    assert isinstance(rows[0], RecordSummary)
    assert not hasattr(rows[0], "data")


def test_list_summaries_do_not_read_the_data(new_vault: Vault, scene: Scene) -> None:
    """The row holding the data may be anything: the light list never reads the column."""
    from tests.storage.test_audit import raw_db

    with raw_db(new_vault) as conn:
        conn.execute("UPDATE records SET data = 'not json' WHERE id = ?", (scene.visit.id,))
    rows = RecordService(new_vault).list_summaries(RecordFilters(types=("visit",)))
    assert [r.title for r in rows] == ["V-2026-014"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"offset": -1}, "the offset must be 0 or more (got -1)"),
        ({"limit": 0}, "the limit must be between 1 and 1000 (got 0)"),
        ({"limit": 5000}, "the limit must be between 1 and 1000 (got 5000)"),
        ({"order": "size"}, "unknown order 'size'"),
    ],
)
def test_paging_errors_say_what_is_wrong(
    new_vault: Vault, kwargs: dict[str, object], expected: str
) -> None:
    service = RecordService(new_vault)
    for method in (service.list, service.list_summaries):
        with pytest.raises(FieldkitError) as info:
            method(**kwargs)  # type: ignore[arg-type]
        assert info.value.code == ErrorCode.INVALID_ARGUMENT
        assert expected in info.value.message()


@pytest.mark.parametrize("value", ["x", "2026-13-01", "2026-02-30", "26-03-01"])
def test_date_filters_name_the_bound_not_the_parameter(value: str) -> None:
    with pytest.raises(FieldkitError) as info:
        RecordFilters(date_from=value)
    message = info.value.message()
    assert "date_from" not in message
    assert "the start date of the range must be a date like 2026-03-14" in message
    with pytest.raises(FieldkitError) as info:
        RecordFilters(date_to=value)
    assert "the end date of the range" in info.value.message()

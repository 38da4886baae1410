"""What the record commands say, in English and Ukrainian: labels instead of codes, option-named
errors, translated reasons. Runs the real command line in this process on a real profile."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldkit import i18n
from fieldkit.cli import build_parser, main
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.records import CaseService, RecordService
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE
from tests.storage.test_records_samples import (
    facility_data,
    interview_data,
    person_data,
    visit_data,
)

MISSING = "0b7d1f60-0000-4000-8000-000000000001"


class Profile:
    def __init__(self, path: Path, ids: dict[str, str]) -> None:
        self.path = path
        self.ids = ids


@pytest.fixture
def profile(
    tmp_path: Path, fast_kdf: KdfParams, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Profile]:
    path = tmp_path / "profile"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    try:
        service = RecordService(vault)
        facility = service.add("facility", facility_data())
        person = service.add("person", person_data())
        case = CaseService(vault).add("Катування у відділі поліції")
        visit_input = visit_data(facility.id)
        del visit_input["areas"][1]["occupants"]  # an area whose m² per person is unknown
        visit = service.add("visit", visit_input)
        interview = service.add("interview", interview_data(person.id, case.id))
        ids = {
            "facility": facility.id,
            "person": person.id,
            "case": case.id,
            "visit": visit.id,
            "interview": interview.id,
        }
    finally:
        vault.lock()
    for key in ("FIELDKIT_LANG", "FIELDKIT_JSON"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FIELDKIT_PROFILE", str(path))
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", STRONG_PASSPHRASE)
    yield Profile(path, ids)
    i18n.set_language("en")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refusing an option
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


# --- record show ------------------------------------------------------------------------------


def test_show_gives_labels_with_codes_and_computed_values_in_english(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--lang", "en", "record", "show", profile.ids["visit"])
    assert code == 0
    assert "Template:  Visit to a place of deprivation of liberty (visit, version 2)" in out
    assert "Mode: On site (on_site)" in out
    assert "Facility type: Temporary holding facility (ITT/IVS) (temporary_holding)" in out
    assert "Date of the visit: 2026-03-12\n" in out
    assert "Occupancy: 130 %" in out
    assert "Admission delay: 45 min" in out
    assert "Floor area per person: 2 m²" in out
    # the CPT minimum says which checks failed and what area the occupants would need
    assert (
        "CPT minimum standard (living space): Below the CPT minimum: floor area: 6 persons need "
        "at least 24 m²; sanitary annex not fully partitioned in a shared room; the room holds "
        "at most 3 persons under the minimum (below)"
    ) in out
    assert "Occupants above places or beds: 2 occupants more than places or beds (2)" in out
    assert "Floor area per person: —" in out  # the second area has no occupant count
    for raw in ("True", "None", "occupancy_percent", "areas[0]", "cpt_flag", "(exact)"):
        assert raw not in out
    assert f"→ facility {profile.ids['facility']}" in out
    facility = profile.ids["facility"]
    assert f"Facility: {facility} (Ізолятор тимчасового тримання №1 " in out


def test_show_in_ukrainian_has_no_ambiguous_labels(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--lang", "uk", "record", "show", profile.ids["visit"])
    assert code == 0
    assert "Шаблон:" in out
    assert "Спосіб проведення: Виїзний (on_site)" in out
    assert out.count("Форма") == 0
    assert "Наповненість (% від ліміту наповнення): 130 %" in out
    assert "Затримка допуску: 45 хв" in out
    assert "Площа на одну особу: 2 м²" in out
    assert (
        "Мінімальний стандарт ЄКПТ (житлова площа): Нижче мінімуму ЄКПТ: площа: для 6 осіб "
        "потрібно щонайменше 24 м²"
    ) in out
    assert "Особистий простір за практикою ЄСПЛ: Менше 3 м² на особу" in out
    assert "Довжина: 4 м" in out
    assert "Тип: Камера (cell)" in out
    assert f"→ установа {profile.ids['facility']}" in out
    assert "True" not in out
    assert "None" not in out


def test_show_consent_has_one_heading_and_labelled_decisions(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--lang", "en", "record", "show", profile.ids["interview"])
    assert code == 0
    assert out.count("Consent per scope") == 1
    assert "Take part in the interview (interview): Granted (granted), 2026-03-14" in out
    assert "(publication_with_name): Declined (declined)" in out
    assert "Connection to the events: " in out
    assert "(victim)" in out
    assert f"→ person {profile.ids['person']} — " in out  # the role, labelled


def test_show_writes_decimals_as_the_language_does(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--lang", "uk", "record", "show", profile.ids["interview"])
    assert code == 0
    assert ": 0,42\n" in out  # the injury mark's position on the body diagram
    assert "0.42" not in out
    code, out, _err = run(capsys, "--lang", "en", "record", "show", profile.ids["interview"])
    assert ": 0.42\n" in out


def test_show_lists_who_refers_to_a_record(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--lang", "en", "record", "show", profile.ids["facility"])
    assert code == 0
    assert f"← visit {profile.ids['visit']}" in out


# --- messages ---------------------------------------------------------------------------------


def test_case_show_of_a_person_says_what_it_is(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    person = profile.ids["person"]
    code, _out, err = run(capsys, "--lang", "en", "case", "show", person)
    assert code == 1
    assert err.strip() == f"fieldkit: {person} is a person record, not a case record."
    code, _out, err = run(capsys, "--lang", "uk", "case", "show", person)
    assert err.strip() == f"fieldkit: {person} — запис типу «особа», а не «справа»."


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ("record", "list", "--from", "x"),
            "argument --from: 'x' is not a date like 2026-03-14 (YYYY-MM-DD)",
        ),
        (("record", "list", "--to", "2026-02-30"), "argument --to: '2026-02-30' is not a date"),
        (("record", "list", "--limit", "-1"), "argument --limit: must be between 1 and 1000"),
        (("record", "list", "--limit", "lots"), "argument --limit: 'lots' is not a whole number"),
        (("case", "list", "--offset", "-5"), "argument --offset: must be 0 or more (got -5)"),
        (("search", "x", "--limit", "0"), "argument --limit: must be between 1 and 1000 (got 0)"),
        (("audit", "log", "--limit", "0"), "argument --limit: must be between 1 and 1000"),
        (("record", "delete", "x", "--revision", "0"), "argument --revision: a revision is 1"),
    ],
)
def test_option_errors_name_the_option(
    profile: Profile, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    code, _out, err = run(capsys, "--lang", "en", *argv)
    assert code == 2
    assert expected in err
    assert "date_from" not in err
    assert "offset/limit" not in err


def test_option_errors_are_translated(profile: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--lang", "uk", "record", "list", "--limit", "-1")
    assert code == 2
    assert "має бути від 1 до 1000 (отримано -1)" in err
    code, _out, err = run(capsys, "--lang", "ru", "record", "list", "--from", "вчера")
    assert "«вчера» не является датой вида 2026-03-14" in err


def test_link_role_error_is_translated(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    person, case = profile.ids["person"], profile.ids["case"]
    code, _out, err = run(capsys, "--lang", "uk", "record", "link", person, case, "--role", "hero")
    assert code == 1
    assert "невідома роль «hero» (виберіть одну з: " in err
    assert "witness_eye" in err
    assert "choose" not in err
    code, _out, err = run(
        capsys, "--lang", "en", "record", "link", case, person, "--role", "source"
    )
    assert code == 1
    assert f"{case} is a case record, not a person record." in err


@pytest.mark.parametrize(
    ("content", "uk_reason"),
    [
        ('{"pseudonym": "W-1",}', "рядок 1, стовпець 21: очікується назва поля в подвійних лапках"),
        ('{"pseudonym": "W-1" "sex": "male"}', "рядок 1, стовпець 21: бракує коми"),
        ('{"pseudonym" "W-1"}', "рядок 1, стовпець 14: бракує двокрапки після назви поля"),
        ('{"pseudonym": "W-1', "рядок 1, стовпець 15: текст у лапках не закрито"),
        ('{"pseudonym": }', "рядок 1, стовпець 15: значення пропущене"),
        ('{"pseudonym": "W-1"} x', "рядок 1, стовпець 22: після кінця документа JSON є ще щось"),
        ('{"a": 1, "a": 2}', "ключ"),
        ('{"a": NaN}', "NaN"),
    ],
)
def test_json_problems_are_explained_in_the_users_language(
    profile: Profile,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str,
    uk_reason: str,
) -> None:
    path = write(tmp_path, "bad.json", content)
    code, _out, err = run(
        capsys, "--lang", "uk", "record", "add", "--form", "person", "--file", path
    )
    assert code == 1
    assert f"{path} не є коректним JSON" in err
    assert uk_reason in err
    assert "Expecting" not in err


def test_file_problems_are_explained_in_the_users_language(
    profile: Profile, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "none.json")
    code, _out, err = run(
        capsys, "--lang", "uk", "record", "add", "--form", "person", "--file", missing
    )
    assert code == 1
    assert (
        err.strip()
        == f"fieldkit: Не вдається прочитати файл {missing}: такого файлу або теки немає"
    )
    code, _out, err = run(
        capsys, "--lang", "ru", "record", "add", "--form", "person", "--file", str(tmp_path)
    )
    assert code == 1
    assert err.strip().endswith(": это папка, а не файл")
    assert "Is a directory" not in err
    assert str(tmp_path) in err


# --- delete and references --------------------------------------------------------------------


def test_delete_in_use_is_refused_then_forced(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    facility = profile.ids["facility"]
    code, out, err = run(capsys, "--json", "record", "delete", facility, "--revision", "1")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "record_in_use"
    assert error["params"]["count"] == "1"
    assert "--force" in err
    code, _out, err = run(capsys, "--lang", "uk", "record", "delete", facility, "--revision", "1")
    assert "на нього посилаються чинні записи (кількість записів: 1; візит " in err
    code, out, _err = run(
        capsys, "--json", "record", "delete", facility, "--revision", "1", "--force"
    )
    assert code == 0
    assert json.loads(out)["deleted"] is True
    # The visit still names the facility; its links say the facility was deleted.
    code, out, _err = run(capsys, "--lang", "en", "record", "show", profile.ids["visit"])
    assert code == 0
    facility_line = next(line for line in out.splitlines() if facility in line and "→" in line)
    assert facility_line.endswith("[deleted]")
    field_line = next(line for line in out.splitlines() if line.startswith("  Facility: "))
    assert field_line.startswith(f"  Facility: {facility} (")
    assert field_line.endswith(") [deleted]")
    assert "Ізолятор тимчасового тримання №1" in facility_line


def test_add_reports_field_and_reference_problems_in_one_pass(
    profile: Profile, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = visit_data(profile.ids["facility"])
    data["areas"][0]["photos"] = [MISSING]
    data["total_present"] = "п'ятдесят"
    data["facility"] = profile.ids["person"]  # a person where a facility is wanted
    path = write(tmp_path, "visit.json", data)
    code, out, err = run(capsys, "--json", "record", "add", "--form", "visit", "--file", path)
    assert code == 1
    fields = {i["field"]: i["reason"] for i in json.loads(out)["error"]["issues"]}
    assert fields == {
        "total_present": "must be a number",
        "facility": "refers to a record of the wrong type",
        "areas[0].photos[0]": "refers to an evidence item that is not in this profile",
    }
    assert "(3 problems)" in err


def test_record_list_reads_light_rows(profile: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--json", "record", "list", "--form", "visit")
    assert code == 0
    rows = json.loads(out)["records"]
    assert [r["id"] for r in rows] == [profile.ids["visit"]]
    assert rows[0]["facility_id"] == profile.ids["facility"]
    assert rows[0]["date_from"] == "2026-03-12"
    assert "data" not in rows[0]
    code, out, _err = run(capsys, "--lang", "uk", "record", "list", "--form", "visit")
    assert "візит" in out
    assert "V-2026-014" in out


# --- help -------------------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, deeper in _subparsers(sub):
                    yield f"{name} {inner}", deeper


def test_every_option_and_positional_of_the_record_commands_has_help() -> None:
    parser = build_parser()
    checked = 0
    for name, sub in _subparsers(parser):
        if name.split()[0] not in ("case", "record", "search", "audit"):
            continue
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            checked += 1
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help"
    assert checked > 40

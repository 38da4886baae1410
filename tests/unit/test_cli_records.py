"""The record commands run as a user would: a real `fieldkit` process on a real profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE, cli_env, run_cli
from tests.storage.test_audit import raw_db
from tests.storage.test_records_samples import (
    facility_data,
    interview_data,
    person_data,
    visit_data,
)

pytestmark = pytest.mark.slow  # each command is a fresh process (about a second each)


class Cli:
    def __init__(self, profile: Path, workdir: Path) -> None:
        self.env = cli_env(profile)
        self.workdir = workdir

    def run(self, *args: str) -> Any:
        return run_cli(*args, env=self.env)

    def json(self, *args: str) -> dict[str, Any]:
        result = run_cli("--json", *args, env=self.env)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)  # exactly one JSON document
        assert data["ok"] is True
        return data

    def file(self, name: str, data: Any) -> str:
        path = self.workdir / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return str(path)

    def total(self) -> int:
        return int(self.json("record", "list", "--limit", "1")["total"])


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    profile = tmp_path / "profile"
    tool = Cli(profile, tmp_path)
    result = tool.run("init")
    assert result.returncode == 0, result.stderr
    return tool


def test_enter_search_revise_and_verify_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    case = cli.json("case", "add", "--title", "Катування у відділі поліції")
    case_id = case["id"]
    assert case["record"]["revision"] == 1

    human = cli.run("case", "list")
    assert human.returncode == 0
    assert case_id in human.stdout
    assert "Катування у відділі поліції" in human.stdout

    facility_id = cli.json(
        "record", "add", "--form", "facility", "--file", cli.file("f.json", facility_data())
    )["id"]
    person_id = cli.json(
        "record", "add", "--form", "person", "--file", cli.file("p.json", person_data())
    )["id"]
    visit_id = cli.json(
        "record", "add", "--form", "visit", "--file", cli.file("v.json", visit_data(facility_id))
    )["id"]
    interview = {**interview_data(person_id, case_id), "visit": visit_id}
    added = cli.run("record", "add", "--form", "interview", "--file", cli.file("i.json", interview))
    assert added.returncode == 0, added.stderr
    assert "Created interview" in added.stdout
    interview_id = added.stdout.split()[2]

    found = cli.json("search", "катування")
    assert [hit["id"] for hit in found["hits"]] == [case_id, interview_id]
    assert found["total"] == 2
    assert any("[" in hit["snippet"] for hit in found["hits"])
    by_type = cli.json("search", "сирість", "--form", "visit", "--facility", facility_id)
    assert [hit["id"] for hit in by_type["hits"]] == [visit_id]

    revised = dict(interview)
    revised["narrative"] = interview["narrative"] + " Повторна розмова 20 березня."
    saved = cli.json(
        "record",
        "update",
        interview_id,
        "--revision",
        "1",
        "--file",
        cli.file("i2.json", revised),
    )
    assert saved["record"]["revision"] == 2
    stale = cli.run(
        "record", "update", interview_id, "--revision", "1", "--file", str(tmp_path / "i2.json")
    )
    assert stale.returncode == 1
    assert "changed elsewhere" in stale.stderr
    assert "Traceback" not in stale.stderr

    shown = cli.json("record", "show", interview_id, "--history")
    assert shown["record"]["id"] == interview_id
    assert [v["revision"] for v in shown["history"]] == [1, 2]
    assert shown["record"]["data"]["consent"]["scopes"][0]["status"] == "granted"
    kinds = {link["kind"] for link in shown["links"]}
    assert kinds == {"interview_person", "interview_case", "interview_visit"}
    human_show = cli.run("record", "show", visit_id, "--history")
    assert human_show.returncode == 0
    assert "V-2026-014" in human_show.stdout
    assert "Камера №4" in human_show.stdout
    assert "Occupancy: 130 %" in human_show.stdout
    assert "rev 1" in human_show.stdout

    verified = cli.run("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "intact: 6 entries" in verified.stdout
    assert cli.json("audit", "verify")["versions_checked"] == 6
    # the first verification left a signed checkpoint; --full does not use it
    assert cli.json("audit", "verify")["checkpoint_seq"] == 6
    assert "proven unchanged since the last signed checkpoint" in cli.run("audit", "verify").stdout
    full = cli.json("audit", "verify", "--full")
    assert (full["ok"], full["checkpoint_seq"], full["versions_checked"]) == (True, None, 6)


def test_bad_input_is_explained_and_nothing_is_saved(cli: Cli, tmp_path: Path) -> None:
    assert cli.total() == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"official_name": "ІТТ",\n "facility_type": }', encoding="utf-8")
    result = cli.run("record", "add", "--form", "facility", "--file", str(broken))
    assert result.returncode == 1
    assert "broken.json is not valid JSON: line 2, column 19" in result.stderr

    invalid = {"official_name": "", "facility_type": "castle", "capacity": "сорок"}
    result = cli.run(
        "--json", "record", "add", "--form", "facility", "--file", cli.file("invalid.json", invalid)
    )
    assert result.returncode == 1
    assert "nothing was saved" in result.stderr
    for field in ("official_name", "facility_type", "capacity"):
        assert f"  {field}: " in result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "validation_failed"
    assert {issue["field"] for issue in error["issues"]} == {
        "official_name",
        "facility_type",
        "capacity",
    }

    missing = cli.run("record", "add", "--form", "facility", "--file", str(tmp_path / "none.json"))
    assert missing.returncode == 1
    assert "Cannot read the file" in missing.stderr

    unknown = cli.run("record", "show", "5d0c7a3e-1f2b-4c5d-8e9f-0a1b2c3d4e5f")
    assert unknown.returncode == 1
    assert "No record with id" in unknown.stderr

    query = cli.run("search", '"')
    assert query.returncode == 1
    assert "could not be understood" in query.stderr
    assert cli.total() == 0


def test_audit_verify_reports_tampering(cli: Cli) -> None:
    cli.json("case", "add", "--title", "Справа W-017")
    cli.json("case", "add", "--title", "Справа W-018")
    vault = Vault.unlock(Path(cli.env["FIELDKIT_PROFILE"]), STRONG_PASSPHRASE)
    try:
        with raw_db(vault) as conn:
            conn.execute("UPDATE audit_log SET target_id = 'x' WHERE seq = 1")
    finally:
        vault.lock()
    result = cli.run("audit", "verify")
    assert result.returncode == 1
    assert "NOT intact" in result.stderr
    assert "entry 1: the entry was altered" in result.stderr
    data = json.loads(run_cli("--json", "audit", "verify", env=cli.env).stdout)
    assert data["ok"] is False
    assert data["problems"][0]["seq"] == 1

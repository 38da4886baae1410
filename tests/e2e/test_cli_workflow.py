"""The whole fieldkit story, driven through the real command line as two people would use it.

A coordinator sets up the organisation; a monitor enrols in person (comparison codes), records a
facility, a person, a case, a visit and an interview from the sample files, adds evidence, and
exports a bundle to a "USB stick" folder. The bundle is checked with the standard tools exactly as
docs/bundle-format.md §8 says, then verified and imported by the coordinator, who prints a case
file in Ukrainian and a visit report. The monitor applies the receipt and purges the acknowledged
originals; a later consent withdrawal then travels alone in a second bundle. Finally, every
command shown in docs/user-guide.md must still be accepted by the command line.

Every command runs in its own process (tests/helpers.py: run_cli), with the insecure test key
derivation. The story runs once per module (fixture `story`); each test checks one part of it, so
a failure names the step that broke. Tests that need age, tar, minisign, sha256sum or pdftotext
call require_tool.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers import cli_env, require_tool, run_cli

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CODE_RE = re.compile(r"\b(\d{5} \d{5} \d{5} \d{5} \d{5} \d{5})\b")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CASE_TITLE = "Затримання та катування у відділі поліції, березень 2024"
DEVICE_LABEL = "M-003 laptop"

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"


# --- helpers -----------------------------------------------------------------------------------


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that must succeed; otherwise fail with what it printed."""
    assert result.returncode == 0, (
        f"fieldkit {' '.join(result.args[3:])} exited {result.returncode}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    """--json prints exactly one JSON document on stdout."""
    return json.loads(ok(result))


def failed(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a command that must fail cleanly: exit 1, `fieldkit: …`, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("fieldkit: "), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def comparison_code(text: str) -> str:
    match = CODE_RE.search(text)
    assert match, f"no comparison code (six groups of five digits) in: {text!r}"
    return match.group(1)


def sample(name: str) -> dict[str, Any]:
    data = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def counts(env: dict[str, str]) -> dict[str, int]:
    info = ok_json(run_cli("info", "--json", env=env))
    result = info["counts"]
    assert isinstance(result, dict)
    return result


# --- the story ---------------------------------------------------------------------------------


@dataclass
class Story:
    root: Path
    coord_env: dict[str, str]
    mon_env: dict[str, str]
    usb: Path
    org_card: Path
    org_key: Path
    device_pub: Path
    out: dict[str, Any] = field(default_factory=dict)  # step name -> stdout text or parsed JSON
    ids: dict[str, str] = field(default_factory=dict)  # record and evidence ids by role
    bundle: Path | None = None
    receipt: Path | None = None
    case_pdf: Path | None = None
    visit_pdf: Path | None = None


def _visit_data(facility_id: str) -> dict[str, Any]:
    """visit_uk.json with its references pointed at records of this profile.

    The sample refers to an interview and a recommendation that do not exist yet (the interview
    is linked by a second revision, below) and to evidence photo ids of another profile.
    """
    data = sample("visit_uk.json")
    data["facility"] = facility_id
    for key in ("allegation_records", "interview_records", "recommendations"):
        data.pop(key, None)
    for area in data["areas"]:
        area.pop("photos", None)
    return data


def _interview_data(
    person_id: str, case_id: str, facility_id: str, visit_id: str
) -> dict[str, Any]:
    data = sample("interview_uk.json")
    data["interviewee"] = person_id
    data["cases"] = [case_id]
    data["visit"] = visit_id
    for place in data.get("detention_places", []):
        if "facility" in place:
            place["facility"] = facility_id
    for injury in data["injuries"]:
        injury.pop("photos", None)
    return data


def _run_story(root: Path) -> Story:
    usb = root / "usb"
    usb.mkdir()
    s = Story(
        root=root,
        coord_env=cli_env(root / "coordinator"),
        mon_env=cli_env(root / "monitor"),
        usb=usb,
        org_card=root / "org.pub",
        org_key=root / "org.key",
        device_pub=usb / "device.pub",
    )
    c, m = s.coord_env, s.mon_env

    # Coordinator: profile, organisation keys, card, backup of the decryption identity.
    s.out["coord_init"] = ok_json(run_cli("init", "--role", "coordinator", "--json", env=c))
    s.out["org_init"] = ok_json(
        run_cli("org", "init", "--name", "Громадська організація «Світанок»", "--json", env=c)
    )
    s.out["org_public"] = ok_json(
        run_cli("org", "public", "--out", str(s.org_card), "--json", env=c)
    )
    s.out["export_identity_refused"] = failed(
        run_cli("org", "export-identity", "--out", str(s.org_key), env=c)
    )
    s.out["export_identity"] = ok_json(
        run_cli("org", "export-identity", "--out", str(s.org_key), "--yes", "--json", env=c)
    )

    # Monitor: profile, enrolment (the code is read aloud), coordinator adds the device.
    s.out["mon_init"] = ok_json(run_cli("init", "--json", env=m))
    s.out["enrol"] = ok(run_cli("enrol", str(s.org_card), "--out", str(s.device_pub), env=m))
    s.out["trust_add"] = ok(
        run_cli("trust", "add", str(s.device_pub), "--label", DEVICE_LABEL, env=c)
    )

    # Monitor: records from the sample files, ids adjusted to this profile.
    case = ok_json(
        run_cli(
            "case", "add", "--title", CASE_TITLE, "--type", "torture_allegation", "--json", env=m
        )
    )
    s.ids["case"] = case["id"]
    s.out["case_add"] = case
    for form, name in (("facility", "facility.json"), ("person", "person.json")):
        added = ok_json(
            run_cli("record", "add", "--form", form, "--file", str(SAMPLES / name), "--json", env=m)
        )
        s.ids[form] = added["id"]
        s.out[f"{form}_add"] = added
    visit_file = write_json(root / "visit.json", _visit_data(s.ids["facility"]))
    visit = ok_json(
        run_cli("record", "add", "--form", "visit", "--file", str(visit_file), "--json", env=m)
    )
    s.ids["visit"] = visit["id"]
    s.out["visit_add"] = visit
    interview_input = _interview_data(
        s.ids["person"], s.ids["case"], s.ids["facility"], s.ids["visit"]
    )
    interview_file = write_json(root / "interview.json", interview_input)
    interview = ok_json(
        run_cli(
            "record", "add", "--form", "interview", "--file", str(interview_file), "--json", env=m
        )
    )
    s.ids["interview"] = interview["id"]
    s.out["interview_add"] = interview
    # The visit's second revision names the interview held during it.
    revised = _visit_data(s.ids["facility"])
    revised["interview_records"] = [s.ids["interview"]]
    visit_v2 = write_json(root / "visit-v2.json", revised)
    s.out["visit_update"] = ok_json(
        run_cli(
            "record",
            "update",
            s.ids["visit"],
            "--revision",
            "1",
            "--file",
            str(visit_v2),
            "--json",
            env=m,
        )
    )
    s.out["search"] = ok_json(run_cli("search", "кийком", "--json", env=m))

    # Monitor: evidence (a small photo and a text note), verified in the store.
    photo = root / "injury-back.jpg"
    Image.new("RGB", (96, 64), (180, 40, 60)).save(photo, "JPEG", quality=85)
    note = root / "notes.txt"
    note.write_text("Нотатки M-003 після інтерв'ю W-017.\n", encoding="utf-8")
    s.out["source_sha256"] = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (photo, note)
    }
    added_ev = ok_json(
        run_cli(
            "evidence",
            "add",
            str(photo),
            str(note),
            "--case",
            s.ids["case"],
            "--interview",
            s.ids["interview"],
            "--json",
            env=m,
        )
    )
    s.out["evidence_add"] = added_ev
    by_name = {Path(item["path"]).name: item for item in added_ev["items"]}
    s.ids["photo"] = by_name[photo.name]["id"]
    s.ids["note"] = by_name[note.name]["id"]
    s.out["evidence_verify"] = ok_json(run_cli("evidence", "verify", "--json", env=m))

    # Monitor: the bundle to the stick.
    exported = ok_json(run_cli("export", "--to", str(usb), "--json", env=m))
    s.out["export"] = exported
    s.bundle = Path(exported["path"])

    # Coordinator: check without importing, import (receipt), import again.
    s.out["verify"] = ok_json(run_cli("verify", str(s.bundle), "--json", env=c))
    s.out["counts_before_import"] = counts(c)
    s.out["import"] = ok_json(run_cli("import", str(s.bundle), "--json", env=c))
    s.out["counts_after_import"] = counts(c)
    s.out["import_again"] = ok_json(run_cli("import", str(s.bundle), "--json", env=c))
    s.out["counts_after_second_import"] = counts(c)
    s.receipt = Path(s.out["import"]["bundles"][0]["receipt"])
    s.out["record_show"] = ok_json(
        run_cli("record", "show", s.ids["interview"], "--history", "--json", env=c)
    )
    s.case_pdf = root / "case-uk.pdf"
    s.out["report_case"] = ok_json(
        run_cli(
            "--lang",
            "uk",
            "report",
            "case",
            s.ids["case"],
            "--out",
            str(s.case_pdf),
            "--json",
            env=c,
        )
    )
    s.visit_pdf = root / "visit-en.pdf"
    s.out["report_visit"] = ok_json(
        run_cli("report", "visit", s.ids["visit"], "--out", str(s.visit_pdf), "--json", env=c)
    )
    exports = root / "for-lawyer"
    exports.mkdir()
    s.out["coord_evidence_export"] = ok_json(
        run_cli(
            "evidence",
            "export",
            s.ids["photo"],
            "--to",
            str(exports / "photo.jpg"),
            "--purpose",
            "case file for counsel",
            "--json",
            env=c,
        )
    )

    # Monitor: the receipt raises the acknowledged mark; acknowledged originals are purged.
    s.out["receipt_apply"] = ok_json(run_cli("receipt", "apply", str(s.receipt), "--json", env=m))
    s.out["purge_refused"] = failed(run_cli("purge", "--acknowledged", env=m))
    s.out["purge"] = ok_json(run_cli("purge", "--acknowledged", "--yes", "--json", env=m))
    s.out["evidence_list_after_purge"] = ok_json(run_cli("evidence", "list", "--json", env=m))

    # Later: the person withdraws consent to be re-contacted. The next bundle carries only what
    # the organisation has not acknowledged: the interview's second revision.
    interview_input["consent"]["withdrawals"].append(
        {"date": "2024-04-02", "scope": "recontact", "how_received": "через адвоката"}
    )
    interview_v2 = write_json(root / "interview-v2.json", interview_input)
    s.out["interview_update"] = ok_json(
        run_cli(
            "record", "update", s.ids["interview"], "--revision", "1",
            "--file", str(interview_v2), "--json", env=m,
        )
    )  # fmt: skip
    second = ok_json(run_cli("export", "--to", str(usb), "--json", env=m))
    s.out["export_2"] = second
    s.out["import_2"] = ok_json(run_cli("import", second["path"], "--json", env=c))
    s.out["record_show_2"] = ok_json(
        run_cli("record", "show", s.ids["interview"], "--history", "--json", env=c)
    )
    return s


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return _run_story(tmp_path_factory.mktemp("story"))


# --- the parts of the story --------------------------------------------------------------------


@pytest.mark.slow
def test_profiles_and_organisation_set_up(story: Story) -> None:
    assert story.out["coord_init"]["role"] == "coordinator"
    assert story.out["mon_init"]["role"] == "monitor"
    assert story.out["coord_init"]["kdf_insecure"] is True  # the test KDF, announced
    assert story.out["org_init"]["recipient"].startswith("age1")
    # Exporting the decryption identity needs --yes; with it the file is an age identity, 0600.
    assert "--yes" in story.out["export_identity_refused"]
    key_text = story.org_key.read_text(encoding="ascii")
    assert "AGE-SECRET-KEY-1" in key_text
    assert story.org_key.stat().st_mode & 0o077 == 0
    card = json.loads(story.org_card.read_text(encoding="utf-8"))
    assert card["card"]["recipients"] == [story.out["org_init"]["recipient"]]


@pytest.mark.slow
def test_enrolment_comparison_codes_match(story: Story) -> None:
    monitor_code = comparison_code(story.out["enrol"])
    coordinator_code = comparison_code(story.out["trust_add"])
    assert monitor_code == coordinator_code
    assert DEVICE_LABEL in story.out["trust_add"]
    assert story.out["mon_init"]["device_id"] in story.device_pub.read_text(encoding="ascii")
    listing = ok_json(run_cli("trust", "list", "--json", env=story.coord_env))
    [device] = listing["devices"]
    assert device["device_id"] == story.out["mon_init"]["device_id"]
    assert device["label"] == DEVICE_LABEL
    assert device["status"] == "active"
    assert device["last_seq"] == 2  # the two bundles of the story
    assert listing["alarms"] == []
    assert listing["held"] == []


@pytest.mark.slow
def test_records_entered_and_found(story: Story) -> None:
    for role in ("case", "facility", "person", "visit", "interview"):
        assert UUID_RE.match(story.ids[role]), (role, story.ids[role])
    assert len({story.ids[r] for r in ("case", "facility", "person", "visit", "interview")}) == 5
    assert story.out["case_add"]["record"]["title"] == CASE_TITLE
    assert story.out["person_add"]["record"]["title"] == "W-017"  # the pseudonym, never a name
    update = story.out["visit_update"]
    assert update["changed"] is True
    assert update["record"]["revision"] == 2
    hits = story.out["search"]["hits"]
    assert [h["id"] for h in hits] == [story.ids["interview"]]
    assert "[кийком]" in hits[0]["snippet"]


@pytest.mark.slow
def test_visit_computes_space_per_person_and_cpt_flag(story: Story) -> None:
    shown = ok_json(run_cli("record", "show", story.ids["visit"], "--json", env=story.mon_env))
    computed = shown["computed"]
    # Cell 12: 11.2 m² for 6 people = 1.87 m² each, far below 6 m² + 4 m² per further person.
    assert computed["areas[0].area_per_person"] == pytest.approx(1.87, abs=0.01)
    assert computed["areas[0].cpt_minimum"] == "below"
    assert computed["areas[0].echr_space_tier"] == "under_3"
    assert computed["occupancy_percent"] == pytest.approx(121.9, abs=0.1)  # 512 of 420 places
    kinds = {(link["kind"], link["to"]) for link in shown["links"]}
    assert ("visit_facility", story.ids["facility"]) in kinds


@pytest.mark.slow
def test_evidence_added_and_verified(story: Story) -> None:
    items = {Path(i["path"]).name: i for i in story.out["evidence_add"]["items"]}
    assert items["injury-back.jpg"]["media_type"] == "image/jpeg"
    assert items["notes.txt"]["media_type"].startswith("text/plain")
    for name, item in items.items():
        assert item["status"] == "added"
        assert item["sha256"] == story.out["source_sha256"][name]
    verify = story.out["evidence_verify"]
    assert verify["ok"] is True
    assert {i["item_id"] for i in verify["items"]} == {story.ids["photo"], story.ids["note"]}
    assert verify["custody_problems"] == []


@pytest.mark.slow
def test_bundle_written_to_the_stick(story: Story) -> None:
    assert story.bundle is not None
    assert story.bundle.parent == story.usb
    assert re.fullmatch(r"[0-9a-f]{32}\.fkb", story.bundle.name)
    assert not list(story.usb.glob("*.partial"))
    exported = story.out["export"]
    assert exported["seq"] == 1
    # case, facility, person, interview, and the visit's two revisions
    assert exported["records"] == 6
    assert exported["evidence"] == 2
    assert exported["objects"] == 2
    # Nothing entered is readable on the stick.
    raw = story.bundle.read_bytes()
    for marker in ("W-017", "кийком", CASE_TITLE):
        assert marker.encode("utf-8") not in raw


@pytest.mark.slow
def test_bundle_checks_with_standard_tools_only(story: Story, tmp_path: Path) -> None:
    """docs/bundle-format.md §8, with the real programs and nothing of fieldkit."""
    age, tar = require_tool("age"), require_tool("tar")
    minisign, sha256sum = require_tool("minisign"), require_tool("sha256sum")
    assert story.bundle is not None
    extract = tmp_path / "bundle"
    extract.mkdir()
    age_run = subprocess.run(
        [age, "-d", "-i", str(story.org_key), str(story.bundle)], capture_output=True, check=False
    )
    assert age_run.returncode == 0, age_run.stderr
    tar_run = subprocess.run(
        [tar, "-x"], input=age_run.stdout, cwd=extract, capture_output=True, check=False
    )
    assert tar_run.returncode == 0, tar_run.stderr

    signature = subprocess.run(
        [minisign, "-V", "-p", str(story.device_pub), "-m", "SHA256SUMS"],
        cwd=extract,
        capture_output=True,
        text=True,
        check=False,
    )
    assert signature.returncode == 0, signature.stderr
    trusted = signature.stdout
    assert f"bundle={story.out['export']['bundle_id']}" in trusted
    assert f"device={story.out['mon_init']['device_id']}" in trusted
    assert "seq=1" in trusted

    sums = subprocess.run(
        [sha256sum, "-c", "--strict", "SHA256SUMS"],
        cwd=extract,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    checked = [line for line in sums.stdout.splitlines() if line.endswith(": OK")]
    # manifest, 6 record versions, 2 evidence descriptions, audit, custody, 2 originals
    assert len(checked) == 13, sums.stdout

    manifest = json.loads((extract / "manifest.json").read_text(encoding="utf-8"))
    assert {r["id"] for r in manifest["records"]} == {
        story.ids[r] for r in ("case", "facility", "person", "visit", "interview")
    }
    originals = {p.name for p in (extract / "objects").iterdir()}
    assert originals == set(story.out["source_sha256"].values())
    # An altered member is caught by sha256sum, and an altered list by minisign.
    note_object = extract / "objects" / story.out["source_sha256"]["notes.txt"]
    note_object.write_bytes(note_object.read_bytes() + b"x")
    altered = subprocess.run(
        [sha256sum, "-c", "--strict", "SHA256SUMS"], cwd=extract, capture_output=True, check=False
    )
    assert altered.returncode != 0
    sums_file = extract / "SHA256SUMS"
    sums_file.write_text(sums_file.read_text(encoding="ascii").replace("  ", "  ./", 1))
    forged = subprocess.run(
        [minisign, "-V", "-p", str(story.device_pub), "-m", "SHA256SUMS"],
        cwd=extract,
        capture_output=True,
        check=False,
    )
    assert forged.returncode != 0


@pytest.mark.slow
def test_coordinator_verifies_and_imports(story: Story) -> None:
    verified = story.out["verify"]
    assert verified["ok"] is True
    assert verified["status"] == "verified"
    assert verified["signer_label"] == DEVICE_LABEL
    assert verified["records_new"] == 6
    assert story.out["counts_before_import"]["records"] == 0  # verify imported nothing

    [report] = story.out["import"]["bundles"]
    assert story.out["import"]["ok"] is True
    assert report["status"] == "imported"
    assert report["imported"] is True
    assert report["seq"] == 1
    assert report["chain"] == "first"
    assert report["records"] == 6
    assert report["records_new"] == 6
    assert report["objects"] == 2
    assert report["conflicts"] == []
    assert story.receipt is not None
    assert story.receipt.is_file()
    assert story.receipt.parent == story.usb  # beside the bundle, ready to carry back
    assert Path(str(story.receipt) + ".minisig").is_file()
    after = story.out["counts_after_import"]
    assert after["records"] == 5
    assert after["record_versions"] == 6
    assert after["evidence_items"] == 2
    assert after["imported_bundles"] == 1


@pytest.mark.slow
def test_second_import_changes_nothing(story: Story) -> None:
    [report] = story.out["import_again"]["bundles"]
    assert report["status"] == "already_imported"
    assert report["imported"] is False
    assert story.out["counts_after_second_import"] == story.out["counts_after_import"]


@pytest.mark.slow
def test_imported_record_shows_with_its_history(story: Story) -> None:
    shown = story.out["record_show"]
    record = shown["record"]
    assert record["id"] == story.ids["interview"]
    assert record["type"] == "interview"
    assert record["origin_device"] == story.out["mon_init"]["device_id"]
    assert record["content_hash"] == story.out["interview_add"]["record"]["content_hash"]
    assert record["data"]["interviewee_code"] == "W-017"
    [version] = shown["history"]
    assert version["origin"] == "imported"


@pytest.mark.slow
def test_case_file_in_ukrainian_is_signed_and_lists_the_hashes(
    story: Story, tmp_path: Path
) -> None:
    pdftotext = require_tool("pdftotext")
    minisign = require_tool("minisign")
    sha256sum = require_tool("sha256sum")
    assert story.case_pdf is not None
    result = story.out["report_case"]
    assert result["pages"] >= 2
    assert result["sha256"] == hashlib.sha256(story.case_pdf.read_bytes()).hexdigest()
    text = subprocess.run(
        [pdftotext, "-layout", str(story.case_pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "Матеріали справи" in flat  # headings in Ukrainian
    assert "W-017" in flat
    assert "Як перевірити цей файл" in flat
    for digest in story.out["source_sha256"].values():
        assert digest in text.replace("\n", "").replace(" ", "")

    # The signature checks with minisign and the device key printed on the last page.
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if "untrusted comment: minisign public key" in line
    )
    device_pub = tmp_path / "coordinator-device.pub"
    device_pub.write_text(lines[start].strip() + "\n" + lines[start + 1].strip() + "\n")
    checked = subprocess.run(
        [minisign, "-Vm", str(story.case_pdf), "-p", str(device_pub)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert story.ids["case"] in checked.stdout

    # An original handed to counsel hashes to the value in the case file.
    exported = story.out["coord_evidence_export"]
    digest = subprocess.run(
        [sha256sum, exported["path"]], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert digest == story.out["source_sha256"]["injury-back.jpg"] == exported["sha256"]


@pytest.mark.slow
def test_receipt_applied_and_acknowledged_evidence_purged(story: Story) -> None:
    applied = story.out["receipt_apply"]
    assert applied["acknowledged_through"] == story.out["export"]["change_through"]
    assert "--yes" in story.out["purge_refused"]
    purge = story.out["purge"]
    assert sorted(purge["purged"]) == sorted([story.ids["photo"], story.ids["note"]])
    states = {i["id"]: i["state"] for i in story.out["evidence_list_after_purge"]["items"]}
    assert states == {story.ids["photo"]: "purged", story.ids["note"]: "purged"}
    # The item's identity and custody log stay, with a "purged" event.
    custody = ok_json(
        run_cli("evidence", "custody", story.ids["photo"], "--json", env=story.mon_env)
    )
    assert custody["intact"] is True
    assert custody["events"][-1]["action"] == "purged"
    # The organisation still holds the original.
    coord_items = ok_json(run_cli("evidence", "list", "--json", env=story.coord_env))
    assert {i["id"]: i["state"] for i in coord_items["items"]}[story.ids["photo"]] == "stored"


@pytest.mark.slow
def test_tampered_bundle_is_refused_and_changes_nothing(story: Story, tmp_path: Path) -> None:
    assert story.bundle is not None
    before = counts(story.coord_env)
    tampered = tmp_path / story.bundle.name
    data = bytearray(story.bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    message = failed(run_cli("import", str(tampered), env=story.coord_env))
    assert "damaged or was altered" in message
    assert counts(story.coord_env) == before


@pytest.mark.slow
def test_coordinator_command_in_a_monitor_profile(story: Story) -> None:
    message = failed(run_cli("trust", "list", env=story.mon_env))
    assert "coordinator profile" in message
    message = failed(run_cli("export", "--to", str(story.root), env=story.coord_env))
    assert "monitor profile" in message


@pytest.mark.slow
def test_custody_log_records_the_bundle_export(story: Story) -> None:
    custody = ok_json(
        run_cli("evidence", "custody", story.ids["photo"], "--json", env=story.mon_env)
    )
    actions = [event["action"] for event in custody["events"]]
    assert "exported_in_bundle" in actions
    bundle_event = next(e for e in custody["events"] if e["action"] == "exported_in_bundle")
    assert story.out["export"]["bundle_id"] in json.dumps(bundle_event["details"])


@pytest.mark.slow
def test_import_refusal_in_ukrainian(story: Story, tmp_path: Path) -> None:
    assert story.bundle is not None
    tampered = tmp_path / story.bundle.name
    data = bytearray(story.bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    message = failed(run_cli("--lang", "uk", "import", str(tampered), env=story.coord_env))
    assert "пошкоджено або змінено" in message


@pytest.mark.slow
def test_visit_report_shows_the_conditions_table(story: Story) -> None:
    pdftotext = require_tool("pdftotext")
    assert story.visit_pdf is not None
    assert story.out["report_visit"]["pages"] >= 2
    assert Path(story.out["report_visit"]["signature"]).is_file()
    text = subprocess.run(
        [pdftotext, str(story.visit_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "В-2024-031" in flat
    assert "1.87 m²" in flat  # m² per person of cell 12
    assert "Below the CPT minimum" in flat
    assert "2 areas fall below the CPT minimum." in flat


@pytest.mark.slow
def test_later_change_travels_alone_in_the_next_bundle(story: Story) -> None:
    update = story.out["interview_update"]
    assert update["changed"] is True
    assert update["record"]["revision"] == 2
    second = story.out["export_2"]
    assert second["seq"] == 2
    assert second["records"] == 1  # only the new revision: the rest was acknowledged
    assert second["objects"] == 0
    assert second["change_from"] == story.out["receipt_apply"]["acknowledged_through"]
    [report] = story.out["import_2"]["bundles"]
    assert report["status"] == "imported"
    assert report["chain"] == "linked"  # follows bundle 1 exactly
    # the interview was here: its revision 2 is an update, not a new record
    assert (report["records_new"], report["records_updated"]) == (0, 1)
    shown = story.out["record_show_2"]
    assert shown["record"]["revision"] == 2
    withdrawals = shown["record"]["data"]["consent"]["withdrawals"]
    assert [w["scope"] for w in withdrawals] == ["audio_recording", "recontact"]
    assert [v["revision"] for v in shown["history"]] == [1, 2]


@pytest.mark.slow
def test_not_enrolled_message_suggests_a_command_that_works(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "new-monitor")
    ok(run_cli("init", env=env))
    message = failed(run_cli("export", "--to", str(tmp_path), env=env))
    assert "not enrolled" in message
    assert "--out" in message


# --- the user guide ----------------------------------------------------------------------------


def _guide_commands() -> list[tuple[int, list[str]]]:
    """Every `fieldkit …` command typed in a code block of docs/user-guide.md, with its line."""
    commands: list[tuple[int, list[str]]] = []
    in_block = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(GUIDE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        if pending is not None:
            start, text = pending
            text += " " + line.strip()
        else:
            match = re.match(r"^(?:monitor|coordinator)?\$ (fieldkit .*)$", line)
            if match is None:
                continue
            start, text = number, match.group(1)
        if text.endswith("\\"):
            pending = (start, text[:-1])
            continue
        pending = None
        commands.append((start, shlex.split(text, comments=True)[1:]))
    return commands


def test_every_command_in_the_user_guide_is_accepted_by_the_command_line() -> None:
    """The guide's commands parse with today's options, so the guide cannot drift silently."""
    from fieldkit.cli import build_parser

    commands = _guide_commands()
    assert len(commands) >= 40, "the guide's examples were not found"
    shown = {argv[0] for _line, argv in commands if argv and not argv[0].startswith("-")}
    # every command group the guide explains appears in an example
    assert {
        "init",
        "org",
        "enrol",
        "trust",
        "case",
        "record",
        "search",
        "evidence",
        "export",
    } <= shown
    assert {"verify", "import", "receipt", "purge", "report", "passwd", "check", "erase"} <= shown
    problems = []
    for line, argv in commands:
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr):
                args = build_parser().parse_args(argv)
        except SystemExit:
            problems.append(f"line {line}: fieldkit {' '.join(argv)}\n{stderr.getvalue()}")
            continue
        if not getattr(args, "handler", None):
            problems.append(f"line {line}: fieldkit {' '.join(argv)} names no command")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_receipt_checks_with_minisign_and_the_organisation_card(
    story: Story, tmp_path: Path
) -> None:
    """docs/bundle-format.md §11 and docs/user-guide.md §13: the receipt without fieldkit."""
    minisign = require_tool("minisign")
    assert story.receipt is not None
    receipt = json.loads(story.receipt.read_text(encoding="utf-8"))
    assert receipt["format"] == "fieldkit-receipt/1"
    assert receipt["device_id"] == story.out["mon_init"]["device_id"]
    assert receipt["acknowledged_through"] == story.out["export"]["change_through"]
    assert [b["seq"] for b in receipt["bundles"]] == [1]
    assert receipt["bundles"][0]["bundle_id"] == story.out["export"]["bundle_id"]
    card = json.loads(story.org_card.read_text(encoding="utf-8"))["card"]
    org_sign = tmp_path / "org-sign.pub"
    org_sign.write_text(
        "untrusted comment: organisation signing key\n" + card["signing_key"] + "\n",
        encoding="ascii",
    )
    checked = subprocess.run(
        [minisign, "-V", "-p", str(org_sign), "-m", str(story.receipt)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"device={receipt['device_id']}" in checked.stdout
    # the monitor's own key does not verify the organisation's receipt
    wrong = subprocess.run(
        [minisign, "-V", "-p", str(story.device_pub), "-m", str(story.receipt)],
        capture_output=True,
        check=False,
    )
    assert wrong.returncode != 0

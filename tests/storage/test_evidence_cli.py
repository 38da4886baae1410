"""The evidence commands through the real command line, as a monitor would use them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fieldkit.crypto.stream import HEADER_SIZE
from tests.helpers import cli_env, run_cli


def _json(result) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_monitor_adds_verifies_exports_and_sees_custody(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    env = cli_env(profile)
    assert run_cli("init", env=env).returncode == 0
    case_id = _json(run_cli("--json", "case", "add", "--title", "Case W-017", env=env))["id"]

    photo = tmp_path / "IMG_0001.jpg"
    from tests.storage.test_evidence_media import jpeg_with_exif

    photo.write_bytes(jpeg_with_exif())
    audio = tmp_path / "interview W-017.wav"
    audio.write_bytes(b"RIFF\0\0\0\0WAVEfmt " + os.urandom(300_000))
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0\0\0\x18ftypisom\0\0\x02\0" + os.urandom(3 * 1024 * 1024))
    result = run_cli(
        "--json",
        "evidence",
        "add",
        str(photo),
        str(audio),
        str(video),
        "--case",
        case_id,
        env=env,
    )
    added = _json(result)["items"]
    assert [a["status"] for a in added] == ["added"] * 3
    for entry, path in zip(added, (photo, audio, video)):
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [a["media_type"] for a in added] == ["image/jpeg", "audio/wav", "video/mp4"]
    assert "%" in result.stderr  # progress went to stderr, stdout is one JSON document

    again = _json(run_cli("--json", "evidence", "add", str(photo), "--case", case_id, env=env))
    assert again["items"][0]["status"] == "duplicate"
    assert again["items"][0]["id"] == added[0]["id"]

    listed = _json(run_cli("--json", "evidence", "list", "--case", case_id, env=env))
    assert {i["id"] for i in listed["items"]} == {a["id"] for a in added}
    shown = _json(run_cli("--json", "evidence", "show", added[0]["id"], env=env))
    assert shown["links"]["case_id"] == case_id
    assert shown["embedded_metadata"]["camera_model"] == "FC-2"

    verified = _json(run_cli("--json", "evidence", "verify", env=env))
    assert verified["ok"] is True

    target = tmp_path / "export" / "clip-copy.mp4"
    target.parent.mkdir()
    exported = _json(
        run_cli(
            "--json",
            "evidence",
            "export",
            added[2]["id"],
            "--to",
            str(target),
            "--purpose",
            "submission to prosecutor",
            env=env,
        )
    )
    assert target.read_bytes() == video.read_bytes()
    assert exported["sha256"] == added[2]["sha256"]

    custody = _json(run_cli("--json", "evidence", "custody", added[2]["id"], env=env))
    assert custody["intact"] is True
    assert [e["action"] for e in custody["events"]] == ["collected", "hash_verified", "exported"]
    assert custody["events"][2]["purpose"] == "submission to prosecutor"

    # Tamper with one stored file: verify names the item and exits non-zero.
    store_files = [p for p in (profile / "store").rglob("*") if p.is_file() and len(p.name) == 32]
    assert len(store_files) == 3
    victim = max(store_files, key=lambda p: p.stat().st_size)  # the video
    with open(victim, "r+b") as f:
        f.seek(HEADER_SIZE + 1000)
        byte = f.read(1)
        f.seek(HEADER_SIZE + 1000)
        f.write(bytes([byte[0] ^ 1]))
    result = run_cli("evidence", "verify", env=env)
    assert result.returncode == 1
    assert f"{added[2]['id']}  TAMPERED" in result.stdout
    assert "1 item failed verification." in result.stdout
    custody = _json(run_cli("--json", "evidence", "custody", added[2]["id"], env=env))
    assert custody["events"][-1]["action"] == "integrity_failure"

    # Purge needs --yes; afterwards the item is gone but its history remains.
    refused = run_cli("evidence", "purge", added[1]["id"], env=env)
    assert refused.returncode == 1
    assert "--yes" in refused.stderr
    purged = _json(run_cli("--json", "evidence", "purge", added[1]["id"], "--yes", env=env))
    assert purged["state"] == "purged"
    custody = _json(run_cli("--json", "evidence", "custody", added[1]["id"], env=env))
    assert custody["events"][-1]["action"] == "purged"
    assert (
        len([p for p in (profile / "store").rglob("*") if p.is_file() and len(p.name) == 32]) == 2
    )

    missing = run_cli("--lang", "uk", "evidence", "show", "no-such-id", env=env)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    assert missing.stderr.startswith("fieldkit: ")


@pytest.mark.slow
def test_add_needs_existing_case(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    env = cli_env(profile)
    assert run_cli("init", env=env).returncode == 0
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    result = run_cli(
        "evidence", "add", str(source), "--case", "00000000-0000-4000-8000-000000000000", env=env
    )
    assert result.returncode == 1
    assert "00000000-0000-4000-8000-000000000000" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in (profile / "store").rglob("*") if p.is_file() and p.name != ".lock"]


@pytest.mark.slow
def test_describe_and_relink_after_intake(tmp_path: Path) -> None:
    """Capture time and place at intake, kept apart from the intake time; links and the
    description changed afterwards on the command line, as in the desktop program."""

    from tests.export.test_reports import consent, interview_data

    env = cli_env(tmp_path / "profile")
    assert run_cli("init", env=env).returncode == 0
    case_id = _json(run_cli("--json", "case", "add", "--title", "Case W-017", env=env))["id"]
    person = tmp_path / "person.json"
    person.write_text(json.dumps({"pseudonym": "W-017"}), encoding="utf-8")
    person_id = _json(
        run_cli("--json", "record", "add", "--form", "person", "--file", str(person), env=env)
    )["id"]
    interview = tmp_path / "interview.json"
    data = interview_data(
        "W-017", person_id, case_id, consent_value=consent(declined=("photographs",))
    )
    interview.write_text(json.dumps(data), encoding="utf-8")
    interview_id = _json(
        run_cli("--json", "record", "add", "--form", "interview", "--file", str(interview), env=env)
    )["id"]
    photo = tmp_path / "IMG_4821.JPG"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    added = _json(
        run_cli(
            "--json",
            "evidence",
            "add",
            str(photo),
            "--case",
            case_id,
            "--captured-at",
            "2024-03-06 11:20",
            "--captured-where",
            "NGO office",
            env=env,
        )
    )
    item_id = added["items"][0]["id"]
    described = run_cli(
        "--json",
        "evidence",
        "describe",
        item_id,
        "--title",
        "Bruises",
        "--interview",
        interview_id,
        "--person",
        person_id,
        env=env,
    )
    assert described.returncode == 0, described.stderr
    doc = json.loads(described.stdout)
    assert doc["title"] == "Bruises"
    assert doc["content_created_at"] == "2024-03-06 11:20"
    assert doc["place_created"] == "NGO office"
    assert doc["created_at"] != doc["content_created_at"]
    assert doc["links"]["interview_id"] == interview_id
    assert doc["links"]["person_ids"] == [person_id]
    assert doc["declined_media"] == ["photographs"]
    unlinked = _json(
        run_cli("--json", "evidence", "describe", item_id, "--interview", "none", env=env)
    )
    assert unlinked["links"]["interview_id"] is None
    assert unlinked["declined_media"] == []


def _photo_of_interviewee(
    tmp_path: Path, env: dict[str, str], code: str, consent_value: dict[str, Any]
) -> str:
    """A photo linked at intake to a new interview with ``code`` and the given consent."""
    from tests.export.test_reports import interview_data

    case_id = _json(run_cli("--json", "case", "add", "--title", f"Case {code}", env=env))["id"]
    person = tmp_path / f"person-{code}.json"
    person.write_text(json.dumps({"pseudonym": code}), encoding="utf-8")
    person_id = _json(
        run_cli("--json", "record", "add", "--form", "person", "--file", str(person), env=env)
    )["id"]
    interview = tmp_path / f"interview-{code}.json"
    data = interview_data(code, person_id, case_id, consent_value=consent_value)
    interview.write_text(json.dumps(data), encoding="utf-8")
    interview_id = _json(
        run_cli("--json", "record", "add", "--form", "interview", "--file", str(interview), env=env)
    )["id"]
    photo = tmp_path / f"IMG-{code}.JPG"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + code.encode() + bytes(range(256)) * 4)
    added = _json(
        run_cli(
            "--json",
            "evidence",
            "add",
            str(photo),
            "--case",
            case_id,
            "--interview",
            interview_id,
            env=env,
        )
    )
    return str(added["items"][0]["id"])


def test_export_asks_the_disclosure_policy_for_its_audience(tmp_path: Path) -> None:
    """An original leaves only when the policy allows it for the audience. A photo whose
    interviewee declined photographs goes to no outside audience, and (docs/disclosure.md:
    photographs "unless declined") not to the organisation either; a photo with photographs
    granted but no sharing consent goes to the organisation and not to a lawyer. A refusal
    names the item and the reason, in the interface language, and writes nothing."""
    from tests.export.test_reports import consent

    env = cli_env(tmp_path / "profile")
    assert run_cli("init", env=env).returncode == 0
    declined = _photo_of_interviewee(
        tmp_path, env, "QD-701", consent("share_prosecution", declined=("photographs",))
    )
    granted = _photo_of_interviewee(tmp_path, env, "QG-702", consent("photographs"))
    out = tmp_path / "out"
    out.mkdir()

    for audience in ("counsel", "prosecution", "organisation"):
        refused = run_cli(
            "--json",
            "evidence",
            "export",
            declined,
            "--to",
            str(out),
            "--audience",
            audience,
            env=env,
        )
        assert refused.returncode == 1, (audience, refused.stdout)
        assert declined in refused.stderr
        assert "Photographs" in refused.stderr
        assert list(out.iterdir()) == []
    ukrainian = run_cli(
        "--lang",
        "uk",
        "evidence",
        "export",
        declined,
        "--to",
        str(out),
        "--audience",
        "counsel",
        env=env,
    )
    assert ukrainian.returncode == 1
    assert "не вивантажено" in ukrainian.stderr
    assert "Traceback" not in ukrainian.stderr

    to_lawyer = run_cli(
        "evidence", "export", granted, "--to", str(out), "--audience", "counsel", env=env
    )
    assert to_lawyer.returncode == 1
    assert granted in to_lawyer.stderr
    assert list(out.iterdir()) == []
    exported = _json(run_cli("--json", "evidence", "export", granted, "--to", str(out), env=env))
    assert Path(exported["path"]).read_bytes().startswith(b"\xff\xd8\xff\xe0QG-702")
    custody = _json(run_cli("--json", "evidence", "custody", declined, env=env))
    assert "exported" not in [e["action"] for e in custody["events"]]

    unknown = run_cli("evidence", "export", granted, "--to", str(out), "--audience", "x", env=env)
    assert unknown.returncode != 0
    assert "organisation" in unknown.stderr

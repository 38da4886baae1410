"""The lawyer's workflow on the real command line: enrol in person, share, import, review, print;
refusals are one translated line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import cli_env, run_cli


def _ok(*args: str, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    done = run_cli("--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_share_import_review_and_print_on_the_command_line(tmp_path: Path) -> None:
    office = cli_env(tmp_path / "coordinator")
    lawyer = cli_env(tmp_path / "lawyer")
    _ok("init", "--role", "coordinator", env=office)
    _ok("org", "init", "--name", "Test organisation", env=office)
    card = tmp_path / "org.pub"
    _ok("org", "public", "--out", str(card), env=office)
    _ok("init", "--role", "lawyer", env=lawyer)
    key = tmp_path / "lawyer.pub"
    enrolled = _ok("counsel", "enrol", str(card), "--out", str(key), env=lawyer)
    added = _ok("counsel", "add", str(key), "--label", "L-01", env=office)
    assert added["code"] == enrolled["code"]

    case = _ok("case", "add", "--title", "Detention CANARYNAME-Q7", env=office)
    case_id = case["id"]
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    _ok("evidence", "add", str(photo), "--case", case_id, env=office)
    usb = tmp_path / "usb"
    usb.mkdir()
    shared = _ok("share", "case", case_id, "--to", "L-01", "--out", str(usb), env=office)
    package = Path(shared["path"])
    assert package.exists()
    assert shared["seq"] == 1
    assert any(w["field"] == "title" for w in shared["withheld"])
    assert b"CANARYNAME" not in package.read_bytes()

    imported = _ok("package", "import", str(package), env=lawyer)
    assert imported["status"] == "imported"
    assert _ok("package", "import", str(package), env=lawyer)["status"] == "already_imported"
    listed = _ok("package", "list", env=lawyer)
    assert [c["case_id"] for c in listed["cases"]] == [case_id]
    review = run_cli("package", "review", case_id, env=lawyer)
    assert review.returncode == 0, review.stderr
    assert "Every item is intact." in review.stdout
    pdf = tmp_path / "case.pdf"
    printed = run_cli("report", "case", case_id, "--out", str(pdf), env=lawyer)
    assert printed.returncode == 0, printed.stderr
    assert pdf.exists()

    # Read-only: the lawyer's profile adds nothing.
    refused = run_cli("case", "add", "--title", "x", env=lawyer)
    assert refused.returncode == 1
    assert "read-only" in refused.stderr
    assert "Traceback" not in refused.stderr

    # A damaged copy: one clear line, in the lawyer's language.
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x40
    bad = tmp_path / "bad.fkp"
    bad.write_bytes(bytes(data))
    damaged = run_cli("--lang", "uk", "package", "import", str(bad), env=lawyer)
    assert damaged.returncode == 1
    assert "Traceback" not in damaged.stderr
    assert "Нічого не імпортовано" in damaged.stderr

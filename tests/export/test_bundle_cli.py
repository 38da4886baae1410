"""The command line, as two people would use it: enrol, export, import, receipt, purge."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from fieldkit.services.profile import open_profile
from tests.export.bundle_kit import add_evidence, add_people
from tests.helpers import STRONG_PASSPHRASE, cli_env, run_cli


def ok(result: object) -> str:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return str(result.stdout)  # type: ignore[attr-defined]


def code_in(text: str) -> str:
    match = re.search(r"(\d{5} \d{5} \d{5} \d{5} \d{5} \d{5})", text)
    assert match, text
    return match.group(1)


@pytest.mark.slow
def test_enrol_export_import_receipt_purge_by_command_line(tmp_path: Path) -> None:
    coord, mon, usb = tmp_path / "coord", tmp_path / "mon", tmp_path / "usb"
    usb.mkdir()
    c_env, m_env = cli_env(coord), cli_env(mon)
    ok(run_cli("init", "--role", "coordinator", env=c_env))
    ok(run_cli("org", "init", "--name", "Test organisation", env=c_env))
    ok(run_cli("org", "public", "--out", str(tmp_path / "org.pub"), env=c_env))
    refused = run_cli("org", "export-identity", "--out", str(tmp_path / "org.key"), env=c_env)
    assert refused.returncode == 1
    assert "--yes" in refused.stderr
    ok(run_cli("org", "export-identity", "--out", str(tmp_path / "org.key"), "--yes", env=c_env))
    assert "AGE-SECRET-KEY-1" in (tmp_path / "org.key").read_text()

    ok(run_cli("init", env=m_env))
    monitor_code = code_in(
        ok(
            run_cli(
                "enrol", str(tmp_path / "org.pub"), "--out", str(tmp_path / "dev.pub"), env=m_env
            )
        )
    )
    coordinator_code = code_in(
        ok(run_cli("trust", "add", str(tmp_path / "dev.pub"), "--label", "W-017 laptop", env=c_env))
    )
    assert monitor_code == coordinator_code

    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    vault = open_profile(mon, STRONG_PASSPHRASE)
    try:
        add_people(vault, 3)
        add_evidence(vault, tmp_path / "src", os.urandom(80_000))
    finally:
        vault.lock()

    exported = json.loads(ok(run_cli("export", "--to", str(usb), "--json", env=m_env)))
    bundle = Path(exported["path"])
    assert bundle.exists()
    assert exported["records"] == 3

    verified = json.loads(ok(run_cli("verify", str(bundle), "--json", env=c_env)))
    assert verified["ok"] is True
    assert verified["signer_label"] == "W-017 laptop"
    assert verified["records_new"] == 3

    imported = ok(run_cli("import", str(bundle), env=c_env))
    assert "imported" in imported
    assert "3 record versions (new: 3, updated: 0, unchanged: 0, conflicts: 0)" in imported
    again = ok(run_cli("import", str(bundle), env=c_env))
    assert "already imported" in again
    assert "3 record versions (new: 0, updated: 0, unchanged: 3, conflicts: 0)" in again
    receipts = sorted(usb.glob("receipt-*.json"))
    assert receipts

    # an altered bundle: one clear line, exit 1, no traceback
    damaged = usb / "damaged.fkb"
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 1
    damaged.write_bytes(bytes(data))
    result = run_cli("import", str(damaged), env=c_env)
    assert result.returncode == 1
    assert "damaged or was altered" in result.stderr
    assert result.stderr.startswith("fieldkit: ")
    assert "Traceback" not in result.stderr
    assert "fieldkit: What to do: copy the bundle again from the monitor's laptop" in result.stderr
    refused = json.loads(run_cli("import", str(damaged), "--json", env=c_env).stdout)
    assert refused["bundles"][0]["refusal"]["next_step"].startswith("What to do: copy")
    checked = run_cli("--lang", "ru", "verify", str(damaged), env=c_env)
    assert checked.returncode == 1
    assert "  Что делать: скопируйте пакет ещё раз" in checked.stdout

    listing = json.loads(ok(run_cli("trust", "list", "--json", env=c_env)))
    assert listing["devices"][0]["last_seq"] == 1

    applied = ok(run_cli("receipt", "apply", str(receipts[-1]), env=m_env))
    assert applied.splitlines() == [
        "Receipt applied.",
        "Bundles from this laptop that the organisation has received: 1.",
        "It now holds 3 records and 1 evidence file from this laptop.",
        "Evidence originals on this laptop that the organisation holds and that may now be "
        "erased from here: 1.",
        "To erase them: fieldkit purge --acknowledged --yes",
    ]
    russian = ok(run_cli("--lang", "ru", "receipt", "apply", str(receipts[-1]), env=m_env))
    assert "Теперь у неё хранятся 3 записи и 1 файл доказательств с этого ноутбука." in russian
    purged = json.loads(ok(run_cli("purge", "--acknowledged", "--yes", "--json", env=m_env)))
    assert len(purged["purged"]) == 1

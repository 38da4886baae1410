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
    again = ok(run_cli("import", str(bundle), env=c_env))
    assert "already imported" in again
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

    listing = json.loads(ok(run_cli("trust", "list", "--json", env=c_env)))
    assert listing["devices"][0]["last_seq"] == 1

    applied = ok(run_cli("receipt", "apply", str(receipts[-1]), env=m_env))
    assert "Receipt applied" in applied
    purged = json.loads(ok(run_cli("purge", "--acknowledged", "--yes", "--json", env=m_env)))
    assert len(purged["purged"]) == 1

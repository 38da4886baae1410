"""Reprisal checks coming due: the coordinator sees every check due or overdue, and not the ones
already made or far ahead."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fieldkit.cli import main
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.records import RecordService
from fieldkit.services.reprisals import checks_due
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE
from tests.storage.test_records_samples import facility_data, visit_data


def _visit(vault: Vault) -> None:
    records = RecordService(vault)
    facility = records.add("facility", facility_data())
    data = visit_data(facility.id)
    data["interviewees"] = [
        {"code": "D-201", "reprisal_follow_up": True, "next_check": "2026-03-01"},  # overdue
        {"code": "D-202", "reprisal_follow_up": True, "next_check": "2026-03-20"},  # soon
        {"code": "D-203", "reprisal_follow_up": True, "next_check": "2026-06-01"},  # far ahead
        {
            "code": "D-204",
            "reprisal_follow_up": True,
            "next_check": "2026-03-05",
            "check_outcome": "no_reprisal",
            "checked_on": "2026-03-06",
        },  # done
    ]
    records.add("visit", data)


def test_checks_due_lists_overdue_and_soon(new_vault: Vault) -> None:
    _visit(new_vault)
    found = checks_due(new_vault, within_days=14, today=date(2026, 3, 12))
    assert [(c.code, c.overdue) for c in found] == [("D-201", True), ("D-202", False)]


def test_reprisal_due_command(
    tmp_path: Path,
    fast_kdf: KdfParams,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "coordinator"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf)
    try:
        _visit(vault)
    finally:
        vault.lock()
    monkeypatch.setenv("FIELDKIT_PROFILE", str(path))
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", STRONG_PASSPHRASE)
    assert main(["--json", "reprisal", "due", "--days", "3650"]) == 0
    doc = json.loads(capsys.readouterr().out)
    codes = [c["code"] for c in doc["checks"]]
    assert "D-204" not in codes
    assert {"D-201", "D-202", "D-203"} <= set(codes)
    with pytest.raises(SystemExit):
        main(["reprisal", "due", "--days", "x"])

"""Records saved by release 1 (templates version 1) after the templates moved on.

The profiles and the bundle in tests/fixtures/release_1 were written by the release whose templates
were all version 1 (make_fixture.py there says how). Here, with today's templates: the records open,
show and validate exactly as before, with their own template's labels and formulas; they print; a
new revision moves to the current template; and the monitor's old bundle imports at an
organisation running this version.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldkit import i18n
from fieldkit.cli import main
from fieldkit.domain.forms import load_template
from fieldkit.domain.validation import check_record
from fieldkit.services import bundles
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE, require_tool

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "release_1"
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
IDS: dict[str, str] = EXPECTED["ids"]
# A vocabulary term prints as "Label (code)" (a consent decision: "Label (code), date");
# corrected labels of the same code are allowed.
_TERM = re.compile(r"^(\s*[^:]+: ).*\(([a-z][a-z0-9_]*)\)(, \d{4}-\d{2}-\d{2})?$")


@pytest.fixture
def monitor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "monitor"
    shutil.copytree(FIXTURE / "monitor", path)
    for key in ("FIELDKIT_LANG", "FIELDKIT_JSON"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FIELDKIT_PROFILE", str(path))
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", STRONG_PASSPHRASE)
    monkeypatch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    yield path
    i18n.set_language("en")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _comparable(line: str) -> str:
    # The program's own words may be corrected (one Ukrainian apostrophe); what the record holds
    # and its template's labels may not.
    line = line.replace("’", "'")
    found = _TERM.match(line)
    return f"{found.group(1)}…({found.group(2)}){found.group(3) or ''}" if found else line


def test_every_form_has_moved_past_version_1() -> None:
    for kind in IDS:
        assert load_template(kind).version > 1
        assert load_template(kind, 1).version == 1


@pytest.mark.parametrize("kind", sorted(IDS))
def test_old_records_show_exactly_as_before(
    monitor: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    for lang in ("en", "uk"):
        code, out, err = run(capsys, "--lang", lang, "--json", "record", "show", IDS[kind])
        assert code == 0, err
        doc = json.loads(out)
        before = EXPECTED["show"][f"{kind}:{lang}"]
        assert doc["record"]["template_version"] == before["template_version"] == "1"
        assert doc["record"]["data"] == before["data"]
        assert doc["computed"] == before["computed"]
        assert doc["warnings"] == []
        code, out, err = run(capsys, "--lang", lang, "record", "show", IDS[kind])
        assert code == 0, err
        lines = [_comparable(x) for x in out.splitlines()]
        assert lines == [_comparable(x) for x in EXPECTED["lines"][f"{kind}:{lang}"]]


def test_old_visit_keeps_its_own_formulas(
    monitor: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "--json", "record", "show", IDS["visit"])
    computed = json.loads(out)["computed"]
    assert computed["areas[2].cpt_flag"] is True  # version 1's stricter 6 + 4 rule, as printed then
    assert "areas[2].cpt_minimum" not in computed


@pytest.mark.parametrize("kind", sorted(IDS))
def test_old_records_validate_against_their_version(kind: str) -> None:
    data = EXPECTED["show"][f"{kind}:en"]["data"]
    result = check_record(kind, data, version=1)
    assert result.issues == []
    assert result.data == data


def test_old_visit_prints_with_its_version(
    monitor: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pdftotext = require_tool("pdftotext")
    out = tmp_path / "visit.pdf"
    code, _out, err = run(
        capsys, "--lang", "en", "report", "visit", IDS["visit"], "--out", str(out)
    )
    assert code == 0, err
    text = subprocess.run(
        [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "CANARY-CELL-9" in text
    assert "CPT standard" in text  # version 1's conditions table
    assert "CPT desirable standard" not in text
    assert "Below the CPT minimum" in text


def test_a_new_revision_moves_to_the_current_template(
    monitor: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = EXPECTED["show"]["visit:en"]["data"]
    file = tmp_path / "visit.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = run(
        capsys, "--json", "record", "update", IDS["visit"], "--file", str(file), "--revision", "1"
    )
    assert code == 0, err
    saved = json.loads(out)
    assert saved["changed"] is True
    assert saved["record"]["template_version"] == str(load_template("visit").version)
    code, out, _err = run(capsys, "--json", "record", "show", IDS["visit"])
    computed = json.loads(out)["computed"]
    assert computed["areas[2].cpt_minimum"] == "meets"  # 8.5 m² for two: the CPT minimum holds
    assert computed["areas[2].cpt_desirable"] == "below"
    assert "areas[2].cpt_flag" not in computed
    code, out, _err = run(capsys, "--json", "record", "show", IDS["visit"], "--history")
    history = json.loads(out)["history"]
    assert [h["revision"] for h in history][-2:] in ([1, 2], [2, 1])


def test_old_bundle_imports_at_an_organisation_on_the_new_version(tmp_path: Path) -> None:
    coordinator_path = tmp_path / "coordinator"
    shutil.copytree(FIXTURE / "coordinator", coordinator_path)
    coordinator = Vault.unlock(coordinator_path, STRONG_PASSPHRASE)
    try:
        report = bundles.import_bundle(coordinator, FIXTURE / "release_1.fkb", receipt_dir=tmp_path)
        assert report.status == "imported"
        records = RecordService(coordinator)
        for kind, record_id in IDS.items():
            record = records.get(record_id)
            assert record.template_version == "1"
            assert dict(record.data) == EXPECTED["show"][f"{kind}:en"]["data"]
            assert records.computed(record) == EXPECTED["show"][f"{kind}:en"]["computed"]
    finally:
        coordinator.lock()

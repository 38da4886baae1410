"""Fixes from the newcomer review of the evidence area: no local paths in custody, language-neutral
custody purposes and details, translated OS reasons, and a command line that says what it did."""

from __future__ import annotations

import argparse
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit import i18n
from fieldkit.cli import build_parser, main
from fieldkit.cli import evidence as evidence_cli
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import (
    CUSTODY_DETAIL_LABELS,
    CUSTODY_PURPOSE_LABELS,
    CustodyAction,
    CustodyPurpose,
    custody_detail_label,
    custody_detail_value,
    custody_purpose_text,
)
from fieldkit.domain.oserrors import OS_REASONS, os_reason
from fieldkit.domain.profile import Role
from fieldkit.i18n import Translator
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE, require_tool

ENGLISH_OS_TEXTS = ("No such file", "not a regular file", "Is a directory", "Permission denied")


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


def _case(vault: Vault) -> str:
    record = RecordService(vault).add(
        "case", {"title": "Case W-017", "case_type": "other", "monitoring_status": "pending"}
    )
    return record.id


# -- 1. privacy: no local path in the custody log or the case file ------------------------------


def test_no_local_path_in_custody_events_or_the_case_file(new_vault: Vault, tmp_path: Path) -> None:
    pdftotext = require_tool("pdftotext")
    import subprocess

    from fieldkit.services.reports import ReportService

    source = tmp_path / "monitor-home" / "W-017 photo.bin"
    source.parent.mkdir()
    source.write_bytes(os.urandom(3000))
    service = EvidenceService(new_vault)
    case_id = _case(new_vault)
    item = service.add(source, case_id=case_id, purpose="handed over by W-017").item
    outside = tmp_path / "usb" / "for lawyer"
    outside.mkdir(parents=True)
    exported = service.export(item.id, outside, purpose="for the lawyer")
    assert Path(exported.path) == outside / "W-017 photo.bin"
    service.export(item.id, outside / "renamed copy.bin")
    service.working_copy(item.id)
    service.verify(item.id)

    events = service.custody_events(item.id)
    assert [e.action for e in events][:3] == [
        CustodyAction.COLLECTED,
        CustodyAction.EXPORTED,
        CustodyAction.EXPORTED,
    ]
    assert events[1].details["file_name"] == "W-017 photo.bin"
    assert events[2].details["file_name"] == "renamed copy.bin"
    stored = json.dumps([e.model_dump(mode="json") for e in events], ensure_ascii=False)
    for fragment in (str(tmp_path), "monitor-home", "for lawyer", str(Path.home())):
        assert fragment not in stored
    # The item keeps only the original's name, never the folder it was added from.
    assert service.get(item.id).original_name == "W-017 photo.bin"

    out = tmp_path / "case.pdf"
    ReportService(new_vault).case_file(case_id, out, "uk")
    text = subprocess.run(
        [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    for fragment in (str(tmp_path), "monitor-home", "forlawyer"):
        assert "".join(fragment.split()) not in flat
    # Detail keys are printed with translated labels, never raw.
    assert "назва файлу" in " ".join(text.split())
    for raw in ("file_name", "media_type", "from_device", "derived_item"):
        assert raw not in text


def test_drive_kind_is_a_code_or_absent(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(_write(tmp_path / "a.bin", b"abc")).item
    service.export(item.id, tmp_path / "out.bin")
    details = service.custody_events(item.id)[-1].details
    assert details.get("destination", "local") in ("local", "removable")
    assert set(details) <= {"file_name", "destination"}


# -- 2. custody purposes and details are codes, shown translated --------------------------------


def test_program_purposes_are_stored_as_codes_and_typed_text_as_typed(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    first = service.add(_write(tmp_path / "a.bin", b"first")).item
    second = service.add(_write(tmp_path / "b.bin", b"second")).item
    third = service.add(_write(tmp_path / "c.bin", b"third")).item
    # The bundles area's English phrase of earlier versions becomes the code...
    service.purge(first.id, reason="purged after acknowledgement")
    # ...the code itself is kept...
    service.purge(second.id, reason=CustodyPurpose.PURGED_AFTER_ACKNOWLEDGEMENT.value)
    # ...and a label as a Ukrainian screen showed it is stored as the code too.
    label_uk = Translator("uk").gettext(
        CUSTODY_PURPOSE_LABELS[CustodyPurpose.EXPORTED_FROM_DESKTOP]
    )
    service.export(third.id, tmp_path / "third.bin", purpose=label_uk)
    typed = "передано адвокату W-017 за запитом"
    service.export(third.id, tmp_path / "third again.bin", purpose=typed)

    assert service.custody_events(first.id)[-1].purpose == "purged_after_acknowledgement"
    assert service.custody_events(second.id)[-1].purpose == "purged_after_acknowledgement"
    events = service.custody_events(third.id)
    assert events[-2].purpose == "exported_from_desktop"
    assert events[-1].purpose == typed

    uk = Translator("uk").gettext
    assert custody_purpose_text("purged_after_acknowledgement", uk) == (
        "знищено після того, як організація підтвердила отримання"
    )
    assert custody_purpose_text(typed, uk) == typed
    # An English purpose stored by an earlier version is shown as it is.
    assert custody_purpose_text("submission to prosecutor", uk) == "submission to prosecutor"


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_detail_label_and_coded_value_is_translated(language: str) -> None:
    gettext = Translator(language).gettext
    for key in CUSTODY_DETAIL_LABELS:
        assert custody_detail_label(key, gettext) != key
        assert custody_detail_label(key, gettext) != CUSTODY_DETAIL_LABELS[key]
    assert custody_detail_value("destination", "removable", gettext) not in ("removable", "")
    assert custody_detail_value("during", "export", gettext) != "export"
    assert custody_detail_value("transformation", "exact_copy", gettext) != "exact_copy"
    # Ids, sizes and names are shown as stored; an unknown key keeps its name.
    assert custody_detail_value("derived_item", "export", gettext) == "export"
    assert custody_detail_value("size", 1234, gettext) == "1234"
    assert custody_detail_label("some_future_key", gettext) == "some_future_key"


def test_custody_command_shows_translated_purpose_and_labels(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(_write(tmp_path / "a.bin", b"content")).item
    service.export(item.id, tmp_path / "copy.bin", purpose="exported_from_desktop")
    service.purge(item.id, reason="purged after acknowledgement")
    events = service.custody_events(item.id)
    i18n.set_language("uk")
    lines = [evidence_cli._event_line(e) for e in events]
    text = "\n".join(lines)
    assert "назва файлу: copy.bin" in text
    assert "тип файлу: text/plain" in text
    assert "експортовано з настільної програми" in text
    assert "знищено після того, як організація підтвердила отримання" in text
    for raw in ("file_name=", "media_type=", "exported_from_desktop", "purged_after"):
        assert raw not in text


# -- 6. OS reasons translated -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_common_os_errors_have_translated_short_reasons(language: str) -> None:
    translator = Translator(language)
    for number in (
        errno.ENOENT,
        errno.EACCES,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOSPC,
        errno.ELOOP,
    ):
        reason = os_reason(OSError(number, os.strerror(number)))
        assert isinstance(reason, TranslatableText)
        assert reason == OS_REASONS[number]
        assert translator.gettext(reason) != reason
        error = FieldkitError(ErrorCode.FILE_NOT_READABLE, path="/x/y.jpg", reason=reason)
        message = error.message(translator)
        assert os.strerror(number) not in message
        assert translator.gettext(reason) in message
    # An unexpected number gets a generic reason, never the C library's English text.
    assert translator.gettext(os_reason(errno.ECHILD)) != os_reason(errno.ECHILD)
    assert "child" not in translator.gettext(os_reason(errno.ECHILD)).lower()


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_adding_a_missing_file_or_a_folder_says_why_in_the_language(
    new_vault: Vault, tmp_path: Path, language: str
) -> None:
    service = EvidenceService(new_vault)
    translator = Translator(language)
    for path in (tmp_path / "no such.jpg", tmp_path):
        with pytest.raises(FieldkitError) as info:
            service.add(path)
        assert info.value.code == ErrorCode.FILE_NOT_READABLE
        message = info.value.message(translator)
        assert str(path) in message
        for english in ENGLISH_OS_TEXTS:
            assert english not in message
        assert translator.gettext(str(info.value.params["reason"])) in message


def test_export_into_a_missing_folder_gives_a_translated_reason(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(_write(tmp_path / "a.bin", b"content")).item
    with pytest.raises(FieldkitError) as info:
        service.export(item.id, tmp_path / "missing folder" / "a.bin")
    assert info.value.code == ErrorCode.FILE_NOT_WRITABLE
    message = info.value.message(Translator("uk"))
    assert "такого файлу або теки немає" in message
    assert "No such file" not in message


# -- 5. the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_profile(
    tmp_path: Path, fast_kdf: KdfParams, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, str]:
    """A profile with one stored and one purged item; the command line unlocks it itself."""
    vault = Vault.create(tmp_path / "profile", STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    service = EvidenceService(vault)
    kept = service.add(_write(tmp_path / "kept.bin", b"kept")).item.id
    purged = service.add(_write(tmp_path / "purged.bin", b"purged")).item.id
    service.purge(purged)
    (tmp_path / "case_id").write_text(_case(vault))
    vault.lock()
    for name in [k for k in os.environ if k.startswith("FIELDKIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", STRONG_PASSPHRASE)
    monkeypatch.setenv("FIELDKIT_PROFILE", str(tmp_path / "profile"))
    return tmp_path / "profile", kept, purged


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_evidence_json_output_carries_ok(
    cli_profile: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _profile, kept, purged = cli_profile
    new_file = _write(tmp_path / "new.bin", b"new")
    commands = {
        "add": [
            "evidence",
            "add",
            str(new_file),
            str(tmp_path / "absent.bin"),
            "--case",
            (tmp_path / "case_id").read_text(),
        ],
        "list": ["evidence", "list"],
        "show": ["evidence", "show", kept],
        "verify": ["evidence", "verify", kept],
        "export": ["evidence", "export", kept, "--to", str(tmp_path / "out.bin")],
        "custody": ["evidence", "custody", kept],
        "purge": ["evidence", "purge", kept, "--yes"],
    }
    expected = {"add": False}  # one of the two files does not exist
    for name, argv in commands.items():
        code, out, _err = _run(capsys, "--json", *argv)
        document = json.loads(out)
        assert document["ok"] is expected.get(name, True), (name, document)
        assert code == (1 if name == "add" else 0), name
    # An error raised before any output is one JSON document with ok false too.
    code, out, _err = _run(capsys, "--json", "evidence", "purge", purged, "--yes")
    assert code == 1
    assert json.loads(out)["ok"] is False


def test_verify_does_not_claim_success_when_everything_is_purged(
    cli_profile: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _profile, kept, purged = cli_profile
    assert _run(capsys, "evidence", "purge", kept, "--yes")[0] == 0
    code, out, _err = _run(capsys, "evidence", "verify")
    assert code == 0
    assert "All items verified" not in out
    assert "0 items checked against their SHA-256; 2 skipped because they were purged." in out
    assert "No stored file was checked" in out
    code, out, _err = _run(capsys, "--json", "evidence", "verify")
    document = json.loads(out)
    assert (document["checked"], document["skipped_purged"], document["failed"]) == (0, 2, 0)


def test_verify_counts_checked_and_skipped(
    cli_profile: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = _run(capsys, "--lang", "uk", "evidence", "verify")
    assert code == 0
    assert "1 доказ перевірено за SHA-256; 1 пропущено, бо його знищено." in out
    assert "Кожен збережений файл відповідає своєму SHA-256" in out


def test_show_tells_integrity_from_content_verification(
    cli_profile: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _profile, kept, purged = cli_profile
    code, out, _err = _run(capsys, "evidence", "show", kept)
    assert code == 0
    assert "integrity (SHA-256 of the stored file): not checked yet" in out
    assert "content verification (corroboration): not yet corroborated" in out
    assert "verification_status: unverified" not in out
    _run(capsys, "evidence", "verify", kept)
    code, out, _err = _run(capsys, "evidence", "show", kept)
    assert "integrity (SHA-256 of the stored file): hash matches, checked 20" in out
    code, out, _err = _run(capsys, "--json", "evidence", "show", kept)
    document = json.loads(out)
    assert document["integrity"]["status"] == "ok"
    assert document["verification_status"] == "unverified"
    code, out, _err = _run(capsys, "--lang", "ru", "evidence", "show", purged)
    assert "не проверено: файл уничтожен" in out
    assert "проверка содержания (подтверждение из других источников)" in out


def test_a_tampered_file_is_reported_in_the_language_with_its_block(
    cli_profile: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from fieldkit.crypto.stream import HEADER_SIZE
    from tests.storage.test_evidence import flip, store_file

    profile, kept, _purged = cli_profile
    vault = Vault.unlock(profile, STRONG_PASSPHRASE)
    try:
        flip(store_file(vault, kept), HEADER_SIZE + 1)
    finally:
        vault.lock()
    code, out, err = _run(capsys, "--lang", "uk", "evidence", "verify")
    assert code == 1
    assert f"{kept}  " in out
    assert "автентифікація не пройшла" in out
    assert "зашифрований блок 0" in out
    assert "authentication" not in out
    assert "1 доказ не пройшов перевірку." in out
    assert "1 доказ перевірено за SHA-256; 1 пропущено, бо його знищено." in out
    code, out, err = _run(capsys, "--lang", "uk", "evidence", "custody", kept)
    assert "проблема: автентифікація не пройшла" in out
    assert "зашифрований блок: 0" in out
    code, out, err = _run(capsys, "--lang", "uk", "evidence", "show", kept)
    assert "НЕ ПРОЙДЕНО під час перевірки" in out
    code, out, err = _run(
        capsys, "--lang", "uk", "evidence", "export", kept, "--to", str(profile.parent / "x.bin")
    )
    assert code == 1
    assert "автентифікація не пройшла" in err
    assert not (profile.parent / "x.bin").exists()


def test_every_evidence_option_and_positional_has_help() -> None:
    parser = build_parser()
    actions = _subparser(parser, "evidence")
    missing = []
    for name in ("add", "list", "show", "verify", "export", "custody", "purge"):
        sub = _subparser(actions, name)
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if action.dest in ("profile", "json", "yes", "lang"):
                continue
            if not action.help:
                missing.append(f"{name} {action.dest}")
    assert missing == []
    export_help = _subparser(actions, "export").format_help()
    assert "existing folder" in export_help


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]  # type: ignore[no-any-return]
    raise AssertionError(name)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_drive_kind_reads_sysfs_or_says_unknown() -> None:
    from fieldkit.services.evidence import _drive_kind

    assert _drive_kind(Path("/")) in ("local", "removable", None)
    assert _drive_kind(Path("/nonexistent-folder-W-017")) is None
    if Path("/dev/shm").is_dir():
        assert _drive_kind(Path("/dev/shm")) is None  # tmpfs: no block device behind it

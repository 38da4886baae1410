"""Opt-in protections at unlock, on real profiles: erase after N failed unlocks, and a duress
passphrase that destroys the key file and opens an empty profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import get_translator
from fieldkit.services import protection
from fieldkit.services.profile import create_profile, open_profile, profile_exists
from fieldkit.services.records import RecordService
from fieldkit.storage.vault import keyfile_path
from tests.helpers import OTHER_PASSPHRASE, STRONG_PASSPHRASE, cli_env, run_cli

DURESS = "жовтий трамвай їде повз старий млин 41"


def _profile(tmp_path: Path) -> Path:
    path = tmp_path / "p"
    vault = create_profile(path, STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests())
    RecordService(vault).add("person", {"pseudonym": "W-017"})
    vault.lock()
    return path


def _wrong(path: Path) -> FieldkitError:
    with pytest.raises(FieldkitError) as err:
        open_profile(path, OTHER_PASSPHRASE)
    return err.value


def test_off_by_default_any_number_of_failures_erases_nothing(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    for _ in range(25):
        assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    assert profile_exists(path)
    assert not (path / "unlock_guard.json").exists()


def test_erase_after_failed_unlocks_in_a_row(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    with open_profile(path, STRONG_PASSPHRASE) as vault:
        assert protection.set_erase_after(vault, 3).erase_after == 3
    assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    assert protection.protection_status(path).failures == 2
    open_profile(path, STRONG_PASSPHRASE).lock()  # a good unlock starts the count again
    assert protection.protection_status(path).failures == 0
    assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    erased = _wrong(path)
    assert erased.code == ErrorCode.PROFILE_ERASED_AFTER_FAILURES
    assert "3" in erased.message()
    assert "після 3" in erased.message(get_translator("uk")).lower()
    assert not keyfile_path(path).exists()
    assert not profile_exists(path)
    with pytest.raises(FieldkitError):
        open_profile(path, STRONG_PASSPHRASE)


def test_only_the_offered_limits_are_accepted(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    with open_profile(path, STRONG_PASSPHRASE) as vault:
        with pytest.raises(FieldkitError) as err:
            protection.set_erase_after(vault, 1)
        assert err.value.code == ErrorCode.INVALID_ARGUMENT
        assert protection.set_erase_after(vault, None).erase_after is None


def test_duress_passphrase_destroys_the_key_and_opens_an_empty_profile(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    with open_profile(path, STRONG_PASSPHRASE) as vault:
        assert protection.set_duress_passphrase(vault, DURESS).duress
        old_key = keyfile_path(path).read_bytes()
    assert b"W-017" not in (path / "unlock_guard.json").read_bytes()
    assert DURESS.encode() not in (path / "unlock_guard.json").read_bytes()
    with open_profile(path, DURESS) as empty:
        assert empty.role == Role.MONITOR
        assert RecordService(empty).list() == []
    assert keyfile_path(path).read_bytes() != old_key
    assert not protection.protection_status(path).duress  # the new profile has none
    assert _wrong(path).code == ErrorCode.WRONG_PASSPHRASE
    with pytest.raises(FieldkitError) as err:
        open_profile(path, STRONG_PASSPHRASE)  # the real one is gone with its key file
    assert err.value.code == ErrorCode.WRONG_PASSPHRASE


def test_duress_passphrase_must_differ_and_be_strong(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    with open_profile(path, STRONG_PASSPHRASE) as vault:
        with pytest.raises(FieldkitError) as err:
            protection.set_duress_passphrase(vault, STRONG_PASSPHRASE)
        assert err.value.code == ErrorCode.DURESS_IS_PASSPHRASE
        with pytest.raises(FieldkitError) as err:
            protection.set_duress_passphrase(vault, "password1")
        assert err.value.code == ErrorCode.WEAK_PASSPHRASE
        protection.set_duress_passphrase(vault, DURESS)
        assert not protection.set_duress_passphrase(vault, None).duress
    assert not (path / "unlock_guard.json").exists()


def test_protect_command(tmp_path: Path) -> None:
    profile = tmp_path / "cli"
    env = cli_env(profile)
    assert run_cli("init", "--role", "monitor", env=env).returncode == 0
    done = run_cli("protect", "--erase-after", "5", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "erase_after": 5, "duress": False}
    duress = run_cli(
        "--lang", "uk", "protect", "--duress", env={**env, "FIELDKIT_DURESS_PASSPHRASE": DURESS}
    )
    assert duress.returncode == 0, duress.stderr
    assert "Парольна фраза під примусом: задано" in duress.stdout
    bad = run_cli("protect", "--erase-after", "7", env=env)
    assert bad.returncode == 1
    assert "3 | 5 | 10 | 20 | off" in bad.stderr

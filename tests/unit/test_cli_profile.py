"""The profile commands run as a newcomer would: a real process, real files, real messages."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import OTHER_PASSPHRASE, STRONG_PASSPHRASE, cli_env, run_cli


def _assert_one_clear_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if not line.startswith("WARNING")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("fieldkit: ")
    assert "Traceback" not in stderr


def test_init_info_check_passwd_erase(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    env = cli_env(profile)

    created = run_cli("init", "--role", "coordinator", "--json", env=env)
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert data["role"] == "coordinator"
    assert data["kdf_insecure"] is True
    assert "INSECURE" in created.stderr

    info = run_cli("info", "--json", env=env)
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert facts["role"] == "coordinator"
    assert facts["device_key_fingerprint"] == data["device_key_fingerprint"]
    assert facts["kdf"]["algorithm"] == "argon2id"
    # Never a secret in the output.
    assert STRONG_PASSPHRASE not in info.stdout
    assert "signing_key" not in info.stdout

    human = run_cli("info", env=env)
    assert "Role:" in human.stdout
    assert "coordinator" in human.stdout

    check = run_cli("check", env=env)
    assert check.returncode == 0
    assert "Profile is intact." in check.stdout

    changed = run_cli("passwd", env=cli_env(profile, FIELDKIT_NEW_PASSPHRASE=OTHER_PASSPHRASE))
    assert changed.returncode == 0, changed.stderr
    old = run_cli("info", env=env)
    assert old.returncode == 1
    _assert_one_clear_line(old.stderr)
    assert "Wrong passphrase" in old.stderr
    assert run_cli("info", env=cli_env(profile, OTHER_PASSPHRASE)).returncode == 0

    refused = run_cli("erase", env=env)
    assert refused.returncode == 1
    assert "--yes" in refused.stderr
    assert profile.exists()
    erased = run_cli("erase", "--yes", env=env)
    assert erased.returncode == 0
    assert not profile.exists()


def test_global_options_before_or_after_the_command(tmp_path: Path) -> None:
    env = cli_env()
    profile = tmp_path / "p"
    assert run_cli("--profile", str(profile), "init", env=env).returncode == 0
    before = run_cli("--json", "--profile", str(profile), "info", env=env)
    after = run_cli("info", "--profile", str(profile), "--json", env=env)
    assert json.loads(before.stdout)["profile_id"] == json.loads(after.stdout)["profile_id"]


def test_expected_errors_are_one_line(tmp_path: Path) -> None:
    missing = run_cli("info", env=cli_env(tmp_path / "none"))
    assert missing.returncode == 1
    _assert_one_clear_line(missing.stderr)
    assert "No profile at" in missing.stderr

    weak = run_cli("init", env=cli_env(tmp_path / "weak", "password123"))
    assert weak.returncode == 1
    _assert_one_clear_line(weak.stderr)
    assert "too weak" in weak.stderr
    assert not (tmp_path / "weak" / "keyfile").exists()

    existing = tmp_path / "existing"
    assert run_cli("init", env=cli_env(existing)).returncode == 0
    no_passphrase = run_cli("info", env=cli_env(existing, passphrase=None), input="")
    assert no_passphrase.returncode == 1
    assert "FIELDKIT_PASSPHRASE" in no_passphrase.stderr
    # A missing profile is said first, without asking for a passphrase that cannot help.
    missing_quietly = run_cli("info", env=cli_env(tmp_path / "none", passphrase=None), input="")
    assert "No profile at" in missing_quietly.stderr

    as_json = run_cli("info", "--json", env=cli_env(tmp_path / "none"))
    assert json.loads(as_json.stdout)["error"]["code"] == "profile_not_found"


def test_messages_in_ukrainian_and_russian(tmp_path: Path) -> None:
    uk = run_cli("--lang", "uk", "info", env=cli_env(tmp_path / "none"))
    ru = run_cli("info", env=cli_env(tmp_path / "none", FIELDKIT_LANG="ru"))
    assert "профіл" in uk.stderr.lower()
    assert "профил" in ru.stderr.lower()


def test_damaged_database_reported_by_check(tmp_path: Path) -> None:
    profile = tmp_path / "p"
    env = cli_env(profile)
    assert run_cli("init", env=env).returncode == 0
    db = profile / "profile.db"
    raw = bytearray(db.read_bytes())
    raw[300] ^= 0xFF
    db.write_bytes(bytes(raw))
    info = run_cli("info", env=env)
    assert info.returncode == 1
    _assert_one_clear_line(info.stderr)
    assert "damaged" in info.stderr
    assert "profile.db" in info.stderr
    check = run_cli("check", env=env)
    assert check.returncode == 1
    assert "PROBLEMS FOUND" in check.stdout

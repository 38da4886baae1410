"""The vault on real SQLCipher files: create, unlock, lock, passphrases, damage, erase."""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import text

from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.keys import KeyFile
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage import vault as vault_mod
from fieldkit.storage.changes import current_change_seq, next_change_seq
from fieldkit.storage.engine import connect_raw
from fieldkit.storage.vault import Vault, change_passphrase, erase
from tests.helpers import OTHER_PASSPHRASE, STRONG_PASSPHRASE

SQLITE_HEADER = b"SQLite format 3\x00"


def _code(excinfo: pytest.ExceptionInfo[FieldkitError]) -> ErrorCode:
    return excinfo.value.code


def test_create_unlock_lock(tmp_path: Path, fast_kdf: KdfParams) -> None:
    path = tmp_path / "p"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf)
    device_id = vault.device_id
    fingerprint = vault.device_key_fingerprint
    vault.lock()
    assert vault.is_locked
    with pytest.raises(FieldkitError) as locked:
        vault.subkey("anything")
    assert _code(locked) == ErrorCode.PROFILE_LOCKED
    with pytest.raises(FieldkitError), vault.session():
        pass

    again = Vault.unlock(path, STRONG_PASSPHRASE)
    assert again.role == Role.COORDINATOR
    assert again.device_id == device_id
    assert again.device_key_fingerprint == fingerprint
    # The device key signs and its public half matches what the profile records.
    key = again.device_signing_key()
    signature = key.sign(b"payload")
    key.public_key().verify(signature, b"payload")
    again.lock()


def test_units_of_work_reuse_a_keyed_connection_and_the_lock_closes_them_all(
    tmp_path: Path, fast_kdf: KdfParams
) -> None:
    import sqlcipher3

    vault = Vault.create(tmp_path / "p", STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)

    def raw(session: object) -> object:
        return session.connection().connection.dbapi_connection

    with vault.session() as s:
        first = raw(s)
    with vault.session() as s:
        assert raw(s) is first  # kept open between units of work while unlocked
    in_use = vault.engine.connect()
    other = in_use.connection.dbapi_connection
    assert other is first
    with vault.session() as s:
        idle = raw(s)  # a second connection, given back (idle) before the lock
    assert idle is not first
    vault.lock()
    # The idle connection is closed by the lock, the one in use as soon as it is given back.
    with pytest.raises(sqlcipher3.ProgrammingError):
        idle.execute("SELECT 1")
    other.execute("SELECT 1")
    in_use.close()
    with pytest.raises(sqlcipher3.ProgrammingError):
        other.execute("SELECT 1")


def test_files_are_private_and_encrypted(new_vault: Vault) -> None:
    path = new_vault.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for name in ("keyfile", "profile.db"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600
    assert not (path / "profile.db").read_bytes().startswith(SQLITE_HEADER)


def test_subkeys_are_independent_and_stable(tmp_path: Path, fast_kdf: KdfParams) -> None:
    vault = Vault.create(tmp_path / "p", STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    a, b = vault.subkey("evidence-store"), vault.subkey("bundle-quarantine")
    assert a != b
    assert len(a) == 32
    vault.lock()
    again = Vault.unlock(tmp_path / "p", STRONG_PASSPHRASE)
    assert again.subkey("evidence-store") == a
    again.lock()


def test_wrong_passphrase_is_its_own_error(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE + "x")
    assert _code(excinfo) == ErrorCode.WRONG_PASSPHRASE
    assert "Wrong passphrase" in excinfo.value.message()


@pytest.mark.parametrize(
    "passphrase",
    [
        "she said \"no\" and 'yes' ; -- drop",
        "colons:between:every:word:of:this",
        "Київ, вулиця Хрещатик, будинок сорок два",
        "🔐 ключ 🗝 сховище 🐎 horse",
        "x'deadbeef' pragma key = \"oops\"",
    ],
)
def test_passphrases_with_special_characters(
    tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    path = tmp_path / "p"
    Vault.create(path, passphrase, Role.MONITOR, fast_kdf).lock()
    Vault.unlock(path, passphrase).lock()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, passphrase[:-1])
    assert _code(excinfo) == ErrorCode.WRONG_PASSPHRASE


def test_composed_and_decomposed_forms_unlock_alike(tmp_path: Path, fast_kdf: KdfParams) -> None:
    composed = "їжак йде через поле й ліс 2024"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    Vault.create(tmp_path / "p", composed, Role.MONITOR, fast_kdf).lock()
    Vault.unlock(tmp_path / "p", decomposed).lock()


def test_very_long_passphrase(tmp_path: Path, fast_kdf: KdfParams) -> None:
    long = (
        "над тихим Дніпром світає, рибалки несуть сіті додому, а старий пес спить "
        "біля воріт садиби 🐎 1987"
    )
    assert len(long) > 72
    Vault.create(tmp_path / "p", long, Role.MONITOR, fast_kdf).lock()
    Vault.unlock(tmp_path / "p", long).lock()


@pytest.mark.parametrize("weak", ["Password1!", "monitor2024", "qwertyuiop", "aaaaaaaaaaaaaaaa"])
def test_weak_passphrase_refused_with_reason(
    tmp_path: Path, fast_kdf: KdfParams, weak: str
) -> None:
    with pytest.raises(FieldkitError) as excinfo:
        Vault.create(tmp_path / "p", weak, Role.MONITOR, fast_kdf)
    assert _code(excinfo) == ErrorCode.WEAK_PASSPHRASE
    assert "too weak" in excinfo.value.message()
    assert not (tmp_path / "p" / "keyfile").exists()


def test_create_refuses_existing_profile(new_vault: Vault, fast_kdf: KdfParams) -> None:
    with pytest.raises(FieldkitError) as excinfo:
        Vault.create(new_vault.path, OTHER_PASSPHRASE, Role.MONITOR, fast_kdf)
    assert _code(excinfo) == ErrorCode.PROFILE_EXISTS


def test_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(tmp_path / "nothing", STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.PROFILE_NOT_FOUND


def test_kdf_parameters_are_stored_per_profile(tmp_path: Path) -> None:
    custom = KdfParams(memory_kib=8 * 1024, iterations=2, lanes=2, salt=os.urandom(16))
    Vault.create(tmp_path / "p", STRONG_PASSPHRASE, Role.MONITOR, custom).lock()
    stored = KeyFile.from_bytes((tmp_path / "p" / "keyfile").read_bytes()).kdf
    assert (stored.memory_kib, stored.iterations, stored.lanes) == (8 * 1024, 2, 2)
    assert stored.insecure
    assert not KdfParams(memory_kib=256 * 1024, iterations=3, lanes=4, salt=b"s" * 16).insecure
    Vault.unlock(tmp_path / "p", STRONG_PASSPHRASE).lock()


def test_change_passphrase_rewraps_only(new_vault: Vault) -> None:
    path = new_vault.path
    with new_vault.session() as s:
        next_change_seq(s)
    new_vault.lock()
    db_before = (path / "profile.db").read_bytes()
    change_passphrase(path, STRONG_PASSPHRASE, OTHER_PASSPHRASE)
    assert (path / "profile.db").read_bytes() == db_before
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.WRONG_PASSPHRASE
    with Vault.unlock(path, OTHER_PASSPHRASE) as vault, vault.session() as s:
        assert current_change_seq(s) == 1


def test_change_passphrase_keeps_a_stronger_kdf_and_a_fresh_salt(
    tmp_path: Path, fast_kdf: KdfParams
) -> None:
    custom = KdfParams(memory_kib=8 * 1024, iterations=2, lanes=2, salt=os.urandom(16))
    Vault.create(tmp_path / "p", STRONG_PASSPHRASE, Role.MONITOR, custom).lock()
    change_passphrase(tmp_path / "p", STRONG_PASSPHRASE, OTHER_PASSPHRASE)
    stored = KeyFile.from_bytes((tmp_path / "p" / "keyfile").read_bytes()).kdf
    assert (stored.memory_kib, stored.iterations, stored.lanes) == (8 * 1024, 2, 2)
    assert stored.salt != custom.salt
    Vault.unlock(tmp_path / "p", OTHER_PASSPHRASE).lock()


def test_change_passphrase_needs_the_old_one_and_a_strong_new_one(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    with pytest.raises(FieldkitError) as wrong:
        change_passphrase(path, "not the passphrase at all 99", OTHER_PASSPHRASE)
    assert _code(wrong) == ErrorCode.WRONG_PASSPHRASE
    with pytest.raises(FieldkitError) as weak:
        change_passphrase(path, STRONG_PASSPHRASE, "password123")
    assert _code(weak) == ErrorCode.WEAK_PASSPHRASE
    Vault.unlock(path, STRONG_PASSPHRASE).lock()


@pytest.mark.parametrize("failing_call", ["write", "fsync", "replace"])
def test_interrupted_passphrase_change_keeps_old_passphrase(
    new_vault: Vault, monkeypatch: pytest.MonkeyPatch, failing_call: str
) -> None:
    path = new_vault.path
    new_vault.lock()

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("simulated power loss")

    with monkeypatch.context() as patch:
        patch.setattr(vault_mod.os, failing_call, fail)
        with pytest.raises(OSError):
            change_passphrase(path, STRONG_PASSPHRASE, OTHER_PASSPHRASE)
    Vault.unlock(path, STRONG_PASSPHRASE).lock()
    # The half-written new key file is destroyed at the next unlock.
    assert not (path / vault_mod.PENDING_KEYFILE_NAME).exists()
    with pytest.raises(FieldkitError):
        Vault.unlock(path, OTHER_PASSPHRASE)


def test_damaged_key_file_is_named(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    keyfile = path / "keyfile"
    raw = bytearray(keyfile.read_bytes())
    position = raw.index(b'"ciphertext": "') + 20
    raw[position] = ord("0") if raw[position] != ord("0") else ord("1")
    keyfile.write_bytes(bytes(raw))
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.KEYFILE_DAMAGED
    assert "keyfile" in excinfo.value.message()


def test_truncated_and_missing_key_file(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    keyfile = path / "keyfile"
    original = keyfile.read_bytes()
    keyfile.write_bytes(original[: len(original) // 2])
    with pytest.raises(FieldkitError) as damaged:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(damaged) == ErrorCode.KEYFILE_DAMAGED
    keyfile.unlink()
    with pytest.raises(FieldkitError) as missing:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(missing) == ErrorCode.KEYFILE_MISSING


def _fill(vault: Vault, rows: int) -> None:
    with vault.session() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(rows):
            s.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": f"row {i} " * 40})


def test_damaged_first_page_is_a_database_error_not_a_passphrase_error(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    db = path / "profile.db"
    raw = bytearray(db.read_bytes())
    raw[200] ^= 0xFF
    db.write_bytes(bytes(raw))
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.DATABASE_DAMAGED
    assert "profile.db" in excinfo.value.message()
    report = vault_mod.check_database(path, STRONG_PASSPHRASE)
    assert not report.ok


def test_damaged_later_page_is_found_by_check(new_vault: Vault) -> None:
    path = new_vault.path
    _fill(new_vault, 400)
    assert new_vault.check().ok
    new_vault.lock()
    db = path / "profile.db"
    raw = bytearray(db.read_bytes())
    page_size = 4096
    pages = len(raw) // page_size
    target_page = pages - 2
    raw[target_page * page_size + 1000] ^= 0x55
    db.write_bytes(bytes(raw))
    report = vault_mod.check_database(path, STRONG_PASSPHRASE)
    assert not report.ok
    assert any(f"page {target_page + 1}" in problem for problem in report.cipher_problems)


def test_missing_database_is_named(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    (path / "profile.db").unlink()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.DATABASE_MISSING


def test_database_of_another_profile_is_refused(tmp_path: Path, fast_kdf: KdfParams) -> None:
    a = Vault.create(tmp_path / "a", STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    b = Vault.create(tmp_path / "b", STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    a.lock()
    b.lock()
    (tmp_path / "a" / "profile.db").write_bytes((tmp_path / "b" / "profile.db").read_bytes())
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(tmp_path / "a", STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.DATABASE_DAMAGED


def test_erase_destroys_key_file_first(new_vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    path = new_vault.path
    _fill(new_vault, 10)
    key = new_vault.subkey("sqlcipher")
    new_vault.lock()
    # Even if deleting the rest fails (a stuck USB stick, a read-only folder), the key is gone.
    monkeypatch.setattr(vault_mod.shutil, "rmtree", lambda *a, **k: None)
    erase(path)
    assert not (path / "keyfile").exists()
    assert (path / "profile.db").exists()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert _code(excinfo) == ErrorCode.KEYFILE_MISSING
    for leftover in path.iterdir():
        assert not leftover.read_bytes().startswith(SQLITE_HEADER)
    # Only the (now destroyed) master key could give this key; with it, the file still opens,
    # which shows that what remains is ciphertext and nothing else.
    connect_raw(path / "profile.db", key).close()


def test_erase_removes_the_folder(new_vault: Vault) -> None:
    path = new_vault.path
    new_vault.lock()
    erase(path)
    assert not path.exists()
    with pytest.raises(FieldkitError) as excinfo:
        erase(path)
    assert _code(excinfo) == ErrorCode.PROFILE_NOT_FOUND


def test_integrity_check_on_healthy_profile(new_vault: Vault) -> None:
    _fill(new_vault, 50)
    report = new_vault.check()
    assert report.ok
    assert report.cipher_problems == ()
    assert report.sqlite_problems == ()


def test_attach_is_forbidden(new_vault: Vault, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not authorized"), new_vault.session() as s:
        s.execute(text(f"ATTACH DATABASE '{tmp_path / 'plain.db'}' AS plain KEY ''"))
    assert not (tmp_path / "plain.db").exists()


def test_temp_store_is_memory_and_this_is_sqlcipher(new_vault: Vault) -> None:
    with new_vault.session() as s:
        assert s.execute(text("PRAGMA temp_store")).scalar_one() == 2
        assert s.execute(text("PRAGMA cipher_version")).scalar_one()
        assert s.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert s.execute(text("PRAGMA secure_delete")).scalar_one() == 1
        assert s.execute(text("PRAGMA synchronous")).scalar_one() == 2

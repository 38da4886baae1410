"""Migrations: the newest revision matches the models; every revision upgrades and downgrades."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.storage import migrate
from fieldkit.storage import tables as _tables  # noqa: F401  (registers every table)
from fieldkit.storage.base import Base
from fieldkit.storage.engine import open_engine
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE


@pytest.fixture
def empty_engine(tmp_path: Path) -> Engine:
    engine = open_engine(tmp_path / "migrations.db", os.urandom(32))
    yield engine
    engine.dispose()


def _virtual_tables(engine: Engine) -> set[str]:
    """FTS5 tables and their shadow tables: created by migrations, invisible to the ORM."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    return virtual | {name for name, _sql in rows if any(name.startswith(v + "_") for v in virtual)}


def _schema_differences(engine: Engine) -> list[object]:
    skip = _virtual_tables(engine)

    def include(obj: object, name: str | None, type_: str, *_args: object) -> bool:
        if type_ == "table" and name in skip:
            return False
        table = getattr(obj, "table", None)
        return not (table is not None and getattr(table, "name", None) in skip)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_head_matches_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert _schema_differences(empty_engine) == []


def test_expected_head_matches_alembic() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    chain = list(script.walk_revisions())
    assert len(script.get_heads()) == 1, "the revisions must stay one linear chain"
    assert migrate.expected_head() == migrate.head_revision()
    for revision in chain:
        assert revision.module.__file__ is not None
        assert Path(revision.module.__file__).stem == revision.revision


def test_every_revision_upgrades_and_downgrades(empty_engine: Engine) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001_foundation"
    previous = "base"
    for revision in revisions:
        migrate.upgrade(empty_engine, revision)
        assert migrate.current_revision(empty_engine) == revision
        migrate.downgrade(empty_engine, previous)
        migrate.upgrade(empty_engine, revision)
        previous = revision
    migrate.downgrade(empty_engine, "base")
    remaining = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_upgrade_on_unlock_keeps_an_encrypted_copy(tmp_path: Path, fast_kdf: KdfParams) -> None:
    path = tmp_path / "p"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    head = migrate.head_revision()
    script = ScriptDirectory.from_config(migrate.alembic_config())
    older = script.get_revision(head).down_revision
    if older is None:
        pytest.skip("only one revision exists")
    migrate.downgrade(vault.engine, str(older))
    vault.lock()

    again = Vault.unlock(path, STRONG_PASSPHRASE)
    assert again.database_revision() == head
    again.lock()
    copies = list((path / "backups").iterdir())
    assert len(copies) == 1
    assert str(older) in copies[0].name
    assert not copies[0].read_bytes().startswith(b"SQLite format 3")
    # The copy is the same encrypted database, openable with the same key, at the old revision.
    engine = open_engine(copies[0], Vault.unlock(path, STRONG_PASSPHRASE).subkey("sqlcipher"))
    try:
        assert migrate.current_revision(engine) == older
    finally:
        engine.dispose()


def test_newer_database_is_refused(tmp_path: Path, fast_kdf: KdfParams) -> None:
    from fieldkit.domain.errors import ErrorCode, FieldkitError

    path = tmp_path / "p"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    with vault.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    vault.lock()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(path, STRONG_PASSPHRASE)
    assert excinfo.value.code == ErrorCode.DATABASE_TOO_NEW

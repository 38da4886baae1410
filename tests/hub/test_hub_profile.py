"""A coordinator's hub profile on a real PostgreSQL server: create, unlock, info, check, refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services import profile as profile_service
from fieldkit.services.records import RecordService
from fieldkit.storage import migrate, server
from fieldkit.storage.server import HUB_SETTINGS_NAME
from fieldkit.storage.vault import Vault
from tests import pg
from tests.helpers import STRONG_PASSPHRASE, cli_env, run_cli


def test_hub_profile_keeps_records_on_the_server(
    tmp_path: Path, pg_database: str, fast_kdf: KdfParams
) -> None:
    folder = tmp_path / "hub"
    vault = Vault.create(
        folder, STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=pg_database
    )
    profile_id = vault.profile_id
    assert vault.backend == "postgresql"
    assert vault.database_revision() == migrate.head_revision()
    vault.lock()
    # The folder keeps the key file and the settings; no database file.
    assert sorted(p.name for p in folder.iterdir()) == [HUB_SETTINGS_NAME, "keyfile"]
    assert json.loads((folder / HUB_SETTINGS_NAME).read_text())["database"] == pg_database
    again = profile_service.open_profile(folder, STRONG_PASSPHRASE)
    try:
        assert again.profile_id == profile_id
        assert again.role == Role.COORDINATOR
        assert again.store_dir == folder / "store"
        report = profile_service.check_profile(again)
        assert report.ok, report
        info = profile_service.profile_info(again)
        assert info.database is not None
        assert "postgresql" in info.database
        assert info.counts["records"] == 0
    finally:
        again.lock()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.unlock(folder, "not the passphrase at all")
    assert excinfo.value.code == ErrorCode.WRONG_PASSPHRASE


def test_a_database_that_already_holds_a_hub_is_refused(
    tmp_path: Path, pg_database: str, fast_kdf: KdfParams
) -> None:
    Vault.create(
        tmp_path / "a", STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=pg_database
    ).lock()
    with pytest.raises(FieldkitError) as excinfo:
        Vault.create(
            tmp_path / "b", STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=pg_database
        )
    assert excinfo.value.code == ErrorCode.DATABASE_NOT_EMPTY
    assert not (tmp_path / "b").exists()


def test_bad_addresses_are_explained(
    tmp_path: Path, pg_cluster: pg.Cluster, fast_kdf: KdfParams
) -> None:
    for address, code in [
        ("mysql://someone@server/db", ErrorCode.DATABASE_URL_INVALID),
        ("postgresql://someone@server", ErrorCode.DATABASE_URL_INVALID),
        (pg_cluster.url("no_such_database"), ErrorCode.DATABASE_UNREACHABLE),
    ]:
        with pytest.raises(FieldkitError) as excinfo:
            Vault.create(
                tmp_path / "x", STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=address
            )
        assert excinfo.value.code == code
        assert not (tmp_path / "x").exists()


def test_hub_init_from_the_command_line(tmp_path: Path, pg_database: str) -> None:
    folder = tmp_path / "hub"
    store = tmp_path / "evidence"
    env = cli_env(folder)
    created = run_cli(
        "--json",
        "init",
        "--role",
        "coordinator",
        "--database",
        pg_database,
        "--store",
        str(store),
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["database"]
    info = run_cli("--json", "info", env=env)
    assert info.returncode == 0, info.stderr
    assert "postgresql" in json.loads(info.stdout)["database"]
    org = run_cli("org", "init", "--name", "Hub organisation", env=env)
    assert org.returncode == 0, org.stderr
    monitor = run_cli("init", "--database", pg_database, env=cli_env(tmp_path / "m"))
    assert monitor.returncode == 1
    assert "coordinator" in monitor.stderr


def test_migrations_on_postgresql_match_the_models_and_go_down_and_up(
    pg_cluster: pg.Cluster,
) -> None:
    """As tests/migrations does for SQLite: every revision up and down, and the head's schema
    is the models' (sealed columns as bytea; the keyed-token table beside them)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from fieldkit.storage.base import Base
    from fieldkit.storage.server import open_server_engine
    from fieldkit.storage.tokens import TOKENS_TABLE

    name = pg_cluster.new_database()
    engine = open_server_engine(pg_cluster.url(name))
    try:
        script = ScriptDirectory.from_config(migrate.alembic_config())
        previous = "base"
        for revision in [r.revision for r in reversed(list(script.walk_revisions()))]:
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
            migrate.downgrade(engine, previous)
            migrate.upgrade(engine, revision)
            previous = revision
        assert migrate.current_revision(engine) == migrate.head_revision()

        def include(obj: object, name: str | None, type_: str, *_args: object) -> bool:
            table = getattr(obj, "table", None)
            outside = name == TOKENS_TABLE if type_ == "table" else False
            return not outside and getattr(table, "name", None) != TOKENS_TABLE

        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": include, "compare_type": True}
            )
            assert list(compare_metadata(context, Base.metadata)) == []
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    finally:
        engine.dispose()
        pg_cluster.drop_database(name)


def test_a_connection_the_server_dropped_is_replaced_after_a_rest(
    tmp_path: Path,
    pg_cluster: pg.Cluster,
    pg_database: str,
    fast_kdf: KdfParams,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pooled connection is not pinged while in steady use; one that rested is checked, and
    one the server closed meanwhile (a restart, a network drop) is replaced without an error."""
    vault = Vault.create(
        tmp_path / "hub", STRONG_PASSPHRASE, Role.COORDINATOR, fast_kdf, database=pg_database
    )
    try:
        records = RecordService(vault)
        made = records.add("person", {"pseudonym": "R-7"})
        name = make_url(pg_database).database
        pg_cluster.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        monkeypatch.setattr(server, "REST_BEFORE_PING", 0.0)
        assert records.get(made.id).data["pseudonym"] == "R-7"  # a unit of work
        assert records.count() == 1  # a single reading statement
        assert [s.id for s in records.list_summaries()] == [made.id]
    finally:
        vault.lock()

"""Alembic migrations shipped inside the package, applied over the keyed connection."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.fsutil import FILE_MODE, make_private_dir

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic itself is imported only when a migration has to run: it costs about 0.3 s at start-up,
# and an up-to-date profile needs nothing but a comparison with the newest revision's name.
VERSIONS = resources.files("fieldkit.storage") / "migrations" / "versions"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    location = resources.files("fieldkit.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def expected_head() -> str:
    """The newest revision without loading Alembic: revisions are a linear chain whose file names
    are their ids, numbered in order (a test checks this against Alembic's own answer)."""
    names = [
        entry.name.removesuffix(".py")
        for entry in VERSIONS.iterdir()
        if entry.name.endswith(".py") and entry.name[:4].isdigit()
    ]
    return max(names)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except (OperationalError, ProgrammingError):  # no such table (SQLite, PostgreSQL)
            return None
    return str(row[0]) if row else None


# Two coordinators unlocking a hub that needs an upgrade: one migrates, the other waits for it.
_MIGRATION_LOCK = 0x6669656C646B6974  # "fieldkit"


def upgrade(engine: Engine, target: str = "head") -> None:
    with engine.begin() as conn:
        upgrade_connection(conn, target)


def upgrade_connection(conn: Connection, target: str = "head") -> None:
    """Run the migrations inside the caller's transaction (on PostgreSQL, DDL included)."""
    from alembic import command

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, target)


def holds_fieldkit_data(engine: Engine) -> bool:
    """Whether a server database already belongs to a hub (its identity row is there). A schema
    made beforehand, without the identity row, is fine: a new hub upgrades it and moves in."""
    with engine.connect() as conn:
        if "profile_meta" not in inspect(conn).get_table_names():
            return False
        return conn.execute(text("SELECT 1 FROM profile_meta")).first() is not None


def schema_tables() -> list[str]:
    """The names of the tables the models define (what an integrity check reads)."""
    from fieldkit.storage import tables  # noqa: F401  (registers every table)
    from fieldkit.storage.base import Base

    return sorted(Base.metadata.tables)


def migrate_server(engine: Engine) -> None:
    """A hub's database to the newest revision. No file copy is taken: the server's own backups
    (and the transactional DDL, which leaves the old schema whole on failure) stand for it."""
    current = current_revision(engine)
    if current == expected_head():
        return
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise FieldkitError(ErrorCode.DATABASE_TOO_NEW, revision=current)
    try:
        upgrade(engine)
    except FieldkitError:
        raise
    except Exception as exc:
        raise FieldkitError(
            ErrorCode.MIGRATION_FAILED, reason=type(exc).__name__, backup="-"
        ) from exc


def downgrade(engine: Engine, target: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, target)


def migrate_on_unlock(engine: Engine, db_path: Path, backups_dir: Path) -> Path | None:
    """Bring the database to the newest revision, keeping an encrypted copy first.

    Returns the path of the copy when an upgrade happened.
    """
    current = current_revision(engine)
    if current == expected_head():
        return None
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise FieldkitError(ErrorCode.DATABASE_TOO_NEW, revision=current)
    backup: Path | None = None
    if current is not None:
        backup = backup_database(engine, db_path, backups_dir, label=current)
    try:
        upgrade(engine)
    except FieldkitError:
        raise
    except Exception as exc:
        raise FieldkitError(
            ErrorCode.MIGRATION_FAILED, reason=type(exc).__name__, backup=str(backup or "-")
        ) from exc
    return backup


def backup_database(engine: Engine, db_path: Path, backups_dir: Path, label: str) -> Path:
    """Copy the encrypted file as it is (after folding the WAL in); the copy stays encrypted."""
    make_private_dir(backups_dir)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backups_dir / f"profile-{label}-{stamp}.db"
    shutil.copyfile(db_path, target)
    target.chmod(FILE_MODE)
    return target

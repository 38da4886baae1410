"""Alembic migrations shipped inside the package, applied over the keyed connection."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.fsutil import FILE_MODE, make_private_dir


def alembic_config() -> Config:
    config = Config()
    location = resources.files("fieldkit.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)


def downgrade(engine: Engine, target: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, target)


def migrate_on_unlock(engine: Engine, db_path: Path, backups_dir: Path) -> Path | None:
    """Bring the database to the newest revision, keeping an encrypted copy first.

    Returns the path of the copy when an upgrade happened.
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    current = current_revision(engine)
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

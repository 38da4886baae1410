"""The SQLCipher engine: raw-key mode, the pragma sequence, and nothing else.

The order matters and was measured (see the security brief, section 1): key first; silence
SQLCipher's own logging; prove the key with a read; make sure this really is SQLCipher (the stdlib
module ignores the key and would write plaintext); then the settings that keep plaintext off the
disk and committed data safe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlcipher import SQLiteDialect_pysqlcipher
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from fieldkit.domain.errors import ErrorCode, FieldkitError

BUSY_TIMEOUT_MS = 10_000


class KeyedSQLCipherDialect(SQLiteDialect_pysqlcipher):
    """The stock dialect keys connections from the URL; ours are keyed by our own creator."""

    supports_statement_cache = True

    def on_connect_url(self, url: Any) -> Callable[[Any], None] | None:
        return super(SQLiteDialect_pysqlcipher, self).on_connect_url(url)


class DatabaseUnreadable(Exception):
    """The key was applied but the first read failed: the file is damaged or not ours."""


def _apply_pragmas(conn: sqlcipher3.Connection, key_hex: str) -> None:
    cursor = conn.cursor()
    try:
        cursor.execute(f"PRAGMA key = \"x'{key_hex}'\"")
        cursor.execute("PRAGMA cipher_log_level = NONE")
        try:
            cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise DatabaseUnreadable(str(exc)) from exc
        version = cursor.execute("PRAGMA cipher_version").fetchone()
        if not version or not version[0]:
            raise FieldkitError(ErrorCode.SQLCIPHER_UNAVAILABLE)
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA trusted_schema = OFF")
        options = {row[0] for row in cursor.execute("PRAGMA compile_options")}
        if not options & {"TEMP_STORE=2", "TEMP_STORE=3"}:
            raise FieldkitError(
                ErrorCode.UNSAFE_SQLITE_BUILD, reason="temporary files would not stay in memory"
            )
    finally:
        cursor.close()


def connect_raw(db_path: Path, key: bytes) -> sqlcipher3.Connection:
    """A keyed DB-API connection with the full pragma sequence (also used by tests and checks)."""
    conn = sqlcipher3.connect(str(db_path), check_same_thread=False)
    try:
        _apply_pragmas(conn, key.hex())
    except BaseException:
        conn.close()
        raise
    return conn


def _forbid_attach(conn: Any, _record: Any) -> None:
    # ATTACH with an empty key plus sqlcipher_export() writes a plaintext copy: never allow it.
    def authorizer(action: int, *_args: Any) -> int:
        denied = action == sqlcipher3.SQLITE_ATTACH
        return int(sqlcipher3.SQLITE_DENY if denied else sqlcipher3.SQLITE_OK)

    conn.set_authorizer(authorizer)


class KeyedPool(QueuePool):
    """A few keyed connections kept open while the profile is unlocked, closed when it locks.

    Reusing a connection keeps SQLCipher's page cache (decrypted pages), its prepared statements
    and the full-text index's set-up across units of work; each new connection would key, run the
    pragma sequence and decrypt the same pages again. :meth:`dispose` (``Vault.lock``) closes the
    idle connections, and a connection still in use then is closed as soon as it is given back,
    so no keyed connection outlives the lock. Each connection serves one thread at a time.
    """

    _closed_for_good = False

    def dispose(self) -> None:
        self._closed_for_good = True
        super().dispose()

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        if self._closed_for_good:
            record.close()
            return
        super()._do_return_conn(record)


# Connections kept open while unlocked (the GUI thread, a list or search worker, the drafts
# worker); more are opened when needed and closed when given back.
POOL_SIZE = 3

registry.register("sqlite.fieldkit_sqlcipher", "fieldkit.storage.engine", "KeyedSQLCipherDialect")


def open_engine(db_path: Path, key: bytes) -> Engine:
    """An engine whose every connection is keyed; a :class:`KeyedPool` keeps a few open until
    ``engine.dispose()`` (the lock)."""
    key_hex = key.hex()

    def creator() -> sqlcipher3.Connection:
        conn = sqlcipher3.connect(str(db_path), check_same_thread=False)
        try:
            _apply_pragmas(conn, key_hex)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise
        return conn

    engine = create_engine(
        "sqlite+fieldkit_sqlcipher://",
        creator=creator,
        poolclass=KeyedPool,
        pool_size=POOL_SIZE,
        max_overflow=-1,
        hide_parameters=True,
    )
    event.listen(engine, "connect", _forbid_attach)
    return engine

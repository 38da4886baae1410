"""The hub's engine: PostgreSQL through psycopg 3, for a coordinator profile that lives on a server.

The profile folder keeps the key file and ``hub.json`` (where the database is, where evidence
files go); the records live in the organisation's PostgreSQL. Connections are pooled (a server
connection holds no key: every key stays in this process). What must not be readable in a copy of
the database is sealed before it is sent (see ``storage/sealing.py``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.fsutil import atomic_write_bytes
from fieldkit.storage.profile_files import HUB_SETTINGS_NAME as HUB_SETTINGS_NAME

DRIVER = "postgresql+psycopg"
# Seconds to wait for the server before saying it cannot be reached.
CONNECT_TIMEOUT = 10
# Seconds a pooled connection may rest before it is checked on its next use. A connection in
# steady use is not pinged (a ping is a round trip on every list page and search); one that
# rested may have been closed by a server restart or a network drop, and is replaced silently.
REST_BEFORE_PING = 20.0


@dataclass(frozen=True)
class HubSettings:
    """What ``hub.json`` holds: the database address and, when named, the evidence folder; for
    a person who joined with an invitation, their label and their database password sealed
    under their slot key (``storage/hub_slots.py``)."""

    database: str
    store: str | None = None
    person: str | None = None
    login: str | None = None

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {"format": 1, "database": self.database}
        if self.store is not None:
            body["store"] = self.store
        if self.person is not None:
            body["person"] = self.person
            body["login"] = self.login
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def read(cls, folder: Path) -> HubSettings | None:
        """The settings of a hub profile, or None for a profile with its own database file."""
        path = folder / HUB_SETTINGS_NAME
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FieldkitError(
                ErrorCode.FILE_NOT_READABLE, path=str(path), reason=exc.strerror or str(exc)
            ) from exc
        try:
            body = json.loads(raw)
            database = body["database"]
            store = body.get("store")
            person = body.get("person")
            login = body.get("login")
            if not isinstance(database, str) or not all(
                v is None or isinstance(v, str) for v in (store, person, login)
            ):
                raise TypeError("database, store, person and login must be text")
        except (ValueError, KeyError, TypeError) as exc:
            raise FieldkitError(ErrorCode.JSON_INVALID, path=str(path), reason=str(exc)) from exc
        return cls(database=database, store=store, person=person, login=login)

    def write(self, folder: Path) -> None:
        atomic_write_bytes(folder / HUB_SETTINGS_NAME, self.to_bytes())


def parse_database_url(value: str) -> URL:
    """A PostgreSQL address as SQLAlchemy takes it (always through psycopg 3)."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise FieldkitError(ErrorCode.DATABASE_URL_INVALID, url=_shown(value)) from None
    if url.get_backend_name() != "postgresql" or url.get_driver_name() not in ("psycopg", ""):
        raise FieldkitError(ErrorCode.DATABASE_URL_INVALID, url=_shown(value))
    if not url.database:
        raise FieldkitError(ErrorCode.DATABASE_URL_INVALID, url=_shown(value))
    return url.set(drivername=DRIVER)


def shown_url(value: str) -> str:
    """The address without its password, for messages."""
    return _shown(value)


def _shown(value: str) -> str:
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value.split("@")[-1][:200]


def open_server_engine(database: str, password: str | None = None) -> Engine:
    """A pooled engine on the hub's database; the first connection is made here, so an address
    that cannot be reached is reported at once, in words."""
    url = parse_database_url(database)
    if password:
        url = url.set(password=password)
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=int(os.environ.get("FIELDKIT_HUB_POOL", "4")),
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "fieldkit",
        },
    )
    _ping_rested_connections(engine)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        raise FieldkitError(
            ErrorCode.DATABASE_UNREACHABLE, url=_shown(database), reason=short_reason(exc)
        ) from exc
    return engine


def _ping_rested_connections(engine: Engine) -> None:
    """Check a pooled connection on checkout only when it rested longer than
    :data:`REST_BEFORE_PING`; a dead one makes the pool open a fresh connection."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["rested_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        rested_from = record.info.get("rested_from")
        if rested_from is None or time.monotonic() - rested_from < REST_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: the pool replaces the connection and retries
            raise DisconnectionError(str(exc)[:200]) from exc


def short_reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return (lines[0] if lines else type(original).__name__)[:200]

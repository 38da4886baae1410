"""Column types that seal their values on a hub's PostgreSQL and pass them through on SQLite.

A SQLCipher profile encrypts whole pages, so its columns hold plain values. On a hub the same
columns are ``bytea`` holding ChaCha20-Poly1305 ciphertext made in this process
(``storage/sealing.py``), with the value's place as associated data: the table, the column and the
row's identity (:data:`ROW_IDENTITY`, the columns that name the row). A value that does not open
(altered, copied in from another column, or moved from another row of the same column) is reported
as a damaged database. The repositories and services read and write plain values either way: no
second code path.

- Reading: the type's column expression has the server send the row's identity in front of the
  sealed value (``identity NUL sealed``), so every SELECT of a sealed column, ORM or Core, opens it
  against the row it was read from.
- Writing through ORM objects: mapper events seal each changed sealed attribute with the
  instance's identity just before the INSERT or UPDATE and put the plain value back after it.
- Writing in bulk (Core executemany of dictionaries): the caller passes the rows through
  :func:`seal_rows`. A plain value reaching a sealed column on a hub is refused (a programming
  error, never a plain value on the server).

What can no longer be done in SQL on these columns on a hub: comparing, sorting or searching them.
The callers that need that do it on the plain values in this process (titles sorted for a list by
title, a device found by its label) or go through the keyed search tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, LargeBinary, String, Table, Text, event, inspect, text
from sqlalchemy.dialects.postgresql import BYTEA
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import TypeDecorator, TypeEngine

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.sealing import HubKeys, keys_of

# The columns that name a row, per table with sealed columns: part of every sealed value's
# associated data. Record versions are named by record, revision and content hash (two conflicting
# versions share a revision); a quarantined bundle by its number, taken from the sequence before
# the INSERT.
ROW_IDENTITY: dict[str, tuple[str, ...]] = {
    "records": ("id",),
    "record_versions": ("record_id", "revision", "content_hash"),
    "audit_log": ("seq",),
    "audit_foreign": ("device_id", "seq"),
    "evidence_items": ("id",),
    "evidence_previews": ("item_id", "kind"),
    "custody_events": ("id",),
    "org_keys": ("id",),
    "trusted_devices": ("device_id",),
    "quarantined_bundles": ("id",),
    "trusted_counsel": ("counsel_id",),
    "profile_meta": ("id",),
    "drafts": ("key",),
}
_SEPARATOR = "\x1f"  # between the parts of an identity (none of them holds it)
_SPLIT = b"\x00"  # between the identity and the sealed value in what the server sends


class Sealed(bytes):
    """A value already sealed with its row's identity: what a sealed column sends on a hub."""


def _keys(dialect: Any) -> HubKeys | None:
    if dialect.name != "postgresql":
        return None
    keys = keys_of(dialect)
    if keys is None:
        # Never send a plain value to the server: without the hub's keys nothing is written.
        raise FieldkitError(ErrorCode.PROFILE_LOCKED)
    return keys


def _identity_text(parts: Iterable[Any]) -> str:
    return _SEPARATOR.join(str(part) for part in parts)


def _place(where: str, identity: str) -> bytes:
    return where.encode() + _SPLIT + identity.encode()


class fieldkit_with_row(GenericFunction[Any]):
    """``value`` with its row's identity in front (PostgreSQL); ``value`` itself elsewhere."""

    inherit_cache = True


@compiles(fieldkit_with_row)
def _with_row_default(element: fieldkit_with_row, compiler: SQLCompiler, **kw: Any) -> str:
    value = next(iter(element.clauses))
    return compiler.process(value, **kw)


@compiles(fieldkit_with_row, "postgresql")
def _with_row_postgresql(element: fieldkit_with_row, compiler: SQLCompiler, **kw: Any) -> str:
    value, *identity = list(element.clauses)
    parts = " || chr(31) || ".join(
        f"CAST({compiler.process(part, **kw)} AS TEXT)" for part in identity
    )
    return f"(convert_to({parts}, 'UTF8') || '\\x00'::bytea || {compiler.process(value, **kw)})"


class _SealedType(TypeDecorator[Any]):
    """What both sealed types share: their place, the row's identity on reading, the checks."""

    impl: Any = LargeBinary
    cache_ok = True

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.table_name = where.split(".", 1)[0]
        if self.table_name not in ROW_IDENTITY:
            raise ValueError(f"no row identity for sealed column {where}")

    def plain_bytes(self, value: Any) -> bytes:
        raise NotImplementedError

    def from_plain(self, value: bytes) -> Any:
        raise NotImplementedError

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any] | None:
        source = cast(Any, column).table
        identity = [source.c[name] for name in ROW_IDENTITY[self.table_name]]
        return cast(ColumnElement[Any], fieldkit_with_row(column, *identity, type_=self))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or _keys(dialect) is None:
            return value
        if not isinstance(value, Sealed):
            raise TypeError(
                f"{self.where}: a plain value for a sealed column (seal it with its row)"
            )
        return bytes(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        keys = _keys(dialect) if value is not None else None
        if keys is None:
            return value
        raw = bytes(value)
        identity, found, sealed = raw.partition(_SPLIT)
        if not found:
            raise FieldkitError(ErrorCode.DATABASE_DAMAGED, path=self.where, reason="not sealed")
        row = identity.decode(errors="replace")
        try:
            return self.from_plain(keys.open(sealed, _place(self.where, row)))
        except FieldkitError as exc:
            shown = f"{self.where}, row {row.replace(_SEPARATOR, ' / ')}"
            raise FieldkitError(exc.code, **{**exc.params, "path": shown}) from None


class SealedText(_SealedType):
    """Text (or a bounded string) in the clear on SQLite, sealed bytes on PostgreSQL."""

    impl = Text
    cache_ok = True

    def __init__(self, where: str, length: int | None = None) -> None:
        super().__init__(where)
        self.length = length

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        chosen: TypeEngine[Any] = (
            BYTEA()
            if dialect.name == "postgresql"
            else String(self.length)
            if self.length
            else Text()
        )
        return cast(TypeEngine[Any], dialect.type_descriptor(chosen))

    def plain_bytes(self, value: Any) -> bytes:
        return str(value).encode()

    def from_plain(self, value: bytes) -> Any:
        return value.decode()


class SealedBytes(_SealedType):
    """Bytes in the clear on SQLite (the file is encrypted), sealed bytes on PostgreSQL."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        chosen: TypeEngine[Any] = BYTEA() if dialect.name == "postgresql" else LargeBinary()
        return cast(TypeEngine[Any], dialect.type_descriptor(chosen))

    def plain_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_plain(self, value: bytes) -> Any:
        return value


def _sealed_columns(table: Any) -> list[tuple[str, _SealedType]]:
    return [(c.key, c.type) for c in table.columns if isinstance(c.type, _SealedType)]


def seal_value(keys: HubKeys, kind: _SealedType, value: Any, identity: Sequence[Any]) -> Sealed:
    place = _place(kind.where, _identity_text(identity))
    return Sealed(keys.seal(kind.plain_bytes(value), place))


def seal_rows(dialect: Any, model: Any, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a Core executemany on ``model``'s table, sealed with their identities on a hub
    (unchanged on SQLite)."""
    keys = _keys(dialect)
    if keys is None:
        return [dict(row) for row in rows]
    table = getattr(model, "__table__", model)
    columns = _sealed_columns(table)
    names = ROW_IDENTITY[table.name]
    out: list[dict[str, Any]] = []
    for row in rows:
        sealed = dict(row)
        identity = [row[name] for name in names]
        for key, kind in columns:
            value = row.get(key)
            if value is not None and not isinstance(value, Sealed):
                sealed[key] = seal_value(keys, kind, value, identity)
        out.append(sealed)
    return out


_STASH = "fieldkit_plain_values"


def _seal_instance(
    connection: Connection, mapper: Mapper[Any], target: Any, *, only_changed: bool
) -> None:
    keys = keys_of(connection.dialect) if connection.dialect.name == "postgresql" else None
    if keys is None:
        return
    table = cast(Table, mapper.local_table)
    columns = _sealed_columns(table)
    if not columns:
        return
    names = ROW_IDENTITY[table.name]
    state = inspect(target)
    for name in names:
        if getattr(target, name) is None:
            # A number the server would give at the INSERT: taken from its sequence first.
            number = connection.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, :c))"), {"t": table.name, "c": name}
            ).scalar_one()
            setattr(target, name, number)
    identity = [getattr(target, name) for name in names]
    plain: dict[str, Any] = {}
    for key, kind in columns:
        if only_changed and not state.attrs[key].history.has_changes():
            continue
        value = getattr(target, key)
        if value is None or isinstance(value, Sealed):
            continue
        plain[key] = value
        setattr(target, key, seal_value(keys, kind, value, identity))
    if plain:
        state.info[_STASH] = plain


def _restore_instance(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    plain = inspect(target).info.pop(_STASH, None)
    for key, value in (plain or {}).items():
        set_committed_value(target, key, value)


def _before_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal_instance(connection, mapper, target, only_changed=False)


def _before_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal_instance(connection, mapper, target, only_changed=True)


def listen_for_sealing(base: type[Any]) -> None:
    """Seal ORM instances of every table under ``base`` as they are flushed to a hub."""
    event.listen(base, "before_insert", _before_insert, propagate=True)
    event.listen(base, "before_update", _before_update, propagate=True)
    event.listen(base, "after_insert", _restore_instance, propagate=True)
    event.listen(base, "after_update", _restore_instance, propagate=True)

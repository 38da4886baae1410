"""Column types that seal their values on a hub's PostgreSQL and pass them through on SQLite.

A SQLCipher profile encrypts whole pages, so its columns hold plain values. On a hub the same
columns are ``bytea`` holding ChaCha20-Poly1305 ciphertext made in this process
(``storage/sealing.py``), with the column's place (``table.column``) as associated data. The
repositories and services read and write plain values either way: no second code path. A value
that does not open (altered, or copied in from another column) is reported as a damaged database.

What can no longer be done in SQL on these columns on a hub: comparing, sorting or searching them.
The callers that need that do it on the plain values in this process (titles sorted for a list by
title, a device found by its label) or go through the keyed search tokens.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import BYTEA
from sqlalchemy.types import TypeDecorator, TypeEngine

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.sealing import HubKeys, keys_of


def _keys(dialect: Any) -> HubKeys | None:
    if dialect.name != "postgresql":
        return None
    keys = keys_of(dialect)
    if keys is None:
        # Never send a plain value to the server: without the hub's keys nothing is written.
        raise FieldkitError(ErrorCode.PROFILE_LOCKED)
    return keys


class SealedText(TypeDecorator[str]):
    """Text (or a bounded string) in the clear on SQLite, sealed bytes on PostgreSQL."""

    impl = Text
    cache_ok = True

    def __init__(self, where: str, length: int | None = None) -> None:
        super().__init__()
        self.where = where
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

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        keys = _keys(dialect) if value is not None else None
        if keys is None:
            return value
        return keys.seal(str(value).encode(), self.where.encode())

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        keys = _keys(dialect) if value is not None else None
        if keys is None:
            return value  # type: ignore[no-any-return]
        return keys.open(bytes(value), self.where.encode()).decode()


class SealedBytes(TypeDecorator[bytes]):
    """Bytes in the clear on SQLite (the file is encrypted), sealed bytes on PostgreSQL."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def process_bind_param(self, value: bytes | None, dialect: Any) -> Any:
        keys = _keys(dialect) if value is not None else None
        if keys is None:
            return value
        return keys.seal(bytes(value or b""), self.where.encode())

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        keys = _keys(dialect) if value is not None else None
        if keys is None:
            return value  # type: ignore[no-any-return]
        return keys.open(bytes(value), self.where.encode())

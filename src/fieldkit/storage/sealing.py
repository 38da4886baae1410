"""Application-layer encryption for a hub's PostgreSQL: what the server stores, it cannot read.

A profile's own database is a SQLCipher file, encrypted page by page. A hub's database is the
organisation's PostgreSQL server, readable by its administrators and by anyone with a copy of a
dump; so every value that could hold record content or a person's name is sealed in this process
before it is sent: ChaCha20-Poly1305 under a key derived from the hub's master key, a fresh random
nonce per value, and as associated data the table, the column and the identity of the row the value
belongs to, so a value moved to another column or another row does not open there.

The keys ride on the engine's dialect object (each engine has its own), which is where column
types see them (``storage/tables/sealed.py``); on SQLite nothing is attached and nothing is sealed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.domain.errors import ErrorCode, FieldkitError

SEAL_PURPOSE = "hub-seal"
TOKEN_PURPOSE = "hub-search-tokens"
# The first byte of every sealed value. Format 2 binds each value to its row (format 1, which
# bound it to its column only, is refused: hubs made with it must be made again).
_VERSION = b"\x02"
_OLD_VERSIONS = (b"\x01",)
_NONCE = 12
_ATTRIBUTE = "fieldkit_hub_keys"


class HubKeys:
    """The two keys a hub needs at every statement: one seals values, one makes search tokens."""

    def __init__(self, seal_key: bytes, token_key: bytes) -> None:
        self._aead = ChaCha20Poly1305(seal_key)
        self._token_key = token_key

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, where)

    def open(self, sealed: bytes, where: bytes) -> bytes:
        if sealed[:1] in _OLD_VERSIONS:
            raise FieldkitError(
                ErrorCode.DATABASE_DAMAGED,
                path=where.decode(errors="replace"),
                reason="sealed in an earlier format, without its row (make the hub again)",
            )
        if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
            raise FieldkitError(
                ErrorCode.DATABASE_DAMAGED, path=where.decode(errors="replace"), reason="not sealed"
            )
        try:
            return self._aead.decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], where)
        except InvalidTag:
            raise FieldkitError(
                ErrorCode.DATABASE_DAMAGED,
                path=where.decode(errors="replace"),
                reason="a sealed value does not open (altered, or moved from another place)",
            ) from None

    def token(self, text: str) -> int:
        """A keyed 64-bit token (signed, as PostgreSQL's bigint) for a normalised search word."""
        digest = hmac.new(self._token_key, text.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


def attach(dialect: Any, keys: HubKeys) -> None:
    setattr(dialect, _ATTRIBUTE, keys)


def detach(dialect: Any) -> None:
    if hasattr(dialect, _ATTRIBUTE):
        delattr(dialect, _ATTRIBUTE)


def keys_of(dialect: Any) -> HubKeys | None:
    """The hub keys of an engine's dialect, or None (a SQLCipher profile: nothing to seal)."""
    keys = getattr(dialect, _ATTRIBUTE, None)
    return keys if isinstance(keys, HubKeys) else None

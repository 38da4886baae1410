"""Reading age v1 files: the header, the recipient stanzas and the chunked payload.

The writing side, the keys and the format's constants are in :mod:`fieldkit.crypto.age`.
"""

from __future__ import annotations

import hmac
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.crypto.age import (
    CHUNK_SIZE,
    ENC_CHUNK_SIZE,
    FILE_KEY_SIZE,
    INTRO,
    MAX_HEADER_SIZE,
    NONCE_SIZE,
    READ_AHEAD_CHUNKS,
    TAG_SIZE,
    X25519_LABEL,
    ZERO_NONCE,
    AgeHeaderTamperedError,
    AgeNoIdentityError,
    AgeNotAgeFileError,
    AgePayloadTamperedError,
    AgeTruncatedError,
    X25519Identity,
    X25519Recipient,
    b64decode_raw,
    chunk_nonce,
    header_mac,
    hkdf_sha256,
)
from fieldkit.domain.errors import N_

_ARG_RE = re.compile(rb"[\x21-\x7e]+")


@dataclass
class _Stanza:
    type: bytes
    args: list[bytes]
    body: bytes


class _Source:
    """A byte source with a small look-ahead buffer."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._buf = bytearray()
        self.consumed = 0

    def readline(self, limit: int) -> bytes:
        while True:
            index = self._buf.find(b"\n")
            if index >= 0:
                line = bytes(self._buf[: index + 1])
                del self._buf[: index + 1]
                self.consumed += len(line)
                return line
            if len(self._buf) > limit:
                raise AgeNotAgeFileError(N_("header line too long"))
            more = self._raw.read(4096)
            if not more:
                line = bytes(self._buf)
                self._buf.clear()
                self.consumed += len(line)
                return line
            self._buf += more

    def read_exact(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the input."""
        if len(self._buf) >= n:
            out = bytes(self._buf[:n])
            del self._buf[:n]
        else:
            parts = [bytes(self._buf)]
            have = len(self._buf)
            self._buf.clear()
            while have < n:
                more = self._raw.read(n - have)
                if not more:
                    break
                parts.append(more)
                have += len(more)
            out = b"".join(parts)
        self.consumed += len(out)
        return out

    def unread(self, data: bytes) -> None:
        self._buf[:0] = data
        self.consumed -= len(data)


def _parse_header(src: _Source) -> tuple[list[_Stanza], bytes, bytes]:
    """Returns the stanzas, the header bytes covered by the MAC and the MAC."""
    first = src.readline(len(INTRO))
    if first != INTRO:
        if INTRO.startswith(first):
            raise AgeTruncatedError(N_("the file ends inside the age header"))
        raise AgeNotAgeFileError(N_("it does not start with the age v1 header"))
    covered = bytearray(first)
    stanzas: list[_Stanza] = []
    line = src.readline(MAX_HEADER_SIZE)
    while True:
        if len(covered) > MAX_HEADER_SIZE:
            raise AgeNotAgeFileError(N_("the age header is too large"))
        if not line.endswith(b"\n"):
            raise AgeTruncatedError(N_("the file ends inside the age header"))
        if line.startswith(b"--- "):
            mac_text = line[4:-1]
            covered += b"---"
            try:
                mac = b64decode_raw(mac_text.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                raise AgeHeaderTamperedError(N_("the header MAC is malformed")) from None
            if len(mac) != 32:
                raise AgeHeaderTamperedError(N_("the header MAC is malformed"))
            return stanzas, bytes(covered), mac
        if not line.startswith(b"-> "):
            raise AgeNotAgeFileError(N_("malformed age header line"))
        covered += line
        parts = line[3:-1].split(b" ")
        if not parts or not all(_ARG_RE.fullmatch(p) for p in parts):
            raise AgeNotAgeFileError(N_("malformed recipient stanza"))
        body_parts: list[bytes] = []
        while True:
            body_line = src.readline(MAX_HEADER_SIZE)
            if not body_line.endswith(b"\n"):
                raise AgeTruncatedError(N_("the file ends inside the age header"))
            covered += body_line
            if len(covered) > MAX_HEADER_SIZE:
                raise AgeNotAgeFileError(N_("the age header is too large"))
            content = body_line[:-1]
            if len(content) > 64:
                raise AgeNotAgeFileError(N_("malformed stanza body"))
            body_parts.append(content)
            if len(content) < 64:
                break
        try:
            body = b64decode_raw(b"".join(body_parts).decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise AgeNotAgeFileError(N_("malformed stanza body")) from None
        stanzas.append(_Stanza(parts[0], parts[1:], body))
        line = src.readline(MAX_HEADER_SIZE)


def _unwrap(
    stanzas: list[_Stanza], identities: Sequence[X25519Identity]
) -> tuple[bytes, X25519Identity]:
    for stanza in stanzas:
        if stanza.type != b"X25519":
            continue
        if len(stanza.args) != 1 or len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
            raise AgeNotAgeFileError(N_("malformed X25519 stanza"))
        try:
            share = b64decode_raw(stanza.args[0].decode("ascii"))
        except ValueError:
            raise AgeNotAgeFileError(N_("malformed X25519 stanza")) from None
        if len(share) != 32:
            raise AgeNotAgeFileError(N_("malformed X25519 stanza"))
        for identity in identities:
            try:
                shared = identity.exchange(share)
            except ValueError:
                # A low-order share gives an all-zero shared secret: the age spec makes that a
                # header failure, not a stanza for someone else.
                raise AgeHeaderTamperedError(
                    N_("an X25519 stanza gives an all-zero shared secret")
                ) from None
            wrap_key = hkdf_sha256(shared, share + identity.recipient.public_bytes, X25519_LABEL)
            try:
                key = ChaCha20Poly1305(wrap_key).decrypt(ZERO_NONCE, stanza.body, None)
                return key, identity
            except InvalidTag:
                continue
    raise AgeNoIdentityError(N_("no identity matches any recipient of the file"))


class AgeDecryptReader:
    """Reads the plaintext of an age file; each chunk is authenticated before it is returned.

    The last chunk's flag is checked, so a file cut at a chunk boundary raises
    :class:`AgeTruncatedError` instead of looking complete.
    """

    def __init__(self, source: BinaryIO, identities: Sequence[X25519Identity]) -> None:
        self._src = _Source(source)
        stanzas, covered, mac = _parse_header(self._src)
        if not stanzas:
            raise AgeNotAgeFileError(N_("the age header has no recipients"))
        file_key, identity = _unwrap(stanzas, identities)
        self.matched_recipient: X25519Recipient | None = identity.recipient
        if not hmac.compare_digest(header_mac(file_key, covered), mac):
            raise AgeHeaderTamperedError(N_("the header MAC does not verify"))
        nonce = self._src.read_exact(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise AgeTruncatedError(N_("the file ends before the encrypted payload"))
        self._aead = ChaCha20Poly1305(hkdf_sha256(file_key, nonce, b"payload"))
        self._counter = 0
        self._plain = b""
        self._pos = 0
        self._done = False

    @property
    def chunks_read(self) -> int:
        return self._counter

    def _next_chunks(self, count: int) -> None:
        """Decrypt up to ``count`` chunks at once (a large read gets them in one piece, so the
        caller handles 1 MiB blocks rather than 64 KiB ones); each verifies before any of its
        plaintext is returned, the final one with its last-chunk flag."""
        span = count * ENC_CHUNK_SIZE
        data = self._src.read_exact(span + 1)
        if len(data) > span:
            self._src.unread(data[span:])
            view, final = memoryview(data)[:span], False
        else:
            view, final = memoryview(data), True
        chunks = max(1, -(-len(view) // ENC_CHUNK_SIZE))
        pieces = []
        for i in range(chunks):
            last = final and i == chunks - 1
            pieces.append(self._decrypt(view[i * ENC_CHUNK_SIZE : (i + 1) * ENC_CHUNK_SIZE], last))
        self._plain = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._pos = 0

    def _decrypt(self, chunk: memoryview, last: bool) -> bytes:
        index = self._counter
        if last:
            if len(chunk) < TAG_SIZE:
                raise AgeTruncatedError(N_("the encrypted payload ends inside a chunk"))
            try:
                plain = self._aead.decrypt(chunk_nonce(index, True), chunk, None)
            except InvalidTag:
                try:
                    self._aead.decrypt(chunk_nonce(index, False), chunk, None)
                except InvalidTag:
                    raise AgePayloadTamperedError(
                        N_("a chunk of the encrypted payload failed its authentication check")
                    ) from None
                raise AgeTruncatedError(
                    N_("the last chunk of the encrypted payload is missing")
                ) from None
            if not plain and index > 0:
                raise AgePayloadTamperedError(N_("the encrypted payload ends with an empty chunk"))
            self._done = True
        else:
            try:
                plain = self._aead.decrypt(chunk_nonce(index, False), chunk, None)
            except InvalidTag:
                raise AgePayloadTamperedError(
                    N_("a chunk of the encrypted payload failed its authentication check")
                ) from None
        self._counter += 1
        return plain

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all remaining when negative); ``b""`` only at the verified end."""
        if n < 0:
            parts: list[bytes] = []
            while True:
                part = self.read(CHUNK_SIZE)
                if not part:
                    return b"".join(parts)
                parts.append(part)
        while self._pos >= len(self._plain):
            if self._done:
                return b""
            self._next_chunks(max(1, min(READ_AHEAD_CHUNKS, n // CHUNK_SIZE)))
        end = min(self._pos + n, len(self._plain))
        out = self._plain[self._pos : end]
        self._pos = end
        return out

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def decrypt_bytes(data: bytes, identities: Sequence[X25519Identity]) -> bytes:
    return AgeDecryptReader(io.BytesIO(data), identities).read()

"""The age v1 file format (https://age-encryption.org/v1), X25519 recipients only.

Files written here open with the reference ``age`` program and the other way round. Encryption and
decryption stream in 64 KiB chunks with constant memory. Every way a file can fail has its own
exception, so callers can tell "not an age file" from "not for this key" from "cut short" from
"altered".
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fieldkit.domain.errors import N_

INTRO = b"age-encryption.org/v1\n"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
MAX_HEADER_SIZE = 64 * 1024
READ_AHEAD_CHUNKS = 16  # a large read decrypts up to this many chunks (1 MiB) in one go
X25519_LABEL = b"age-encryption.org/v1/X25519"
RECIPIENT_HRP = "age"
IDENTITY_HRP = "age-secret-key-"


class AgeError(Exception):
    """Base of every age failure; ``reason`` is short and safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AgeNotAgeFileError(AgeError):
    """The input does not start like an age v1 file, or its header is malformed."""


class AgeNoIdentityError(AgeError):
    """None of the given identities opens any recipient stanza (wrong recipient)."""


class AgeHeaderTamperedError(AgeError):
    """The header MAC does not verify: the header was altered."""


class AgeTruncatedError(AgeError):
    """The file ends early: the header, the nonce or the last chunk is missing."""


class AgePayloadTamperedError(AgeError):
    """A payload chunk failed authentication: the data was altered or damaged."""


class AgeKeyError(AgeError):
    """A recipient or identity string is malformed."""


# --- base64 and bech32 ---------------------------------------------------------------------------


def b64encode_raw(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


_B64_RE = re.compile(r"[A-Za-z0-9+/]*")


def b64decode_raw(text: str) -> bytes:
    """Strict unpadded standard base64; non-canonical encodings are refused."""
    if not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("invalid base64")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError("invalid base64") from None
    if b64encode_raw(data) != text:
        raise ValueError("non-canonical base64")
    return data


_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: Iterable[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _BECH32_GEN[i] if ((top >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convert_bits(data: Iterable[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        raise ValueError("invalid padding")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    values = _convert_bits(data, 8, 5, True)
    polymod = _bech32_polymod(_hrp_expand(hrp) + values + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[v] for v in values + checksum)


def bech32_decode(text: str) -> tuple[str, bytes]:
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise ValueError("missing separator")
    hrp = text[:pos]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise ValueError("invalid prefix")
    try:
        values = [_BECH32_CHARSET.index(c) for c in text[pos + 1 :]]
    except ValueError:
        raise ValueError("invalid character") from None
    if _bech32_polymod(_hrp_expand(hrp) + values) != 1:
        raise ValueError("bad checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, False))


# --- keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class X25519Recipient:
    """A public key, written ``age1…``."""

    public_bytes: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        try:
            hrp, data = bech32_decode(text.strip())
        except ValueError as exc:
            raise AgeKeyError(f"not an age recipient ({exc})") from None
        if hrp != RECIPIENT_HRP or len(data) != 32 or text.strip() != text.strip().lower():
            raise AgeKeyError("not an age X25519 recipient")
        return cls(data)

    def __str__(self) -> str:
        return bech32_encode(RECIPIENT_HRP, self.public_bytes)

    def fingerprint(self) -> str:
        """``sha256:<hex>`` over the recipient string; names the key in manifests and receipts."""
        return "sha256:" + sha256(str(self).encode("ascii")).hexdigest()


class X25519Identity:
    """A private key, written ``AGE-SECRET-KEY-1…``."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise AgeKeyError("an age identity has 32 bytes")
        self._secret = bytes(secret)
        self._key = X25519PrivateKey.from_private_bytes(self._secret)
        self.recipient = X25519Recipient(self._key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        text = text.strip()
        try:
            hrp, data = bech32_decode(text)
        except ValueError as exc:
            raise AgeKeyError(f"not an age identity ({exc})") from None
        if hrp != IDENTITY_HRP or len(data) != 32 or text != text.upper():
            raise AgeKeyError("not an age X25519 identity")
        return cls(data)

    @property
    def secret_bytes(self) -> bytes:
        return self._secret

    def __str__(self) -> str:
        return bech32_encode(IDENTITY_HRP, self._secret).upper()

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"

    def exchange(self, peer: bytes) -> bytes:
        return self._key.exchange(X25519PublicKey.from_public_bytes(peer))


def parse_identity_file(text: str) -> list[X25519Identity]:
    """Identities from a file in age-keygen format (comments and blank lines ignored)."""
    identities = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        identities.append(X25519Identity.parse(line))
    if not identities:
        raise AgeKeyError("no identity in the file")
    return identities


def identity_file_text(identity: X25519Identity, created: str) -> str:
    return f"# created: {created}\n# public key: {identity.recipient}\n{identity}\n"


# --- primitives ----------------------------------------------------------------------------------


def _hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


_ZERO_NONCE = bytes(12)


def _wrap_for(recipient: X25519Recipient, file_key: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.public_bytes))
    wrap_key = _hkdf(shared, share + recipient.public_bytes, X25519_LABEL)
    body = ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key, None)
    lines = [b"-> X25519 " + b64encode_raw(share).encode("ascii") + b"\n"]
    lines.extend(_body_lines(body))
    return b"".join(lines)


def _body_lines(body: bytes) -> list[bytes]:
    encoded = b64encode_raw(body).encode("ascii")
    lines = [encoded[i : i + 64] + b"\n" for i in range(0, len(encoded), 64)]
    if not lines or len(lines[-1]) == 65:
        lines.append(b"\n")
    return lines


def _header_mac(file_key: bytes, header_without_mac: bytes) -> bytes:
    mac_key = _hkdf(file_key, b"", b"header")
    return hmac.new(mac_key, header_without_mac, "sha256").digest()


# --- writing -------------------------------------------------------------------------------------


class AgeEncryptWriter:
    """Encrypts everything written to it onto ``sink``; ``close()`` writes the last chunk.

    Memory stays at about one chunk whatever the size of the writes.
    """

    def __init__(self, sink: BinaryIO, recipients: Sequence[X25519Recipient]) -> None:
        if not recipients:
            raise AgeKeyError("at least one recipient is needed")
        self._sink = sink
        file_key = os.urandom(FILE_KEY_SIZE)
        header = bytearray(INTRO)
        for recipient in recipients:
            header += _wrap_for(recipient, file_key)
        header += b"---"
        mac = _header_mac(file_key, bytes(header))
        header += b" " + b64encode_raw(mac).encode("ascii") + b"\n"
        nonce = os.urandom(NONCE_SIZE)
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
        sink.write(bytes(header))
        sink.write(nonce)
        self._buf = bytearray()
        self._counter = 0
        self._closed = False
        self.bytes_in = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed age writer")
        view = memoryview(data)
        n = len(view)
        self.bytes_in += n
        # Keep a full chunk back until more data arrives: only close() knows which chunk is last.
        if self._buf and len(self._buf) + n > CHUNK_SIZE:
            take = CHUNK_SIZE - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
            self._emit(bytes(self._buf), last=False)
            self._buf.clear()
        while len(view) > CHUNK_SIZE:
            self._emit(bytes(view[:CHUNK_SIZE]), last=False)
            view = view[CHUNK_SIZE:]
        self._buf += view
        return n

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        self._sink.write(self._aead.encrypt(_chunk_nonce(self._counter, last), chunk, None))
        self._counter += 1

    def close(self) -> None:
        """Write the final chunk; the sink itself stays open."""
        if self._closed:
            return
        self._closed = True
        self._emit(bytes(self._buf), last=True)
        self._buf.clear()

    def __enter__(self) -> AgeEncryptWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()


def encrypt_bytes(data: bytes, recipients: Sequence[X25519Recipient]) -> bytes:
    import io

    out = io.BytesIO()
    with AgeEncryptWriter(out, recipients) as writer:
        writer.write(data)
    return out.getvalue()


# --- reading -------------------------------------------------------------------------------------

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
            wrap_key = _hkdf(shared, share + identity.recipient.public_bytes, X25519_LABEL)
            try:
                key = ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, stanza.body, None)
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
        if not hmac.compare_digest(_header_mac(file_key, covered), mac):
            raise AgeHeaderTamperedError(N_("the header MAC does not verify"))
        nonce = self._src.read_exact(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise AgeTruncatedError(N_("the file ends before the encrypted payload"))
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
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
                plain = self._aead.decrypt(_chunk_nonce(index, True), chunk, None)
            except InvalidTag:
                try:
                    self._aead.decrypt(_chunk_nonce(index, False), chunk, None)
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
                plain = self._aead.decrypt(_chunk_nonce(index, False), chunk, None)
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
    import io

    return AgeDecryptReader(io.BytesIO(data), identities).read()

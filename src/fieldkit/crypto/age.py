"""The age v1 file format (https://age-encryption.org/v1), X25519 recipients only.

Files written here open with the reference ``age`` program and the other way round. Encryption and
decryption stream in 64 KiB chunks with constant memory. Every way a file can fail has its own
exception, so callers can tell "not an age file" from "not for this key" from "cut short" from
"altered". This module has the constants, the errors, the keys and writing; reading is in
:mod:`fieldkit.crypto.age_read`.
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

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


# --- primitives shared by writing (here) and reading (age_read) -------------------------------


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


ZERO_NONCE = bytes(12)


def _wrap_for(recipient: X25519Recipient, file_key: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.public_bytes))
    wrap_key = hkdf_sha256(shared, share + recipient.public_bytes, X25519_LABEL)
    body = ChaCha20Poly1305(wrap_key).encrypt(ZERO_NONCE, file_key, None)
    lines = [b"-> X25519 " + b64encode_raw(share).encode("ascii") + b"\n"]
    lines.extend(_body_lines(body))
    return b"".join(lines)


def _body_lines(body: bytes) -> list[bytes]:
    encoded = b64encode_raw(body).encode("ascii")
    lines = [encoded[i : i + 64] + b"\n" for i in range(0, len(encoded), 64)]
    if not lines or len(lines[-1]) == 65:
        lines.append(b"\n")
    return lines


def header_mac(file_key: bytes, header_without_mac: bytes) -> bytes:
    mac_key = hkdf_sha256(file_key, b"", b"header")
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
        mac = header_mac(file_key, bytes(header))
        header += b" " + b64encode_raw(mac).encode("ascii") + b"\n"
        nonce = os.urandom(NONCE_SIZE)
        self._aead = ChaCha20Poly1305(hkdf_sha256(file_key, nonce, b"payload"))
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
        self._sink.write(self._aead.encrypt(chunk_nonce(self._counter, last), chunk, None))
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

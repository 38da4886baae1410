"""minisign public keys and signatures (https://jedisct1.github.io/minisign/), Ed25519 only.

fieldkit signs with the prehashed algorithm ("ED": Ed25519 over BLAKE2b-512 of the message), so
``minisign -V -p device.pub -m FILE`` checks what fieldkit signed and the other way round. The
trusted comment is covered by the global signature, so metadata placed there cannot be edited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fieldkit.domain.errors import N_

PUBKEY_ALG = b"Ed"
SIG_ALG_PREHASHED = b"ED"
SIG_ALG_LEGACY = b"Ed"
MAX_SIGNATURE_FILE = 4096
MAX_COMMENT = 1024


class MinisignError(Exception):
    """A malformed key or signature file, or a signature that does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MinisignFormatError(MinisignError):
    """The key or signature file cannot be read."""


class MinisignKeyMismatchError(MinisignError):
    """The signature was made by a different key (its key id does not match)."""


class MinisignVerifyError(MinisignError):
    """The signature or the global (trusted comment) signature does not verify."""


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MinisignFormatError("invalid base64") from None


def key_id_for(public_bytes: bytes) -> bytes:
    """fieldkit's key id for an Ed25519 key: the first 8 bytes of BLAKE2b-256 of the key.

    minisign draws key ids at random; any 8 bytes work, and deriving them makes them reproducible.
    """
    return hashlib.blake2b(public_bytes, digest_size=32).digest()[:8]


def key_id_hex(key_id: bytes) -> str:
    """The key id as minisign prints it (the little-endian integer in upper-case hex)."""
    return f"{int.from_bytes(key_id, 'little'):016X}"


@dataclass(frozen=True)
class MinisignPublicKey:
    key_id: bytes
    public_bytes: bytes

    @classmethod
    def from_ed25519(cls, key: Ed25519PublicKey) -> MinisignPublicKey:
        raw = key.public_bytes_raw()
        return cls(key_id_for(raw), raw)

    @classmethod
    def parse(cls, text: str) -> MinisignPublicKey:
        """A minisign public key file (two lines) or its bare base64 line."""
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) == 2 and lines[0].startswith("untrusted comment:"):
            payload = lines[1]
        elif len(lines) == 1:
            payload = lines[0]
        else:
            raise MinisignFormatError("a public key file has a comment line and a key line")
        raw = _b64decode(payload)
        if len(raw) != 42 or raw[:2] != PUBKEY_ALG:
            raise MinisignFormatError("not an Ed25519 minisign public key")
        try:
            Ed25519PublicKey.from_public_bytes(raw[10:])
        except ValueError:
            raise MinisignFormatError("invalid Ed25519 public key") from None
        return cls(raw[2:10], raw[10:])

    @property
    def id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def key_line(self) -> str:
        return base64.b64encode(PUBKEY_ALG + self.key_id + self.public_bytes).decode("ascii")

    def file_text(self, comment: str | None = None) -> str:
        comment = comment or f"minisign public key {self.id_hex}"
        return f"untrusted comment: {_one_line(comment)}\n{self.key_line()}\n"

    def ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_bytes)


@dataclass(frozen=True)
class MinisignSignature:
    algorithm: bytes
    key_id: bytes
    signature: bytes
    untrusted_comment: str
    trusted_comment: str
    global_signature: bytes

    @classmethod
    def parse(cls, data: bytes) -> MinisignSignature:
        if len(data) > MAX_SIGNATURE_FILE:
            raise MinisignFormatError("the signature file is too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MinisignFormatError("the signature file is not UTF-8") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        # minisign itself trims a carriage return before each line end (files edited or copied
        # on Windows): the trusted comment is verified without it, as minisign verifies it
        lines = [line.removesuffix("\r") for line in lines]
        if len(lines) != 4:
            raise MinisignFormatError("a signature file has four lines")
        untrusted, sig_line, trusted, global_line = lines
        if not untrusted.startswith("untrusted comment: "):
            raise MinisignFormatError("the first line must be the untrusted comment")
        if not trusted.startswith("trusted comment: "):
            raise MinisignFormatError("the third line must be the trusted comment")
        raw = _b64decode(sig_line)
        if len(raw) != 74 or raw[:2] not in (SIG_ALG_PREHASHED, SIG_ALG_LEGACY):
            raise MinisignFormatError("not an Ed25519 minisign signature")
        global_sig = _b64decode(global_line)
        if len(global_sig) != 64:
            raise MinisignFormatError("the global signature is malformed")
        return cls(
            algorithm=raw[:2],
            key_id=raw[2:10],
            signature=raw[10:],
            untrusted_comment=untrusted[len("untrusted comment: ") :],
            trusted_comment=trusted[len("trusted comment: ") :],
            global_signature=global_sig,
        )

    @property
    def key_id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def file_bytes(self) -> bytes:
        sig_line = base64.b64encode(self.algorithm + self.key_id + self.signature).decode("ascii")
        glob = base64.b64encode(self.global_signature).decode("ascii")
        return (
            f"untrusted comment: {self.untrusted_comment}\n{sig_line}\n"
            f"trusted comment: {self.trusted_comment}\n{glob}\n"
        ).encode()


def _one_line(text: str) -> str:
    if "\n" in text or "\r" in text or len(text) > MAX_COMMENT:
        raise MinisignFormatError("a comment must be a single short line")
    return text


class Prehash:
    """BLAKE2b-512 of a message fed in pieces (streams of any size in constant memory)."""

    def __init__(self) -> None:
        self._h = hashlib.blake2b(digest_size=64)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.digest()


def sign_prehashed(
    key: Ed25519PrivateKey,
    prehash: bytes,
    *,
    trusted_comment: str,
    untrusted_comment: str = "signature from fieldkit",
) -> MinisignSignature:
    public = MinisignPublicKey.from_ed25519(key.public_key())
    signature = key.sign(prehash)
    trusted = _one_line(trusted_comment)
    global_sig = key.sign(signature + trusted.encode("utf-8"))
    return MinisignSignature(
        algorithm=SIG_ALG_PREHASHED,
        key_id=public.key_id,
        signature=signature,
        untrusted_comment=_one_line(untrusted_comment),
        trusted_comment=trusted,
        global_signature=global_sig,
    )


def sign(
    key: Ed25519PrivateKey,
    message: bytes | Iterable[bytes],
    *,
    trusted_comment: str,
    untrusted_comment: str = "signature from fieldkit",
) -> MinisignSignature:
    prehash = Prehash()
    if isinstance(message, bytes | bytearray | memoryview):
        prehash.update(message)
    else:
        for piece in message:
            prehash.update(piece)
    return sign_prehashed(
        key, prehash.digest(), trusted_comment=trusted_comment, untrusted_comment=untrusted_comment
    )


def verify_prehashed(
    public: MinisignPublicKey,
    signature: MinisignSignature,
    prehash: bytes | None,
    message: bytes | None = None,
) -> None:
    """Raise unless ``signature`` by ``public`` covers the message and the trusted comment."""
    if signature.key_id != public.key_id:
        raise MinisignKeyMismatchError("the signature was made with a different key")
    key = public.ed25519()
    if signature.algorithm == SIG_ALG_PREHASHED:
        if prehash is None:
            raise MinisignVerifyError("a prehashed signature needs the message hash")
        signed = prehash
    else:
        if message is None:
            raise MinisignVerifyError("legacy signatures are not accepted here")
        signed = message
    try:
        key.verify(signature.signature, signed)
    except InvalidSignature:
        raise MinisignVerifyError("the signature does not verify") from None
    try:
        key.verify(
            signature.global_signature,
            signature.signature + signature.trusted_comment.encode("utf-8"),
        )
    except InvalidSignature:
        raise MinisignVerifyError("the trusted comment's signature does not verify") from None


def verify(
    public: MinisignPublicKey,
    signature: MinisignSignature,
    message: bytes,
    *,
    allow_legacy: bool = False,
) -> None:
    if signature.algorithm != SIG_ALG_PREHASHED and not allow_legacy:
        raise MinisignVerifyError("only prehashed (ED) signatures are accepted")
    prehash = Prehash()
    prehash.update(message)
    verify_prehashed(public, signature, prehash.digest(), message)


# --- secret key files ----------------------------------------------------------------------------
#
# minisign's secret key file, unencrypted form (what `minisign -G -W` writes):
#   untrusted comment: <text>
#   base64( "Ed" ‖ kdf_alg "\0\0" ‖ cksum_alg "B2" ‖ kdf_salt[32] ‖ opslimit[8 LE] ‖ memlimit[8 LE]
#           ‖ key_id[8] ‖ seed[32] ‖ public_key[32] ‖ BLAKE2b-256("Ed" ‖ key_id ‖ seed ‖ public) )
# With kdf_alg "\0\0" the salt and limits are ignored (fieldkit writes zeros); minisign itself
# writes a zero checksum for an unencrypted key, which is accepted.

SECKEY_KDF_NONE = b"\x00\x00"
SECKEY_KDF_SCRYPT = b"Sc"
SECKEY_CHECKSUM_ALG = b"B2"
SECKEY_LENGTH = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32
MAX_SECRET_KEY_FILE = 4096


def secret_key_file_text(key: Ed25519PrivateKey, comment: str) -> str:
    """The key as an unencrypted minisign secret key file (usable with ``minisign -S -s``)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes_raw()
    key_id = key_id_for(public)
    checksum = hashlib.blake2b(PUBKEY_ALG + key_id + seed + public, digest_size=32).digest()
    raw = (
        PUBKEY_ALG
        + SECKEY_KDF_NONE
        + SECKEY_CHECKSUM_ALG
        + bytes(32)
        + bytes(8)
        + bytes(8)
        + key_id
        + seed
        + public
        + checksum
    )
    line = base64.b64encode(raw).decode("ascii")
    return f"untrusted comment: {_one_line(comment)}\n{line}\n"


@dataclass(frozen=True)
class MinisignSecretKey:
    key_id: bytes
    private_key: Ed25519PrivateKey
    untrusted_comment: str

    @property
    def public(self) -> MinisignPublicKey:
        return MinisignPublicKey(self.key_id, self.private_key.public_key().public_bytes_raw())

    @classmethod
    def parse(cls, data: bytes) -> MinisignSecretKey:
        """An unencrypted minisign secret key file; refuses anything else with a clear reason."""
        if len(data) > MAX_SECRET_KEY_FILE:
            raise MinisignFormatError(N_("the file is too large for a minisign secret key"))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MinisignFormatError(N_("not a minisign secret key (not text)")) from None
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 2 or not lines[0].startswith("untrusted comment:"):
            raise MinisignFormatError(N_("a secret key file has a comment line and a key line"))
        raw = _b64decode(lines[1])
        if len(raw) != SECKEY_LENGTH or raw[:2] != PUBKEY_ALG:
            raise MinisignFormatError(N_("not an Ed25519 minisign secret key"))
        if raw[2:4] == SECKEY_KDF_SCRYPT:
            raise MinisignFormatError(
                N_("the key is protected by a password; remove it with 'minisign -C' first")
            )
        if raw[2:4] != SECKEY_KDF_NONE or raw[4:6] != SECKEY_CHECKSUM_ALG:
            raise MinisignFormatError(N_("unsupported minisign secret key parameters"))
        body = raw[54:]
        key_id, seed, public, checksum = body[:8], body[8:40], body[40:72], body[72:104]
        expected = hashlib.blake2b(PUBKEY_ALG + key_id + seed + public, digest_size=32).digest()
        # `minisign -G -W` leaves the checksum of an unencrypted key as zeros
        if checksum != bytes(32) and not hmac.compare_digest(checksum, expected):
            raise MinisignFormatError(N_("the key's checksum does not match (damaged file)"))
        private = Ed25519PrivateKey.from_private_bytes(seed)
        if private.public_key().public_bytes_raw() != public:
            raise MinisignFormatError(N_("the secret and public halves do not match"))
        comment = lines[0][len("untrusted comment:") :].strip()
        return cls(key_id=key_id, private_key=private, untrusted_comment=comment)

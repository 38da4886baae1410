"""The sync protocol's fixed parts, shared by the server and the client (docs/sync.md).

A device proves who it is on every request with an Ed25519 signature by its device key over the
request line, a challenge the server issued, and the SHA-256 of the server's certificate (so a
signed request cannot be replayed to another server). TLS with the pinned certificate keeps the
channel confidential; the signature is what lets the server refuse an unknown or revoked device
before it reads a request body.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROTOCOL = "fieldkit-sync/1"
API = "/v1"
CHALLENGE_PATH = API + "/challenge"
CARD_PATH = API + "/card"
RECEIPT_PATH = API + "/receipt"
BUNDLE_PATH = API + "/bundles/{bundle_id}"
AUTH_SCHEME = "Fieldkit"
SIZE_HEADER = "Fieldkit-Bundle-Size"
SHA256_HEADER = "Fieldkit-Bundle-Sha256"
JSON_TYPE = "application/json"
BUNDLE_TYPE = "application/octet-stream"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BUNDLE_ID = re.compile(_UUID)
KEY_ID = re.compile(r"[0-9A-F]{16}")
CHALLENGE = re.compile(r"[0-9a-f]{64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_AUTH = re.compile(
    AUTH_SCHEME
    + r' key="([0-9A-F]{16})", challenge="([0-9a-f]{64})",'
    + r' signature="([A-Za-z0-9+/=]{88})"'
)


def signed_message(method: str, target: str, challenge: str, certificate_sha256: str) -> bytes:
    """What the device signs: the protocol, the method, the path with its query, the server's
    challenge and the pinned certificate's SHA-256, one per line."""
    return "\n".join((PROTOCOL, method.upper(), target, challenge, certificate_sha256)).encode(
        "ascii"
    )


def authorization(
    key: Ed25519PrivateKey,
    key_id: str,
    method: str,
    target: str,
    challenge: str,
    certificate_sha256: str,
) -> str:
    signature = key.sign(signed_message(method, target, challenge, certificate_sha256))
    encoded = base64.b64encode(signature).decode("ascii")
    return f'{AUTH_SCHEME} key="{key_id}", challenge="{challenge}", signature="{encoded}"'


@dataclass(frozen=True)
class Credentials:
    key_id: str
    challenge: str
    signature: bytes


def parse_authorization(value: str | None) -> Credentials | None:
    if value is None or len(value) > 300:
        return None
    match = _AUTH.fullmatch(value)
    if match is None:
        return None
    try:
        signature = base64.b64decode(match.group(3), validate=True)
    except ValueError:
        return None
    if len(signature) != 64:
        return None
    return Credentials(match.group(1), match.group(2), signature)


def signature_valid(
    public: Ed25519PublicKey,
    credentials: Credentials,
    method: str,
    target: str,
    certificate_sha256: str,
) -> bool:
    message = signed_message(method, target, credentials.challenge, certificate_sha256)
    try:
        public.verify(credentials.signature, message)
    except InvalidSignature:
        return False
    return True

"""The comparison code two people read aloud at enrolment.

30 digits in six groups of five, from SHA-256 over a fixed label, the device's Ed25519 public key
and the organisation's Ed25519 signing key, in that order. Both sides compute it from the same two
keys, so a match shows that neither key was swapped on the way.
"""

from __future__ import annotations

import hashlib

LABEL = b"fieldkit/enrolment-code/v1\x00"
COUNSEL_LABEL = b"fieldkit/counsel-code/v1\x00"
GROUPS = 6


def comparison_code(device_public: bytes, org_signing_public: bytes) -> str:
    if len(device_public) != 32 or len(org_signing_public) != 32:
        raise ValueError("both keys are 32-byte Ed25519 public keys")
    return _groups(hashlib.sha256(LABEL + device_public + org_signing_public).digest())


def counsel_comparison_code(
    counsel_signing_public: bytes, counsel_recipient_public: bytes, org_signing_public: bytes
) -> str:
    """The code for a lawyer's key: it also covers the X25519 key that packages are encrypted to,
    so a swapped encryption key shows as a different code."""
    keys = (counsel_signing_public, counsel_recipient_public, org_signing_public)
    if any(len(key) != 32 for key in keys):
        raise ValueError("the keys are 32-byte public keys")
    return _groups(hashlib.sha256(COUNSEL_LABEL + b"".join(keys)).digest())


def _groups(digest: bytes) -> str:
    groups = []
    for i in range(GROUPS):
        value = int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100000
        groups.append(f"{value:05d}")
    return " ".join(groups)

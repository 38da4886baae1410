"""The comparison code two people read aloud at enrolment.

30 digits in six groups of five, from SHA-256 over a fixed label, the device's Ed25519 public key
and the organisation's Ed25519 signing key, in that order. Both sides compute it from the same two
keys, so a match shows that neither key was swapped on the way.
"""

from __future__ import annotations

import hashlib

LABEL = b"fieldkit/enrolment-code/v1\x00"
GROUPS = 6


def comparison_code(device_public: bytes, org_signing_public: bytes) -> str:
    if len(device_public) != 32 or len(org_signing_public) != 32:
        raise ValueError("both keys are 32-byte Ed25519 public keys")
    digest = hashlib.sha256(LABEL + device_public + org_signing_public).digest()
    groups = []
    for i in range(GROUPS):
        value = int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100000
        groups.append(f"{value:05d}")
    return " ".join(groups)

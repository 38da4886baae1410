"""Opt-in protections at unlock: erase after N failed unlocks, and a duress passphrase.

Both live in ``unlock_guard.json`` beside the key file, because they act before anything can be
decrypted. The file holds no secret: the failure count, the limit, and for the duress passphrase
only an Argon2id hash (the key file's own cost, so checking it takes as long as an unlock). It is
not authenticated: whoever can write the profile folder can remove it, and whoever copies the
folder first (a disk image) can guess forever. These features stop guessing at the keyboard and
coercion at the keyboard, nothing more (docs/user-guide.md says so).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.crypto.kdf import KdfParams, derive_key
from fieldkit.storage.fsutil import atomic_write_bytes, destroy_file

GUARD_NAME = "unlock_guard.json"
FORMAT = "fieldkit-unlock-guard/1"
ERASE_AFTER_CHOICES = (3, 5, 10, 20)


@dataclass
class UnlockGuard:
    erase_after: int | None = None  # erase the profile at this many failed unlocks in a row
    failures: int = 0
    duress_kdf: KdfParams | None = None
    duress_hash: bytes | None = None
    duress_role: str | None = None  # the role of the empty profile a duress unlock opens

    @classmethod
    def read(cls, profile: Path) -> UnlockGuard:
        """The settings; none (all off) when the file is missing or unreadable."""
        try:
            raw = (Path(profile) / GUARD_NAME).read_bytes()
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                return cls()
            duress = doc.get("duress")
            guard = cls(
                erase_after=_positive(doc.get("erase_after")),
                failures=_positive(doc.get("failures")) or 0,
            )
            if isinstance(duress, dict):
                guard.duress_kdf = KdfParams.from_dict(duress["kdf"])
                guard.duress_hash = bytes.fromhex(str(duress["hash"]))
                guard.duress_role = str(duress["role"])
            return guard
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def write(self, profile: Path) -> None:
        path = Path(profile) / GUARD_NAME
        if self.erase_after is None and self.duress_hash is None:
            with contextlib.suppress(OSError):
                destroy_file(path)
            return
        doc: dict[str, Any] = {
            "format": FORMAT,
            "erase_after": self.erase_after,
            "failures": self.failures,
            "duress": None,
        }
        if self.duress_hash is not None and self.duress_kdf is not None:
            doc["duress"] = {
                "kdf": self.duress_kdf.to_dict(),
                "hash": self.duress_hash.hex(),
                "role": self.duress_role,
            }
        atomic_write_bytes(path, json.dumps(doc, sort_keys=True).encode("utf-8"))

    def set_duress(self, passphrase: str, kdf: KdfParams, role: str) -> None:
        params = KdfParams(kdf.memory_kib, kdf.iterations, kdf.lanes, os.urandom(16))
        self.duress_kdf = params
        self.duress_hash = derive_key(passphrase, params)
        self.duress_role = role

    def clear_duress(self) -> None:
        self.duress_kdf = self.duress_hash = self.duress_role = None

    def is_duress(self, passphrase: str) -> bool:
        if self.duress_hash is None or self.duress_kdf is None:
            return False
        return hmac.compare_digest(derive_key(passphrase, self.duress_kdf), self.duress_hash)


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None

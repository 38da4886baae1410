"""Opt-in protections at unlock (storage/unlock_guard.py): erase after N failed unlocks, and a
duress passphrase that destroys the key file and opens an empty profile in its place.

Both are off unless the person turns them on in an unlocked profile. What they do not protect
against is written in docs/user-guide.md ("Erase after failed unlocks", "Duress passphrase").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.keys import WrongPassphrase
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage import vault as vault_mod
from fieldkit.storage.unlock_guard import ERASE_AFTER_CHOICES as ERASE_AFTER_CHOICES
from fieldkit.storage.unlock_guard import UnlockGuard
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class ProtectionStatus:
    erase_after: int | None
    failures: int
    duress: bool


def guarded_unlock(path: Path, passphrase: str) -> Vault:
    """Unlock; a wrong passphrase counts towards the erase limit, the duress passphrase erases
    the profile and opens a new, empty one with it."""
    path = Path(path)
    guard = UnlockGuard.read(path)
    try:
        vault = Vault.unlock(path, passphrase)
    except FieldkitError as exc:
        if exc.code != ErrorCode.WRONG_PASSPHRASE:
            raise
        if guard.is_duress(passphrase):
            return _duress(path, passphrase, guard)
        if guard.erase_after is not None:
            guard.failures += 1
            if guard.failures >= guard.erase_after:
                vault_mod.erase(path)
                raise FieldkitError(
                    ErrorCode.PROFILE_ERASED_AFTER_FAILURES, count=guard.failures
                ) from None
            guard.write(path)
        raise
    if guard.failures:
        guard.failures = 0
        guard.write(path)
    return vault


def _duress(path: Path, passphrase: str, guard: UnlockGuard) -> Vault:
    roles = {r.value: r for r in Role}
    role = roles.get(guard.duress_role or "", Role.MONITOR)
    kdf = guard.duress_kdf
    vault_mod.erase(path)  # the key file first: everything else is ciphertext without it
    fresh = (
        KdfParams(kdf.memory_kib, kdf.iterations, kdf.lanes, os.urandom(16))
        if kdf is not None
        else None
    )
    return Vault.create(path, passphrase, role=role, kdf=fresh)


def protection_status(path: Path) -> ProtectionStatus:
    guard = UnlockGuard.read(Path(path))
    return ProtectionStatus(guard.erase_after, guard.failures, guard.duress_hash is not None)


def set_erase_after(vault: Vault, count: int | None) -> ProtectionStatus:
    """Erase the profile after ``count`` failed unlocks in a row (3, 5, 10 or 20), or never."""
    if count is not None and count not in ERASE_AFTER_CHOICES:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail="--erase-after " + " | ".join(map(str, ERASE_AFTER_CHOICES)) + " | off",
        )
    guard = UnlockGuard.read(vault.path)
    guard.erase_after = count
    guard.failures = 0
    guard.write(vault.path)
    return protection_status(vault.path)


def set_duress_passphrase(vault: Vault, passphrase: str | None) -> ProtectionStatus:
    """Set (or with None remove) the duress passphrase: strong, and not this profile's own."""
    guard = UnlockGuard.read(vault.path)
    if passphrase is None:
        guard.clear_duress()
    else:
        vault_mod.check_new_passphrase(passphrase)
        try:
            vault_mod.read_keyfile(vault.path).unwrap(passphrase)
        except WrongPassphrase:
            pass
        else:
            raise FieldkitError(ErrorCode.DURESS_IS_PASSPHRASE)
        guard.set_duress(passphrase, vault.kdf, vault.role.value)
    guard.write(vault.path)
    return protection_status(vault.path)

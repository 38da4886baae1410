"""Profile use cases: create, unlock (with start-up maintenance), info, passphrase, check, erase."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from fieldkit.crypto.passphrase import Strength, estimate, generate
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage import profile_files

# The database layer (SQLAlchemy, the cipher) is imported where a profile is opened, not here:
# the unlock window needs only the first functions below (start-up time, see docs/desktop.md).
if TYPE_CHECKING:
    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.domain.profile_info import ProfileInfo
    from fieldkit.storage import vault as vault_mod
    from fieldkit.storage.vault import Vault

PROFILE_ENV = "FIELDKIT_PROFILE"


def default_profile_path() -> Path:
    """FIELDKIT_PROFILE, else the platform's per-user data folder."""
    env = os.environ.get(PROFILE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("fieldkit", appauthor=False)) / "profile"


def passphrase_strength(passphrase: str) -> Strength:
    """Live strength feedback for a new passphrase (zxcvbn; the same rule create_profile applies).

    zxcvbn refuses input over 72 characters; the first 72 give a lower bound of the strength.
    """
    return estimate(passphrase[:72])


def profile_exists(path: Path) -> bool:
    """Whether a profile (its key file) exists at ``path``."""
    return profile_files.profile_exists(path)


def suggest_passphrase(language: str) -> str:
    """Five uncommon words of ``language`` drawn at random (the strength check accepts them)."""
    return generate(language)


def create_profile(
    path: Path,
    passphrase: str,
    role: Role,
    kdf: KdfParams | None = None,
    *,
    database: str | None = None,
    store: Path | None = None,
) -> Vault:
    """A new profile; with ``database`` a coordinator's hub on that PostgreSQL database (the
    folder keeps the key file, ``hub.json`` and, unless ``store`` names another, the evidence)."""
    if database is not None and role != Role.COORDINATOR:
        raise FieldkitError(ErrorCode.WRONG_ROLE, needed=Role.COORDINATOR.label, actual=role.label)
    from fieldkit.storage.vault import Vault

    vault = Vault.create(path, passphrase, role=role, kdf=kdf, database=database, store=store)
    _run_startup_maintenance(vault)
    return vault


def open_profile(path: Path, passphrase: str) -> Vault:
    """Unlock and run each area's start-up maintenance (orphan clean-up and the like)."""
    from fieldkit.services.protection import guarded_unlock

    vault = guarded_unlock(path, passphrase)
    try:
        _run_startup_maintenance(vault)
    except BaseException:
        vault.lock()
        raise
    return vault


def _run_startup_maintenance(vault: Vault) -> None:
    """Each area that leaves work in progress on disk cleans it here, before anything else runs.

    Areas add one call each (imported locally to keep the start-up import graph small).
    A lawyer on a hub has no work in progress of their own and may write nothing there.
    """
    from fieldkit.services.roles import hub_lawyer

    if hub_lawyer(vault):
        return
    from fieldkit.services.evidence import startup_cleanup as evidence_cleanup

    evidence_cleanup(vault)
    from fieldkit.services.bundles import quarantine_cleanup

    quarantine_cleanup(vault)
    from fieldkit.services.package_receive import startup_cleanup as package_cleanup

    package_cleanup(vault)


# What `info` counts, in the words a person uses: key -> (table, extra condition or None).
INFO_COUNTS: dict[str, tuple[str, str | None]] = {
    "records": ("records", "deleted = false"),
    "record_versions": ("record_versions", None),
    "evidence_items": ("evidence_items", None),
    "custody_events": ("custody_events", None),
    "audit_entries": ("audit_log", None),
    "trusted_devices": ("trusted_devices", None),
    "exported_bundles": ("exported_bundles", None),
    "imported_bundles": ("imported_bundles", None),
    "alarms": ("bundle_alarms", None),
}


# What a lawyer's role on a hub may count (the cases shared with them only).
LAWYER_COUNTS = ("records", "record_versions", "evidence_items", "custody_events")


def profile_info(vault: Vault) -> ProfileInfo:
    from sqlalchemy import func, select, text

    from fieldkit.domain.profile_info import KdfInfo, ProfileInfo
    from fieldkit.services.roles import hub_lawyer
    from fieldkit.storage.base import Base

    counts: dict[str, int] = {}
    tables = Base.metadata.tables
    with vault.session() as s:
        for key, (name, condition) in INFO_COUNTS.items():
            table = tables.get(name)
            if table is None or (hub_lawyer(vault) and key not in LAWYER_COUNTS):
                continue
            query = select(func.count()).select_from(table)
            if condition is not None:
                query = query.where(text(condition))
            counts[key] = int(s.execute(query).scalar_one())
    kdf = vault.kdf
    return ProfileInfo(
        path=str(vault.path),
        database=vault.database_location if vault.hub is not None else None,
        profile_id=vault.profile_id,
        role=vault.role,
        device_id=vault.device_id,
        device_key_fingerprint=vault.device_key_fingerprint,
        created_at=vault.created_at,
        kdf=KdfInfo(
            algorithm=kdf.algorithm,
            memory_kib=kdf.memory_kib,
            iterations=kdf.iterations,
            lanes=kdf.lanes,
            insecure=kdf.insecure,
        ),
        database_revision=vault.database_revision(),
        counts=counts,
    )


def change_passphrase(path: Path, old: str, new: str) -> None:
    from fieldkit.storage import vault as vault_mod

    vault_mod.change_passphrase(path, old, new)


def check_database(path: Path, passphrase: str) -> vault_mod.IntegrityReport:
    from fieldkit.storage import vault as vault_mod

    return vault_mod.check_database(path, passphrase)


def erase_profile(path: Path) -> None:
    from fieldkit.storage import vault as vault_mod

    vault_mod.erase(path)


@dataclass
class CheckReport:
    """Everything `fieldkit check` looked at, in plain words."""

    ok: bool
    database: vault_mod.IntegrityReport
    extra: dict[str, list[str]] = field(default_factory=dict)


def check_profile(vault: Vault) -> CheckReport:
    """The database checks, then each area's own verification (areas add theirs to `extra`)."""
    database = vault.check()
    extra: dict[str, list[str]] = {}
    from fieldkit.services.evidence import quick_check as evidence_check

    extra["evidence"] = evidence_check(vault)
    from fieldkit.services.audit import problem_lines as audit_problems
    from fieldkit.services.roles import hub_lawyer

    # A lawyer's role on a hub may not read the audit log; the coordinators check it.
    extra["audit"] = [] if hub_lawyer(vault) else audit_problems(vault)
    ok = database.ok and not any(extra.values())
    return CheckReport(ok=ok, database=database, extra=extra)

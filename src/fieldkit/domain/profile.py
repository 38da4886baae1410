"""What a profile is: its role and the facts about it that are safe to show."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from fieldkit.domain.errors import N_, TranslatableText


class Role(StrEnum):
    MONITOR = "monitor"
    COORDINATOR = "coordinator"
    # A lawyer's profile: read-only, filled only by case packages from the organisation.
    LAWYER = "lawyer"

    @property
    def label(self) -> TranslatableText:
        return TranslatableText(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.MONITOR: N_("monitor"),
    Role.COORDINATOR: N_("coordinator"),
    Role.LAWYER: N_("lawyer"),
}


class KdfInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    algorithm: str
    memory_kib: int
    iterations: int
    lanes: int
    insecure: bool


class ProfileInfo(BaseModel):
    """What `fieldkit info` shows: never a secret."""

    model_config = ConfigDict(frozen=True)

    path: str
    # A hub's server database (address without password); None for a profile's own file.
    database: str | None = None
    profile_id: str
    role: Role
    device_id: str
    device_key_fingerprint: str
    created_at: str
    kdf: KdfInfo
    database_revision: str | None
    counts: dict[str, int]

"""The facts about a profile that are safe to show (`fieldkit info`).

Apart from domain/profile.py so that the role can be known before the first window without
loading pydantic (start-up time, docs/desktop.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from fieldkit.domain.profile import Role


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

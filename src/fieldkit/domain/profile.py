"""What a profile is: its role (what is safe to show about one: domain/profile_info.py)."""

from __future__ import annotations

from enum import StrEnum

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

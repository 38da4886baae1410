"""Which role a use case needs. A module of its own so that every service can check it without
importing the profile use cases (which import each area for start-up maintenance)."""

from __future__ import annotations

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage.vault import Vault


def require_role(vault: Vault, role: Role) -> None:
    if vault.role != role:
        raise FieldkitError(ErrorCode.WRONG_ROLE, needed=role.label, actual=vault.role.label)

"""Which role a use case needs. A module of its own so that every service can check it without
importing the profile use cases (which import each area for start-up maintenance)."""

from __future__ import annotations

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage.vault import Vault


def require_role(vault: Vault, role: Role) -> None:
    if vault.role != role:
        raise FieldkitError(ErrorCode.WRONG_ROLE, needed=role.label, actual=vault.role.label)


def require_writable(vault: Vault) -> None:
    """A lawyer's profile is read-only: it holds what the organisation's packages delivered, and
    only the PDF case file is made from it."""
    if vault.role == Role.LAWYER:
        raise FieldkitError(ErrorCode.PROFILE_READ_ONLY)


def hub_lawyer(vault: Vault) -> bool:
    """A lawyer reading a hub: the database lets their role read the cases shared with them
    and write nothing."""
    return vault.hub is not None and vault.role == Role.LAWYER

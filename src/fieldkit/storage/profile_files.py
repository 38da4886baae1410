"""The names of the files in a profile folder, and whether a profile is there.

Kept apart from ``storage/vault.py`` (which needs SQLAlchemy and the cipher) so that the unlock
window and the command line can tell "open" from "create" without loading the database layer.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.storage.fsutil import PARTIAL_SUFFIX

KEYFILE_NAME = "keyfile"
# A passphrase change interrupted before its rename leaves the new key file under this name.
PENDING_KEYFILE_NAME = KEYFILE_NAME + PARTIAL_SUFFIX
DATABASE_NAME = "profile.db"
# A coordinator's hub: where its PostgreSQL database is (storage/server.py reads and writes it).
HUB_SETTINGS_NAME = "hub.json"


def keyfile_path(path: Path) -> Path:
    return path / KEYFILE_NAME


def database_path(path: Path) -> Path:
    return path / DATABASE_NAME


def profile_exists(path: Path) -> bool:
    return (
        keyfile_path(path).exists()
        or database_path(path).exists()
        or (path / HUB_SETTINGS_NAME).exists()
    )

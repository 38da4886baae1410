"""Settings of the desktop program: a few preferences, nothing that reveals casework.

Saved as JSON in the platform's per-user configuration folder (or next to a development profile).
Recent cases, last export folders and the like belong in the encrypted profile, never here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Final

from platformdirs import user_config_dir

from fieldkit.i18n import SUPPORTED_LANGUAGES

log = logging.getLogger(__name__)

SETTINGS_ENV: Final = "FIELDKIT_CONFIG_DIR"
FILE_NAME: Final = "settings.json"
MAX_SETTINGS_BYTES: Final = 64 * 1024

# The one registry of defaults.
DEFAULT_LANGUAGE: Final = "en"
DEFAULT_IDLE_LOCK_MINUTES: Final = 5
MAX_IDLE_LOCK_MINUTES: Final = 240


class SettingsInvalid(ValueError):
    """A value of the settings file has the wrong type or is out of range."""


# A plain dataclass, not a pydantic model: the settings are read before the first window, and
# pydantic is not otherwise needed until the profile is open (start-up time, docs/desktop.md).
@dataclass(frozen=True)
class AppSettings:
    """Frozen; change with ``settings.model_copy(update={...})`` and :func:`save_settings`."""

    language: str = DEFAULT_LANGUAGE
    idle_lock_minutes: int = DEFAULT_IDLE_LOCK_MINUTES
    lock_on_screen_lock: bool = True
    # Window geometry (base64 of Qt's saveGeometry/saveState); reveals nothing about casework.
    window_geometry: str = ""
    window_state: str = ""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            wanted = type(item.default)
            # bool is an int in Python; neither may stand for the other here.
            if type(value) is not wanted:
                raise SettingsInvalid(f"{item.name} must be {wanted.__name__}")
        if not 1 <= self.idle_lock_minutes <= MAX_IDLE_LOCK_MINUTES:
            raise SettingsInvalid("idle_lock_minutes out of range")
        if self.language not in SUPPORTED_LANGUAGES:
            object.__setattr__(self, "language", DEFAULT_LANGUAGE)

    @classmethod
    def model_validate(cls, data: dict[str, Any]) -> AppSettings:
        """From a parsed settings file; unknown keys are ignored (an older or newer program)."""
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def model_copy(self, *, update: dict[str, Any]) -> AppSettings:
        return replace(self, **update)

    def model_dump(self) -> dict[str, Any]:
        return asdict(self)


def config_dir() -> Path:
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir("fieldkit", appauthor=False))


def settings_path(folder: Path | None = None) -> Path:
    return (folder or config_dir()) / FILE_NAME


def load_settings(path: Path | None = None, *, language_hint: str | None = None) -> AppSettings:
    """The saved settings; defaults when the file is missing or damaged (never an error)."""
    path = path or settings_path()
    try:
        raw = path.read_bytes()[: MAX_SETTINGS_BYTES + 1]
        if len(raw) > MAX_SETTINGS_BYTES:
            raise ValueError("settings file too large")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("settings file is not an object")
        return AppSettings.model_validate(data)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("settings file ignored: %s", type(exc).__name__)
    if language_hint in SUPPORTED_LANGUAGES:
        return AppSettings(language=language_hint or DEFAULT_LANGUAGE)
    return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    """Write atomically (temporary file + rename), 0600 in a 0700 folder."""
    path = path or settings_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = json.dumps(settings.model_dump(), indent=2, sort_keys=True).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

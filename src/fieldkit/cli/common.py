"""What every command shares: global options, the passphrase, output, confirmation, progress."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit import i18n
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _
from fieldkit.services.profile import default_profile_path, open_profile, profile_exists

if TYPE_CHECKING:
    from fieldkit.storage.vault import Vault

PASSPHRASE_ENV = "FIELDKIT_PASSPHRASE"
NEW_PASSPHRASE_ENV = "FIELDKIT_NEW_PASSPHRASE"


def add_global_options(parser: argparse.ArgumentParser, suppress_defaults: bool) -> None:
    """The options every command accepts, before or after the command name."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress_defaults else value

    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        default=default(None),
        help=_("profile folder (default: $FIELDKIT_PROFILE or the per-user data folder)"),
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help=_("machine-readable output")
    )
    parser.add_argument(
        "--yes", action="store_true", default=default(False), help=_("confirm destructive actions")
    )
    parser.add_argument(
        "--lang",
        choices=i18n.SUPPORTED_LANGUAGES,
        default=default(None),
        help=_("language of messages (en, uk, ru)"),
    )


def global_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    add_global_options(parent, suppress_defaults=True)
    return parent


def profile_path(args: argparse.Namespace) -> Path:
    path = getattr(args, "profile", None)
    return Path(path).expanduser() if path else default_profile_path()


def read_passphrase(prompt: str, env: str = PASSPHRASE_ENV, confirm: bool = False) -> str:
    """From the environment (for scripts, as restic and borg do), else asked on the terminal."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise FieldkitError(ErrorCode.PASSPHRASE_REQUIRED)
    first = getpass.getpass(prompt)
    if confirm:
        second = getpass.getpass(_("Repeat the passphrase: "))
        if first != second:
            raise FieldkitError(ErrorCode.PASSPHRASE_MISMATCH)
    return first


def open_vault(args: argparse.Namespace) -> Vault:
    path = profile_path(args)
    if not profile_exists(path):
        # Say so before asking for a passphrase that cannot help.
        raise FieldkitError(ErrorCode.PROFILE_NOT_FOUND, path=str(path))
    passphrase = read_passphrase(_("Passphrase for {path}: ").format(path=path))
    return open_profile(path, passphrase)


def confirm_destructive(args: argparse.Namespace) -> None:
    if not getattr(args, "yes", False):
        raise FieldkitError(ErrorCode.CONFIRMATION_REQUIRED)


def emit(args: argparse.Namespace, data: Any, human: Iterable[str] | str) -> None:
    """Exactly one JSON document with --json; otherwise the human lines."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if isinstance(human, str):
        print(human)
    else:
        for line in human:
            print(line)


class StderrProgress:
    """A progress callback that prints at most a few lines a second on stderr."""

    def __init__(self, label: str, interval: float = 0.5) -> None:
        self.label = label
        self.interval = interval
        self._last = 0.0
        self._finished = False

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if finished:
            if self._finished:
                return  # services may report completion more than once
            self._finished = True
        elif now - self._last < self.interval:
            return
        else:
            self._finished = False
        self._last = now
        if total > 0:
            percent = 100.0 * done / total
            print(
                f"{self.label}: {percent:5.1f}% ({_human_size(done)} / {_human_size(total)})",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"{self.label}: {_human_size(done)}", file=sys.stderr, flush=True)


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"

"""Helpers shared by tests: external tools, the real command line, scanning for plaintext."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

STRONG_PASSPHRASE = "тихий вечір над Дніпром 7 «лапки»"
OTHER_PASSPHRASE = "correct horse battery staple 🐎"


def require_tool(name: str) -> str:
    """The tool's path. Under CI a missing tool fails the test; elsewhere it skips, visibly."""
    path = shutil.which(name)
    if path:
        return path
    message = f"the external tool '{name}' is not installed (apt-get install {name})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


def cli_env(
    profile: Path | None = None, passphrase: str | None = STRONG_PASSPHRASE, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    env["FIELDKIT_LANG"] = "en"
    if profile is not None:
        env["FIELDKIT_PROFILE"] = str(profile)
    if passphrase is not None:
        env["FIELDKIT_PASSPHRASE"] = passphrase
    env.update(extra)
    return env


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *args],
        env=dict(env) if env is not None else cli_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    yield path


def find_plaintext(marker: str, *roots: Path) -> list[Path]:
    """Files under the roots that hold the marker in UTF-8 or UTF-16 (either byte order)."""
    needles = [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be")]
    hits = []
    for path in files_under(*roots):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles):
            hits.append(path)
    return hits


def search_index_rows(session: Any) -> list[tuple[int, str, str]]:
    """(record number, folded title, folded text) of every indexed record, on either backend:
    FTS5 on SQLite, the sealed texts beside the keyed tokens on a hub's PostgreSQL."""
    from sqlalchemy import text

    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        rows = session.execute(text("SELECT rowid, title, body FROM records_fts ORDER BY rowid"))
        return [(int(n), str(t), str(b)) for n, t, b in rows]
    from fieldkit.storage import tokens
    from fieldkit.storage.sealing import keys_of

    keys = keys_of(dialect)
    assert keys is not None
    rows = session.execute(text("SELECT num, title, body FROM record_tokens ORDER BY num"))
    return [(int(n), *tokens.open_texts(keys, int(n), t, b)) for n, t, b in rows]

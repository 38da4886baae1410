"""Crash safety on real files: SIGKILL during writes and passphrase changes; no plaintext."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.storage.vault import Vault
from tests.helpers import OTHER_PASSPHRASE, STRONG_PASSPHRASE, find_plaintext

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sqlalchemy import text
    from fieldkit.storage.vault import Vault

    vault = Vault.unlock(Path(sys.argv[1]), sys.argv[2])
    with vault.session() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, body TEXT)"))
    n = int(sys.argv[3])
    while True:
        with vault.session() as s:
            for _ in range(5):
                n += 1
                s.execute(text("INSERT INTO probe (id, body) VALUES (:i, :b)"),
                          {"i": n, "b": ("committed row %d " % n) * 30})
        # Printed only after the commit returned: everything printed must survive a kill.
        print(n, flush=True)
    """
)


@pytest.mark.slow
def test_sigkill_during_writes_never_corrupts_or_loses_committed_rows(
    tmp_path: Path, fast_kdf: KdfParams
) -> None:
    path = tmp_path / "p"
    Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf).lock()
    rng = random.Random(20261121)
    committed = 0
    for _run in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), STRONG_PASSPHRASE, str(committed)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        # Wait for the first commit so the kill lands while writing, then a random moment more.
        first = child.stdout.readline()
        assert first.strip(), "the writer never committed"
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
        printed = [int(line) for line in [first, *rest.splitlines()] if line.strip()]
        last_printed = max(printed)
        with Vault.unlock(path, STRONG_PASSPHRASE) as vault:
            with vault.session() as s:
                ids = [row[0] for row in s.execute(text("SELECT id FROM probe ORDER BY id"))]
            assert ids == list(range(1, len(ids) + 1)), "a gap or a torn transaction"
            assert len(ids) >= last_printed, "a committed row was lost"
            assert len(ids) % 5 == 0, "half a transaction survived"
            assert vault.check().ok
            committed = len(ids)
    assert committed > 0


PASSWD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.storage.vault import change_passphrase
    # Costly enough that kills land inside the derivation as well as around the write.
    params = KdfParams(memory_kib=32 * 1024, iterations=1, lanes=1, salt=bytes(16))
    print("start", flush=True)
    change_passphrase(Path(sys.argv[1]), sys.argv[2], sys.argv[3], kdf=params)
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_sigkill_during_passphrase_change_leaves_old_or_new(
    tmp_path: Path, fast_kdf: KdfParams
) -> None:
    rng = random.Random(7)
    outcomes = {"old": 0, "new": 0}
    path = tmp_path / "p"
    Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf).lock()
    current = STRONG_PASSPHRASE
    for _run in range(20):
        other = OTHER_PASSPHRASE if current == STRONG_PASSPHRASE else STRONG_PASSPHRASE
        child = subprocess.Popen(
            [sys.executable, "-c", PASSWD, str(path), current, other],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        opened_with = None
        for candidate, label in ((current, "old"), (other, "new")):
            try:
                Vault.unlock(path, candidate).lock()
            except FieldkitError:
                continue
            opened_with = label
            current = candidate
            break
        assert opened_with is not None, "the profile opened with neither passphrase"
        outcomes[opened_with] += 1
    assert sum(outcomes.values()) == 20


def test_no_plaintext_on_disk(tmp_path: Path, fast_kdf: KdfParams) -> None:
    """A unique marker written to the database is found in no file, -wal and -shm included."""
    marker = f"CANARY-{uuid.uuid4().hex}-свідок"
    path = tmp_path / "p"
    vault = Vault.create(path, STRONG_PASSPHRASE, Role.MONITOR, fast_kdf)
    # Another open connection keeps the -wal and -shm files alive while we look at them.
    keeper = vault.engine.connect()
    keeper.execute(text("SELECT count(*) FROM sqlite_master")).all()
    with vault.session() as s:
        s.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(200):
            s.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{marker} {i}"})
    with vault.session() as s:
        # A sort large enough to spill if temporary storage were on disk.
        s.execute(text("SELECT body FROM notes ORDER BY body DESC")).all()
        s.execute(text("DELETE FROM notes WHERE id % 2 = 0"))
    roots = (path, Path(tempfile.gettempdir()))
    assert (path / "profile.db-wal").exists()
    assert (path / "profile.db-wal").stat().st_size > 0
    assert find_plaintext(marker, *roots) == []
    keeper.close()
    vault.lock()
    assert find_plaintext(marker, *roots) == []
    assert os.listdir(path)

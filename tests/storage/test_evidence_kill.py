"""SIGKILL at random moments during intake: after the next unlock nothing is half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.profile import open_profile
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.vault import Vault

RUNS = 20

CHILD = """
import sys
from pathlib import Path
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.profile import open_profile

vault = open_profile(Path(sys.argv[1]), sys.argv[2])
service = EvidenceService(vault)
print("ready", flush=True)
while True:
    service.add(Path(sys.argv[3]), allow_duplicate=True)
"""


@pytest.mark.slow
def test_sigkill_during_intake_leaves_no_orphans(
    tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    profile = tmp_path / "profile"
    Vault.create(profile, passphrase, Role.MONITOR, fast_kdf).lock()
    source = tmp_path / "video.bin"
    with open(source, "wb") as f:
        for _ in range(20):
            f.write(os.urandom(1024 * 1024))
    env = {**os.environ, "FIELDKIT_INSECURE_TEST_KDF": "1"}
    rng = random.Random(20250314)
    partials_seen = 0
    orphans_seen = 0
    for _run in range(RUNS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(profile), passphrase, str(source)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == b"ready", child.stderr.read() if child.stderr else b""
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        # What the kill left behind, before the next unlock cleans it.
        store = profile / "store"
        partials_seen += len(list(store.rglob("*.partial")))
        on_disk = set(_names(store))

        vault = open_profile(profile, passphrase)
        try:
            with vault.session() as s:
                rows = {r.storage_name: r.id for r in s.execute(select(EvidenceItemRow)).scalars()}
            orphans_seen += len(on_disk - set(rows))
            assert list(store.rglob("*.partial")) == []
            remaining = set(_names(store))
            assert remaining == set(rows), "every row has its file and every file its row"
            # The newest items must verify (earlier ones were checked in earlier rounds).
            service = EvidenceService(vault)
            newest = sorted(service.list_items(), key=lambda i: i.change_seq)[-2:]
            for item in newest:
                [result] = service.verify(item.id)
                assert result.ok, result
        finally:
            vault.lock()
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    # The kills really did land mid-write: something was left to clean up.
    print(f"{RUNS} kills: {partials_seen} partial files and {orphans_seen} orphans cleaned")
    assert partials_seen + orphans_seen > 0


def _names(store: Path) -> list[str]:
    return [
        p.name
        for p in store.rglob("*")
        if p.is_file() and len(p.name) == 32 and all(c in "0123456789abcdef" for c in p.name)
    ]

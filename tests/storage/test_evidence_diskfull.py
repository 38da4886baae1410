"""A full disk during intake: a clear DISK_FULL, no partial item, earlier items intact.

Runs on a real, small tmpfs (needs permission to mount; skipped with the reason otherwise).
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services.evidence import EvidenceService
from fieldkit.storage.evidence import EvidenceStore, FileStore
from fieldkit.storage.vault import Vault

MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip() or 'not permitted'}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def leftovers(vault: Vault) -> list[Path]:
    return [p for p in (vault.path / "store").rglob("*") if p.name.endswith(".partial")]


def test_disk_full_is_clear_and_leaves_nothing(
    small_disk: Path,
    fast_kdf: KdfParams,
    passphrase: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = Vault.create(small_disk / "profile", passphrase, Role.MONITOR, fast_kdf)
    try:
        service = EvidenceService(vault)
        first_data = os.urandom(12 * MiB)
        (tmp_path / "first.bin").write_bytes(first_data)
        first = service.add(tmp_path / "first.bin").item

        # 1. The free-space check refuses a file that cannot fit, before writing anything.
        (tmp_path / "big.bin").write_bytes(os.urandom(30 * MiB))
        with pytest.raises(FieldkitError) as info:
            service.add(tmp_path / "big.bin")
        assert info.value.code == ErrorCode.DISK_FULL
        assert "Not enough free space" in info.value.message()
        assert leftovers(vault) == []

        # 2. The real ENOSPC in the middle of the write (the check is skipped on purpose, as if
        #    another program filled the disk meanwhile).
        monkeypatch.setattr(FileStore, "_check_space", lambda self, size: None)
        with pytest.raises(FieldkitError) as info:
            service.add(tmp_path / "big.bin")
        assert info.value.code == ErrorCode.DISK_FULL
        assert leftovers(vault) == []
        assert [i.id for i in service.list_items()] == [first.id]
        assert len(EvidenceStore(vault).files.all_names()) == 1

        # 3. A source of unknown size (a pipe) hits ENOSPC in the file store itself.
        store = EvidenceStore(vault).files
        with pytest.raises(FieldkitError) as info:
            store.write(io.BufferedReader(io.BytesIO(os.urandom(30 * MiB))))  # type: ignore[arg-type]
        assert info.value.code == ErrorCode.DISK_FULL
        assert leftovers(vault) == []

        # The earlier item is intact and the profile keeps working once space is freed.
        [result] = service.verify(first.id)
        assert result.ok
        (tmp_path / "small.bin").write_bytes(b"fits")
        assert service.add(tmp_path / "small.bin").status == "added"
    finally:
        vault.lock()

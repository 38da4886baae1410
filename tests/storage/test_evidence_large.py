"""A multi-GB video goes in and out in constant memory, byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.storage.vault import Vault

SIZE = 2 * 1024 * 1024 * 1024 + 12345  # just over 2 GiB, not a multiple of the chunk size
PEAK_LIMIT_MB = 150

CHILD = """
import json, resource, sys
from pathlib import Path
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.profile import open_profile

def peak_kb():
    # ru_maxrss carries the forking test process's peak across exec on Linux; VmHWM belongs to
    # this program's own address space.
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

vault = open_profile(Path(sys.argv[1]), sys.argv[2])
service = EvidenceService(vault)
before = peak_kb()
item = service.add(Path(sys.argv[3])).item
after_add = peak_kb()
exported = service.export(item.id, Path(sys.argv[4]))
[verified] = service.verify(item.id)
vault.lock()
print(json.dumps({"rss_peak_kb": peak_kb(), "id": item.id, "sha256": item.sha256,
                  "size": item.size, "media_type": item.media_type,
                  "export_sha256": exported.sha256, "verified": verified.ok,
                  "rss_before_kb": before, "rss_after_add_kb": after_add}))
"""


def _write_pattern(path: Path, size: int) -> str:
    """Stream a non-repeating pattern to disk (never all in memory); returns its SHA-256."""
    digest = hashlib.sha256()
    block = bytearray(os.urandom(1024 * 1024))
    header = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"
    written = 0
    with open(path, "wb") as f:
        counter = 0
        while written < size:
            block[:8] = counter.to_bytes(8, "big")
            piece = bytes(block[: min(len(block), size - written)])
            if written == 0:
                piece = header + piece[len(header) :]
            f.write(piece)
            digest.update(piece)
            written += len(piece)
            counter += 1
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
def test_two_gib_video_in_constant_memory(
    tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    profile = tmp_path / "profile"
    Vault.create(profile, passphrase, Role.MONITOR, fast_kdf).lock()
    source = tmp_path / "checkpoint.mp4"
    exported = tmp_path / "exported.mp4"
    try:
        expected = _write_pattern(source, SIZE)
        env = {**os.environ, "FIELDKIT_INSECURE_TEST_KDF": "1"}
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(profile), passphrase, str(source), str(exported)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout)
        # The child's own peak (RUSAGE_CHILDREN here would also count earlier tests' children).
        peak_mb = report["rss_peak_kb"] / 1024
        assert report["size"] == SIZE
        assert report["media_type"] == "video/mp4"
        assert report["sha256"] == expected
        assert report["export_sha256"] == expected
        assert report["verified"] is True
        assert _sha256_file(exported) == expected
        assert exported.stat().st_size == SIZE
        # Peak resident memory of the whole child (interpreter and libraries included).
        assert peak_mb < PEAK_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
        # The intake itself added little on top of the unlocked program.
        grown_mb = (report["rss_after_add_kb"] - report["rss_before_kb"]) / 1024
        assert grown_mb < 32, f"intake grew RSS by {grown_mb:.0f} MB"
        print(
            f"2 GiB intake+export+verify: peak RSS {peak_mb:.0f} MB, intake grew {grown_mb:.1f} MB"
        )
    finally:
        source.unlink(missing_ok=True)
        exported.unlink(missing_ok=True)
        for path in (profile / "store").rglob("*"):
            if path.is_file():
                path.unlink()

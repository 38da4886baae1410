"""Evidence intake against the standard tools, on the same file in the same run.

    .venv/bin/python bench/evidence.py [--size-mib 1024] [--dir bench-data] [--rounds 3]

What a monitor would otherwise do to keep a file hashed and encrypted is ``sha256sum FILE``
followed by ``age -r KEY FILE``. fieldkit does both in one read and also writes the result durably
(fsync before the rename). age does not fsync its output, so the tools are reported twice:
as they run, and followed by ``sync OUTPUT`` (the same durability as fieldkit's store).

The file is read once before timing so that every contender reads it from the page cache; the
comparison is of the work each does, not of who warms the cache. Peak memory is the resident
set of a separate process that unlocks a profile, adds the file, and reads it back.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.evidence import EvidenceService
from fieldkit.storage.vault import Vault

profile, source, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
vault = Vault.create(profile, "bench passphrase W-017 river lantern", Role.MONITOR,
                     KdfParams.insecure_for_tests(), check_strength=False)
service = EvidenceService(vault)
intake, readback = [], []
for _ in range(rounds):
    start = time.perf_counter()
    item = service.add(source, allow_duplicate=True, make_preview=False).item
    intake.append(time.perf_counter() - start)
    start = time.perf_counter()
    with service.open_original(item.id) as handle:
        buffer = bytearray(1024 * 1024)
        while handle.readinto(buffer):
            pass
    readback.append(time.perf_counter() - start)
    service.purge(item.id)
vault.lock()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # ru_maxrss carries the parent's peak across fork+exec on Linux; VmHWM does not
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"intake": intake, "readback": readback, "sha256": item.sha256,
                  "peak_rss_kb": peak}))
"""


def make_file(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size == size:
        return
    block = bytearray(os.urandom(MiB))
    with open(path, "wb") as f:
        written = 0
        counter = 0
        while written < size:
            block[:8] = counter.to_bytes(8, "big")
            n = min(MiB, size - written)
            f.write(block[:n])
            written += n
            counter += 1


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(8 * MiB):
            pass


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("sha256sum", "age", "age-keygen", "sync"):
        if shutil.which(tool) is None:
            print(f"bench: the tool {tool} is needed", file=sys.stderr)
            return 2
    args.dir.mkdir(parents=True, exist_ok=True)
    source = args.dir / f"evidence-{args.size_mib}MiB.bin"
    make_file(source, args.size_mib * MiB)
    size = source.stat().st_size

    with tempfile.TemporaryDirectory(dir=args.dir) as work_dir:
        work = Path(work_dir)
        identity = work / "key.txt"
        subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
        recipient = subprocess.run(
            ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
        ).stdout.strip()
        output = work / "out.age"

        tools, tools_synced, hashes, ages = [], [], [], []
        for _ in range(args.rounds):
            warm(source)
            t_hash = timed(["sha256sum", str(source)])
            t_age = timed(["age", "-r", recipient, "-o", str(output), str(source)])
            t_sync = timed(["sync", str(output)])
            hashes.append(t_hash)
            ages.append(t_age)
            tools.append(t_hash + t_age)
            tools_synced.append(t_hash + t_age + t_sync)
            output.unlink()

        warm(source)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(work / "profile"), str(source), str(args.rounds)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "FIELDKIT_INSECURE_TEST_KDF": "1"},
        )
        ours = json.loads(child.stdout)

    def mbps(seconds: float) -> float:
        return size / MiB / seconds

    t_tools = statistics.median(tools)
    t_tools_synced = statistics.median(tools_synced)
    t_ours = statistics.median(ours["intake"])
    t_read = statistics.median(ours["readback"])
    peak_mb = ours["peak_rss_kb"] / 1024
    print(f"file: {size / MiB:.0f} MiB, {args.rounds} rounds, medians")
    t_hash, t_age = statistics.median(hashes), statistics.median(ages)
    print(f"  sha256sum alone                  {t_hash:6.2f} s  {mbps(t_hash):7.0f} MiB/s")
    print(f"  age -r alone                     {t_age:6.2f} s  {mbps(t_age):7.0f} MiB/s")
    print(f"sha256sum + age -r                 {t_tools:6.2f} s  {mbps(t_tools):7.0f} MiB/s")
    print(
        f"sha256sum + age -r + sync output   {t_tools_synced:6.2f} s  "
        f"{mbps(t_tools_synced):7.0f} MiB/s"
    )
    print(f"fieldkit intake (hash+encrypt+fsync) {t_ours:4.2f} s  {mbps(t_ours):7.0f} MiB/s")
    print(f"fieldkit read-back (decrypt+verify)  {t_read:4.2f} s  {mbps(t_read):7.0f} MiB/s")
    print(
        f"ratio tools/fieldkit: {t_tools / t_ours:.2f} (as they run), "
        f"{t_tools_synced / t_ours:.2f} (same durability); >1 means fieldkit is faster"
    )
    print(f"peak memory of the fieldkit process: {peak_mb:.0f} MB (goal < 200 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: `fieldkit audit verify` (AuditService.verify) over N records in an encrypted profile.

    .venv/bin/python bench/audit_verify.py [--records N] [--keep DIR]

Creates a profile (insecure test key derivation: the number shows the database, not Argon2id),
enters N person records in batches (a tenth of them saved a second time), then times:
the first verification (full, as there is no checkpoint yet; it leaves one), a forced full
verification (`--full`), the verification continuing from the checkpoint, and the same after
100 more records were saved and 100 edited. Prints each and the ratio of full to checkpointed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

os.environ.setdefault("FIELDKIT_INSECURE_TEST_KDF", "1")

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.audit import AuditService
from fieldkit.storage.records import RecordStore
from fieldkit.storage.vault import Vault

PASSPHRASE = "bench: тихий вечір над Дніпром 7"
BATCH = 2000


def fill(vault: Vault, count: int) -> None:
    store = RecordStore(vault.device_id)
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        items = [
            ("person", {"pseudonym": f"W-{(done + i) % 1000:03d}", "sex": "female"}, False)
            for i in range(n)
        ]
        with vault.session() as s:
            ids = store.create_many(s, items)
        with vault.session() as s:
            for record_id in ids[: n // 10]:  # a tenth get a second revision
                store.save(s, record_id, {"pseudonym": "W-999", "sex": "male"}, 1)
        done += n


def more(vault: Vault) -> None:
    """100 new records and 100 edited ones (changes after the checkpoint)."""
    store = RecordStore(vault.device_id)
    with vault.session() as s:
        ids = store.create_many(
            s, [("person", {"pseudonym": f"N-{i:03d}", "sex": "female"}, False) for i in range(100)]
        )
    with vault.session() as s:
        for record_id in ids:
            store.save(s, record_id, {"pseudonym": "N-999", "sex": "male"}, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fk-audit-bench-"))
    try:
        vault = Vault.create(root / "p", PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests())
        started = time.perf_counter()
        fill(vault, args.records)
        print(f"records: {args.records}  (entered in {time.perf_counter() - started:.1f} s)")
        timings: dict[str, float] = {}
        runs = (
            ("first verify (full, leaves a checkpoint)", True, False),
            ("verify --full", True, False),
            ("verify (from the checkpoint)", False, False),
            ("verify (from the checkpoint, after 200 changes)", False, True),
        )
        for label, full, change in runs:
            if change:
                more(vault)
            started = time.perf_counter()
            cpu = time.process_time()
            report = AuditService(vault).verify(full=full)
            took = time.perf_counter() - started
            timings[label] = took
            print(
                f"{label}: {took:.2f} s (CPU {time.process_time() - cpu:.2f} s)  ok={report.ok}  "
                f"entries={report.own.count} versions={report.own.versions_checked} "
                f"from checkpoint={report.own.checkpoint_seq}"
            )
        full_time = timings["verify --full"]
        for label in (
            "verify (from the checkpoint)",
            "verify (from the checkpoint, after 200 changes)",
        ):
            print(
                f"ratio full / {label.removeprefix('verify ')}: {full_time / timings[label]:.1f}x"
            )
        vault.lock()
    finally:
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

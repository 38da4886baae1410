"""Benchmark: `fieldkit audit verify` (AuditService.verify) over N records in an encrypted profile.

    .venv/bin/python bench/audit_verify.py [--records N] [--keep DIR]

Creates a profile (insecure test key derivation: the number shows the database, not Argon2id),
enters N person records in batches (a tenth of them saved a second time), then times the full
verification twice (cold, then with the page cache warm). Prints both.
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
        for label in ("verify (cold)", "verify (warm)"):
            started = time.perf_counter()
            report = AuditService(vault).verify()
            took = time.perf_counter() - started
            print(
                f"{label}: {took:.2f} s  ok={report.ok}  entries={report.own.count} "
                f"versions={report.own.versions_checked}"
            )
        vault.lock()
    finally:
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

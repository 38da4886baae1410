"""Case packages for a lawyer: share, import and review against the standard pipeline.

    .venv/bin/python bench/packages.py [--evidence-mib 256] [--files 4] [--dir bench-data]

A coordinator profile holds one case with its persons, interview and visit, and ``--files``
evidence originals of random bytes linked to the case (``--evidence-mib`` in all). Timed: the
coordinator's ``share_case`` (the disclosure policy over every record and item, evidence decrypted
from the store, tar, age, minisign, fsync), the lawyer's ``import_package`` (decrypt, verify,
hash every member while it streams into the lawyer's encrypted store, one transaction) and
``review`` (every original decrypted and re-hashed), against ``age -d | tar -x`` +
``minisign -V`` + ``sha256sum -c`` on the same package (which checks, stores nothing and leaves
plaintext on disk).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evidence-mib", type=int, default=256)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from tests.export.test_case_packages import set_consent
    from tests.export.test_reports import build_sample

    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.domain.profile import Role
    from fieldkit.services import counsel, trust
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.services.package_receive import import_package
    from fieldkit.services.package_review import review
    from fieldkit.services.package_share import share_case
    from fieldkit.storage.vault import Vault

    base = args.dir or Path(tempfile.mkdtemp(prefix="fieldkit-bench-packages-"))
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(dir=base))
    kdf = KdfParams.insecure_for_tests()
    passphrase = "bench passphrase W-017 river lantern"
    coordinator = Vault.create(root / "coordinator", passphrase, Role.COORDINATOR, kdf)
    lawyer = Vault.create(root / "lawyer", passphrase, Role.LAWYER, kdf)
    trust.init_org(coordinator, "Bench organisation")
    trust.write_card(coordinator, root / "org.pub")
    counsel.enrol_counsel(lawyer, root / "org.pub", root / "lawyer.pub")
    counsel.add_counsel(coordinator, root / "lawyer.pub", "L-01")
    sample = build_sample(coordinator, root)
    set_consent(coordinator, sample.interview_id, "share_prosecution", "photographs")
    evidence = EvidenceService(coordinator)
    size = args.evidence_mib * MiB // max(args.files, 1)
    for index in range(args.files):
        path = root / f"original-{index}.bin"
        with path.open("wb") as out:
            left = size
            while left:
                block = os.urandom(min(left, 4 * MiB))
                out.write(block)
                left -= len(block)
        evidence.add(path, case_id=sample.case_id, make_preview=False)
        path.unlink()
    out_dir = root / "usb"
    out_dir.mkdir()

    started = time.perf_counter()
    shared = share_case(coordinator, sample.case_id, "L-01", out_dir)
    share_s = time.perf_counter() - started
    started = time.perf_counter()
    import_package(lawyer, shared.path)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    checked = review(lawyer, sample.case_id)
    review_s = time.perf_counter() - started
    assert all(r.status == "ok" for r in checked)

    counsel.export_identity(lawyer, root / "lawyer.key")
    counsel.write_org_signing_key(lawyer, root / "org-sign.pub")
    unpacked = root / "unpacked"
    unpacked.mkdir()
    started = time.perf_counter()
    age = subprocess.Popen(
        ["age", "-d", "-i", str(root / "lawyer.key"), str(shared.path)], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(unpacked)], stdin=age.stdout, check=True)
    assert age.wait() == 0
    subprocess.run(
        ["minisign", "-V", "-q", "-p", str(root / "org-sign.pub"), "-m", "SHA256SUMS"],
        cwd=unpacked,
        check=True,
    )
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=unpacked, check=True)
    tools_s = time.perf_counter() - started
    coordinator.lock()
    lawyer.lock()
    print(
        f"{args.evidence_mib} MiB in {args.files} files, {shared.records} records: "
        f"share {share_s:.2f} s, import {import_s:.2f} s ({import_s / tools_s:.2f}x of "
        f"age -d | tar -x + minisign -V + sha256sum -c = {tools_s:.2f} s), review {review_s:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bundle export and import against the standard pipelines, on the same plaintext, in one run.

    .venv/bin/python bench/bundles.py [--records 10000] [--evidence-mib 2048] [--files 8]
                                      [--dir bench-data] [--keep]
    .venv/bin/python bench/bundles.py --canonical-json

Export: ``fieldkit export`` (records from SQLCipher, evidence decrypted from the store, hashed,
tarred, age-encrypted, fsynced) against ``tar -c DIR | age -r RECIPIENT > OUT`` over the very
plaintext the bundle carries (extracted once, read once before timing so both read from the page
cache), followed by ``sync`` of the output (fieldkit syncs its bundle).

Import: ``fieldkit import`` (decrypt, verify the signature, hash every member while it streams,
each original encrypted straight into the evidence store in the same pass, one transaction that
stores records and evidence rows) against ``age -d -i KEY B | tar -x`` + ``minisign -V`` +
``sha256sum -c`` (which only checks, stores nothing and leaves plaintext on disk), then
``sync -f`` of the extracted folder, timed apart: fieldkit's import is durable when it returns,
the extracted files only once that ran (``import_ratio`` leaves it out, ``import_ratio_durable``
counts it). Both sides start with the bundle in the page cache and nothing dirty (``sync``).

Each fieldkit phase runs in its own process; its peak resident set (``ru_maxrss``) is reported.
A run with 1/8 of the evidence shows whether memory stays flat as the data grows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
PASSPHRASE = "bench passphrase W-017 river lantern"

SETUP = r"""
import json, os, sys
from pathlib import Path
os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services import trust
from fieldkit.services.evidence import EvidenceService
from fieldkit.storage.records import RecordStore
from fieldkit.domain.validation import validate_record
from fieldkit.storage.vault import Vault

root = Path(sys.argv[1])
records, evidence_mib, files = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kdf = KdfParams.insecure_for_tests()
coord = Vault.create(root / "coordinator", sys.argv[5], Role.COORDINATOR, kdf, check_strength=False)
mon = Vault.create(root / "monitor", sys.argv[5], Role.MONITOR, kdf, check_strength=False)
trust.init_org(coord, "Bench organisation")
trust.write_card(coord, root / "org.pub")
trust.enrol(mon, root / "org.pub", root / "device.pub")
trust.add_device(coord, root / "device.pub", "W-017 laptop")
trust.export_identity(coord, root / "org.key")
store = RecordStore(mon.device_id)
batch = 500
for start in range(0, records, batch):
    with mon.session() as s:
        for i in range(start, min(records, start + batch)):
            data = validate_record("person", {"pseudonym": f"W-{i:05d}"})
            store.create(s, "person", data)
service = EvidenceService(mon)
src = root / "src"
src.mkdir()
per_file = evidence_mib * 1024 * 1024 // max(files, 1)
block = os.urandom(1024 * 1024)
for n in range(files if evidence_mib else 0):
    path = src / f"video-{n}.bin"
    with open(path, "wb") as fh:
        left = per_file
        while left:
            piece = block[: min(left, len(block))]
            fh.write(bytes([n % 256]) + piece[1:])
            left -= len(piece)
    service.add(path, make_preview=False)
    path.unlink()
with coord.session() as s:
    recipient = str(trust.org_identities(s)[0].recipient)
print(json.dumps({"recipient": recipient}))
coord.lock(); mon.lock()
"""

PHASE = r"""
import json, os, resource, sys, time
from pathlib import Path
os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
from fieldkit.services import bundles
from fieldkit.storage.vault import Vault

phase, profile, target, passphrase = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
vault = Vault.unlock(profile, passphrase)
profiler = None
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
start = time.perf_counter()
if phase == "export":
    result = bundles.export_bundle(vault, target)
    out = {"path": str(result.path), "bytes": result.encrypted_bytes}
else:
    report = bundles.import_bundle(vault, target, write_receipt=False)
    out = {"status": report.status, "records": report.records}
out["seconds"] = time.perf_counter() - start
if profiler is not None:
    profiler.disable()
    profiler.dump_stats(os.environ["BENCH_PROFILE"] + "." + phase)
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
vault.lock()
print(json.dumps(out))
"""


def run_child(code: str, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def timed(command: str, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, shell=True, check=True, cwd=cwd)  # noqa: S602 - fixed pipelines
    return time.perf_counter() - start


def warm(directory: Path) -> None:
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while fh.read(8 * MiB):
                    pass


def bench(records: int, evidence_mib: int, files: int, root: Path) -> dict[str, object]:
    for tool in ("age", "tar", "minisign", "sha256sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    setup = run_child(SETUP, str(root), str(records), str(evidence_mib), str(files), PASSPHRASE)
    setup_seconds = time.perf_counter() - start
    usb = root / "usb"
    usb.mkdir()
    warm(root / "monitor")
    export = run_child(PHASE, "export", str(root / "monitor"), str(usb), PASSPHRASE)
    bundle = Path(str(export["path"]))

    # the same plaintext, extracted once, for the standard pipelines
    plain = root / "plain"
    plain.mkdir()
    timed(f"age -d -i '{root}/org.key' '{bundle}' | tar -x -C '{plain}'")
    warm(plain)
    tar_age = timed(
        f"tar -c -C '{plain}' . | age -r {setup['recipient']} > '{root}/baseline.age' "
        f"&& sync '{root}/baseline.age'"
    )
    (root / "baseline.age").unlink()
    shutil.rmtree(plain)

    # Both sides start alike: the bundle in the page cache, nothing of the other side dirty.
    warm(usb)
    os.sync()
    imported = run_child(PHASE, "import", str(root / "coordinator"), str(bundle), PASSPHRASE)
    check = root / "check"
    check.mkdir()
    warm(usb)
    os.sync()
    standard_import = timed(
        f"age -d -i '{root}/org.key' '{bundle}' | tar -x -C '{check}' && "
        f"minisign -q -V -p '{root}/device.pub' -m SHA256SUMS && sha256sum -c --quiet SHA256SUMS",
        cwd=check,
    )
    # fieldkit's import is durable when it returns (every file fsynced, then the commit); the
    # extracted files are only in the page cache until this
    standard_sync = timed(f"sync -f '{check}'")
    shutil.rmtree(check)
    return {
        "records": records,
        "evidence_mib": evidence_mib,
        "bundle_mib": round(int(str(export["bytes"])) / MiB, 1),
        "setup_s": round(setup_seconds, 1),
        "export_s": round(float(str(export["seconds"])), 2),
        "tar_age_sync_s": round(tar_age, 2),
        "export_ratio": round(float(str(export["seconds"])) / tar_age, 2),
        "export_peak_rss_mib": round(float(str(export["peak_rss_mib"])), 1),
        "import_s": round(float(str(imported["seconds"])), 2),
        "age_tar_minisign_sha256sum_s": round(standard_import, 2),
        "import_ratio": round(float(str(imported["seconds"])) / standard_import, 2),
        "then_sync_s": round(standard_sync, 2),
        "import_ratio_durable": round(
            float(str(imported["seconds"])) / (standard_import + standard_sync), 2
        ),
        "import_peak_rss_mib": round(float(str(imported["peak_rss_mib"])), 1),
    }


def bench_canonical_json(count: int = 10_000) -> dict[str, object]:
    """``canonical_dumps`` on record-like documents, against the character-by-character oracle
    of the tests (best of three), with and without floats (floats take the general path)."""
    import random
    import uuid

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit.test_canonical_json import reference_dumps

    from fieldkit.crypto.canonical_json import canonical_dumps

    rng = random.Random(17)

    def doc(i: int, floats: bool) -> dict[str, object]:
        data: dict[str, object] = {
            "pseudonym": f"W-{i:05d}",
            "summary": "Свідок розповів про затримання біля КПП; " * 8,
            "location": {"region": "Харківська"},
            "tags": ["detention", "ill_treatment"],
            "notes": 'Лапки «так» and "quotes" \n second line\t tab' * 3,
            "age": 34,
        }
        if floats:
            data["location"] = {"region": "Харківська", "lat": 49.99, "lon": 36.23}
        return {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "type": "interview",
            "revision": 1,
            "template_id": "interview",
            "template_version": 3,
            "origin_device": str(uuid.UUID(int=i)),
            "created_at": "2026-11-21T10:00:00Z",
            "updated_at": "2026-11-21T10:00:00Z",
            "confidential": False,
            "deleted": False,
            "data": data,
        }

    out: dict[str, object] = {"documents": count}
    for floats in (False, True):
        docs = [doc(i, floats) for i in range(count)]
        assert [canonical_dumps(d) for d in docs[:500]] == [reference_dumps(d) for d in docs[:500]]
        for name, fn in (("reference", reference_dumps), ("canonical_dumps", canonical_dumps)):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for d in docs:
                    fn(d)
                best = min(best, time.perf_counter() - start)
            out[f"{name}{'_floats' if floats else ''}_ms"] = round(best * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--canonical-json", action="store_true", help="only time canonical JSON on 10 000 documents"
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--evidence-mib", type=int, default=2048)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--small-too", action="store_true", help="also run with 1/8 of the data")
    args = parser.parse_args()
    if args.canonical_json:
        print(json.dumps(bench_canonical_json()), flush=True)
        return 0
    base = args.dir or Path(tempfile.mkdtemp(prefix="fieldkit-bench-"))
    results = []
    try:
        runs = [(args.records, args.evidence_mib)]
        if args.small_too:
            runs.insert(0, (max(args.records // 8, 1), args.evidence_mib // 8))
        for i, (records, mib) in enumerate(runs):
            result = bench(records, mib, args.files, base / f"run{i}")
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

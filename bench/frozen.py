"""Size and start-up time of the frozen program (the artefact of ``python3 dev.py package``).

    .venv/bin/python bench/frozen.py [--artefact dist/fieldkit-*-linux-*.tar.gz] [--runs 5]

Unpacks the tarball into a temporary folder, then reports:

* the tarball's size and the unpacked folder's size (and its largest parts);
* ``fieldkit --version`` wall time (process start to exit: the bootloader, Python and the CLI);
* start-up time to the first window: from starting ``fieldkit-desktop`` (offscreen Qt, an empty
  HOME, a profile to unlock) to the log line "first window shown", written right after the
  unlock window is shown; the log's millisecond time stamp is read, never a polling interval.

Median and extremes of ``--runs`` runs; the first (cold page cache) run is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase W-017 river lantern"
MARKER = "first window shown"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(folder: Path, count: int = 6) -> list[tuple[str, int]]:
    internal = folder / "_internal"
    parts = [
        (p.name, folder_size(p) if p.is_dir() else p.stat().st_size) for p in internal.iterdir()
    ]
    return sorted(parts, key=lambda item: -item[1])[:count]


def environment(home: Path) -> dict[str, str]:
    return {
        "PATH": str(home / "bin"),
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "QT_QPA_PLATFORM": "offscreen",
        "FIELDKIT_PASSPHRASE": PASSPHRASE,
    }


def time_version(program: Path, home: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(program / "fieldkit"), "--version"], env=environment(home), check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def log_stamp(line: str) -> float:
    # "2026-12-04 01:50:00,123 INFO fieldkit.app: first window shown" (logging's asctime, local)
    stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return stamp.timestamp()


def time_first_window(program: Path, home: Path) -> float:
    log_file = home / ".local" / "state" / "fieldkit" / "log" / "fieldkit.log"
    before = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    started = time.time()
    proc = subprocess.Popen([str(program / "fieldkit-desktop")], env=environment(home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
            for line in text[len(before) :].splitlines():
                if MARKER in line:
                    return log_stamp(line) - started
            if proc.poll() is not None:
                raise SystemExit(f"the desktop program exited ({proc.returncode}) before a window")
            time.sleep(0.02)
        raise SystemExit("no window within 120 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artefact", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    artefact = args.artefact or max((ROOT / "dist").glob("fieldkit-*-linux-*.tar.gz"))
    with tempfile.TemporaryDirectory(prefix="fieldkit-bench-") as scratch:
        base = Path(scratch)
        with tarfile.open(artefact) as tar:
            tar.extractall(base / "unpacked", filter="tar")
        (program,) = (base / "unpacked").iterdir()
        home = base / "home"
        for sub in ("bin", "tmp"):
            (home / sub).mkdir(parents=True)
        # A real profile (the default key derivation, as a user has it) for the unlock window.
        subprocess.run([str(program / "fieldkit"), "init"], env=environment(home), check=True,
                       capture_output=True)  # fmt: skip
        version_times = [time_version(program, home) for _ in range(args.runs)]
        window_times = [time_first_window(program, home) for _ in range(args.runs)]
        result = {
            "artefact": artefact.name,
            "artefact_mb": round(artefact.stat().st_size / 1e6, 1),
            "unpacked_mb": round(folder_size(program) / 1e6, 1),
            "largest_parts_mb": {n: round(s / 1e6, 1) for n, s in largest_parts(program)},
            "version_s": summary(version_times),
            "first_window_s": summary(window_times),
            "cpus": os.cpu_count(),
        }
    print(json.dumps(result, indent=2))
    return 0


def summary(values: list[float]) -> dict[str, float]:
    rest = values[1:] or values
    return {
        "first_run": round(values[0], 3),
        "median": round(statistics.median(rest), 3),
        "min": round(min(rest), 3),
        "max": round(max(rest), 3),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

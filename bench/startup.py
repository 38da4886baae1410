"""Start-up time of the desktop program from source, to its first shown window.

    .venv/bin/python bench/startup.py [--runs 7] [--importtime]

Starts ``python -m fieldkit`` (offscreen Qt, an empty HOME, a profile to unlock) and reads the
millisecond time stamp of the log line "first window shown", written right after the unlock
window is shown, as bench/frozen.py does for the frozen program. The same is timed for the
smallest PySide6 program that shows an empty window (what any Qt program costs on this machine),
and the ratio of the two medians is printed. With ``--importtime`` the slowest imports of one
start are listed (``python -X importtime``).

A benchmark, not a test: the numbers depend on the machine and its load (printed with them).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase W-017 river lantern"
MARKER = "first window shown"

# The baseline: a QApplication and one empty window, shown; it prints the time it was shown.
MINIMAL = """
import time
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
window = QWidget()
window.show()
print(repr(time.time()), flush=True)
"""


def environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TMPDIR": str(home / "tmp"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT / "src"),
        "FIELDKIT_INSECURE_TEST_KDF": "1",
    }


def log_stamp(line: str) -> float:
    # "2026-12-04 01:50:00,123 INFO fieldkit.app: first window shown" (logging's asctime, local)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def time_fieldkit(home: Path, profile: Path) -> float:
    log_file = home / ".local" / "state" / "fieldkit" / "log" / "fieldkit.log"
    before = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "fieldkit", "--profile", str(profile)],
                            env=environment(home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
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


def time_minimal(home: Path) -> float:
    started = time.time()
    out = subprocess.run([sys.executable, "-c", MINIMAL], env=environment(home), check=True,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1]) - started


def slowest_imports(home: Path, profile: Path, count: int = 25) -> list[tuple[int, str]]:
    """Cumulative import times (µs) of one start, slowest first (the program quits at once)."""
    code = (
        "import sys, fieldkit.cli as c; from fieldkit import app; "
        "app.DesktopApp.start = lambda self: sys.exit(0); c.main(['--profile', sys.argv[1]])"
    )
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(profile)],
                         env=environment(home), capture_output=True, text=True)  # fmt: skip
    rows = []
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _self, cumulative, name = line[len("import time:") :].split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fieldkit-bench-") as scratch:
        home = Path(scratch)
        (home / "tmp").mkdir()
        profile = home / "profile"
        env = environment(home) | {"FIELDKIT_PASSPHRASE": PASSPHRASE}
        subprocess.run([sys.executable, "-m", "fieldkit", "--profile", str(profile), "init"],
                       env=env, check=True, capture_output=True)  # fmt: skip
        load_before = os.getloadavg()
        fieldkit_times, minimal_times = [], []
        for _ in range(args.runs):  # interleaved, so that load changes touch both alike
            fieldkit_times.append(time_fieldkit(home, profile))
            minimal_times.append(time_minimal(home))
        load_after = os.getloadavg()
        print(f"{os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, "
              f"after {load_after[0]:.2f}")  # fmt: skip
        rows = (("fieldkit", fieldkit_times), ("empty PySide6 window", minimal_times))
        for label, values in rows:
            print(f"{label:>22}: median {statistics.median(values[1:] or values):.3f} s, "
                  f"min {min(values):.3f}, max {max(values):.3f}, first run {values[0]:.3f}"
                  )  # fmt: skip
        ratio = statistics.median(fieldkit_times[1:] or fieldkit_times) / statistics.median(
            minimal_times[1:] or minimal_times
        )
        print(f"{'ratio':>22}: {ratio:.2f}x (goal: the first window under 1.5 s)")
        if args.importtime:
            print("slowest imports of one start (cumulative ms):")
            for micros, name in slowest_imports(home, profile):
                print(f"  {micros / 1000:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

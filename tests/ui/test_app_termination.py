"""The desktop program quits cleanly on SIGTERM (log-out, shut-down), as its Quit command does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WAIT_SECONDS = 90.0


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_quits_the_desktop_program_cleanly(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
        "QT_QPA_PLATFORM": "offscreen",
        "FIELDKIT_LOG_DIR": str(log_dir),
        "FIELDKIT_CONFIG_DIR": str(tmp_path / "settings"),
        "HOME": str(tmp_path / "home"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fieldkit", "--profile", str(tmp_path / "profile")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log_file = log_dir / "fieldkit.log"
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        # Wait for the event (the first window), never for a fixed time.
        while not (log_file.exists() and "first window shown" in log_file.read_text("utf-8")):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no window"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == 0, stderr
    assert b"Traceback" not in stderr
    assert "desktop program stopped" in log_file.read_text("utf-8")

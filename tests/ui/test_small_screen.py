"""Russian and Ukrainian on a 1024×600 screen: every main window, dialog and editor fits the
screen, and no button is narrower than its text. Each language runs in its own process, whose
offscreen screen really is 1024×600 (tests/ui/small_screen_check.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREEN = {
    "screens": [
        {"name": "small", "x": 0, "y": 0, "width": 1024, "height": 600, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": 1}
    ]
}  # fmt: skip
TIMEOUT_S = 600  # a safety net on a loaded machine, not a measurement


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_windows_fit_1024x600_and_no_button_is_cut(language: str, tmp_path: Path) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps(SCREEN), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ui" / "small_screen_check.py"), language, str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    assert problems == [], "\n".join(problems)

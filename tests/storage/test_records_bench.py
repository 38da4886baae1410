"""The records benchmark keeps working: a smoke run with a few hundred records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "records.py"


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--records", "300", "--quick", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "300 records" in out
    for row in ("unlock after KDF", "first page (50, by last change)", "search p50", "search p95"):
        assert row in out
    # Both databases answered the searches identically.
    line = next(x for x in out.splitlines() if x.startswith("search hits"))
    counts = [int(w) for w in line.replace(",", " ").split() if w.isdigit()]
    assert len(counts) == 2
    assert counts[0] == counts[1]
    assert counts[0] > 0
    # The profile stayed encrypted; the comparison copy is the only plain file.
    profile_db = next(tmp_path.glob("profile-*/profile.db"))
    assert not profile_db.read_bytes()[:16].startswith(b"SQLite format 3")
    plain = next(tmp_path.glob("plain-*.db"))
    assert plain.read_bytes()[:16].startswith(b"SQLite format 3")

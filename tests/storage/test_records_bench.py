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
    rows = [
        line for line in out.splitlines() if line.startswith(("unlock", "first page", "search ("))
    ]
    assert any(line.startswith("unlock after KDF") for line in rows)
    assert any(line.startswith("first page (50, by last change)") for line in rows)
    assert any("one session) p95" in line for line in rows)
    assert any("a session each) p95" in line for line in rows)
    # Every timed row has both columns and a ratio.
    assert all(line.count("x") >= 2 for line in rows if line.startswith(("first", "search")))
    # Both databases answered the searches identically.
    line = next(x for x in out.splitlines() if x.startswith("search hits"))
    counts = [int(w) for w in line.replace(",", " ").split() if w.isdigit()]
    assert len(counts) == 2
    assert counts[0] == counts[1]
    assert counts[0] > 0
    # The profile stayed encrypted; the comparison copy is the only plain file.
    profile_db = tmp_path / "profile" / "profile.db"
    assert not profile_db.read_bytes()[:16].startswith(b"SQLite format 3")
    plain = tmp_path / "plain.db"
    assert plain.read_bytes()[:16].startswith(b"SQLite format 3")

"""Callers of the records services see real list types under strict mypy.

``RecordService``, ``CaseService`` and ``RecordStore`` each have a method named ``list``; inside
those classes an annotation written ``list[...]`` would name the method, and strict mypy then
reports the results of ``links()``, ``history()`` or ``conflicts()`` as not iterable for callers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CALLER = """
from fieldkit.services.records import CaseService, RecordService, RecordSummary, RecordView
from fieldkit.storage.records import ConflictView, LinkView, RecordStore, RecordVersionView
from fieldkit.storage.vault import Vault


def use(vault: Vault, store: RecordStore) -> list[str]:
    service = RecordService(vault)
    out: list[str] = [link.kind for link in service.links("x")]
    out += [str(v.revision) for v in service.history("x")]
    out += [c.record_id for c in service.conflicts()]
    out += [r.id for r in service.referrers("x")]
    rows: list[RecordSummary] = service.list_summaries()
    full: list[RecordView] = service.list()
    cases: list[RecordView] = CaseService(vault).list()
    out += [r.title for r in rows] + [r.title for r in full] + [c.title for c in cases]
    with vault.session() as s:
        links: list[LinkView] = store.links(s, "x")
        versions: list[RecordVersionView] = store.history(s, "x")
        conflicts: list[ConflictView] = store.conflicts(s)
        out += [x.kind for x in links] + [v.content_hash for v in versions]
        out += [c.other_device for c in conflicts]
    return out
"""


@pytest.mark.slow
def test_strict_mypy_accepts_a_caller_of_the_records_api(tmp_path: Path) -> None:
    caller = tmp_path / "records_caller.py"
    caller.write_text(CALLER, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(caller),
        ],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout

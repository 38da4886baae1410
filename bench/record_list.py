"""The desktop program's record list over a large real profile: how long the GUI thread waits.

    .venv/bin/python bench/records.py --records 100000 --keep /tmp/b100k   # make a profile once
    FIELDKIT_PASSPHRASE='…' .venv/bin/python bench/record_list.py --profile /tmp/b100k/profile

Opens the profile through the services, builds the main window's lazy ``RecordTableModel`` (pages
read by the task runner) in a ``QTableView`` and times the first page of all records and of cases,
each further page while scrolling, and a full-text search, while a 10 ms heartbeat on the GUI
thread measures the longest stall a person would feel. Goal: stalls well under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=200, help="pages to scroll through")
    parser.add_argument("--query", default="катування")
    args = parser.parse_args()
    passphrase = os.environ.get("FIELDKIT_PASSPHRASE")
    if not passphrase:
        print("set FIELDKIT_PASSPHRASE", file=sys.stderr)
        return 2

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QTableView

    from fieldkit.services.profile import open_profile
    from fieldkit.services.records import RecordFilters, RecordService
    from fieldkit.services.search import SearchService
    from fieldkit.ui.models.lazy_table import RecordTableModel
    from fieldkit.ui.models.sources import RecordListSource, SearchSource
    from fieldkit.ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    vault = open_profile(args.profile, passphrase)
    try:
        records = RecordService(vault)
        # As in the main window: counts and pages are read by the task runner.
        model = RecordTableModel(runner=TaskRunner())
        view = QTableView()
        view.verticalHeader().hide()
        view.setModel(model)
        view.resize(900, 700)
        view.show()
        app.processEvents()
        beats: list[float] = []
        heartbeat = QTimer()
        heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
        heartbeat.start(10)

        def timed(fn: Any) -> float:
            start = time.perf_counter()
            fn()
            model.wait_loaded()
            return (time.perf_counter() - start) * 1000

        rows: list[tuple[str, str]] = []
        ms = timed(lambda: model.set_source(RecordListSource(records, RecordFilters())))
        rows.append(("all records: count + first page", f"{ms:7.1f} ms  ({model.total} rows)"))
        ms = timed(
            lambda: model.set_source(RecordListSource(records, RecordFilters(types=("case",))))
        )
        rows.append(("cases: count + first page", f"{ms:7.1f} ms  ({model.total} rows)"))
        timed(lambda: model.set_source(RecordListSource(records, RecordFilters())))
        steps = []
        for _ in range(args.pages):
            if not model.canFetchMore():
                break
            steps.append(timed(view.scrollToBottom))
        if steps:
            rows.append(
                (
                    f"scrolling, {len(steps)} pages of 200 (wall time per page)",
                    f"p50 {statistics.median(steps):5.1f} ms, longest {max(steps):5.1f} ms "
                    f"(last offset {model.loaded})",
                )
            )
        search = SearchService(vault)
        ms = timed(lambda: model.set_source(SearchSource(search, args.query, RecordFilters())))
        rows.append((f"search {args.query!r}: count + first page", f"{ms:7.1f} ms ({model.total})"))
        heartbeat.stop()
        gaps = sorted(max(0.0, (b - a) * 1000 - 10) for a, b in zip(beats, beats[1:]))
        if gaps:
            p99 = gaps[min(len(gaps) - 1, round(0.99 * (len(gaps) - 1)))]
            rows.append(
                (
                    "GUI thread heartbeat (every 10 ms) meanwhile",
                    f"longest stall {gaps[-1]:5.1f} ms, p99 {p99:5.1f} ms ({len(gaps)} beats)",
                )
            )
        width = max(len(name) for name, _v in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
    finally:
        vault.lock()
    return 0


if __name__ == "__main__":
    sys.exit(main())

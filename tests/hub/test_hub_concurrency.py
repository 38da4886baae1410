"""Several coordinators on one hub at once, as real processes on a real server: two imports of
different bundles both land, the same bundle imported twice at once lands once, a reader never
sees half a bundle, and a desktop killed in the middle of an import loses and doubles nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select

from fieldkit.services import bundles
from fieldkit.storage.locks import HubLock
from fieldkit.storage.server import HUB_SETTINGS_NAME, HubSettings
from fieldkit.storage.tables.bundles import ImportedBundle
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordRow, RecordVersionRow
from fieldkit.storage.vault import Vault
from tests import pg
from tests.export.bundle_kit import World, add_evidence, add_monitor, add_people, make_world
from tests.helpers import cli_env

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path: Path, pg_cluster: pg.Cluster, fast_kdf: object) -> Iterator[World]:
    names: list[str] = []

    def database() -> str:
        names.append(pg_cluster.new_database())
        return pg_cluster.url(names[-1])

    with pg.profiles_on(database):
        world = make_world(tmp_path)
    yield world
    world.close()
    for name in names:
        pg_cluster.drop_database(name)


def second_desktop(world: World) -> Path:
    """The same hub opened from another desktop: its key file, the same database and evidence
    folder (a shared folder in an office)."""
    folder = world.root / "desktop-2"
    folder.mkdir(mode=0o700)
    shutil.copy2(world.coordinator.path / "keyfile", folder / "keyfile")
    settings = HubSettings.read(world.coordinator.path)
    assert settings is not None
    HubSettings(settings.database, store=str(world.coordinator.store_dir)).write(folder)
    # The first desktop names the same folder, so both write their evidence to one place.
    HubSettings(settings.database, store=str(world.coordinator.store_dir)).write(
        world.coordinator.path
    )
    assert (folder / HUB_SETTINGS_NAME).exists()
    return folder


def start_import(profile: Path, bundle: Path, receipts: Path) -> subprocess.Popen[str]:
    receipts.mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fieldkit",
            "--json",
            "import",
            str(bundle),
            "--receipt-dir",
            str(receipts),
        ],
        env=cli_env(profile),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    report = json.loads(out)["bundles"][0]
    assert isinstance(report, dict)
    return report


def counts(vault: Vault) -> dict[str, int]:
    with vault.session() as s:
        return {
            t.__tablename__: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (RecordRow, RecordVersionRow, EvidenceItemRow, ImportedBundle)
        }


def test_the_same_bundle_from_two_desktops_at_once_lands_once(hub: World) -> None:
    add_people(hub.monitor, 40)
    add_evidence(hub.monitor, hub.root / "src", os.urandom(200_000))
    bundle = bundles.export_bundle(hub.monitor, hub.usb).path
    other = second_desktop(hub)
    first = start_import(hub.coordinator.path, bundle, hub.root / "r1")
    second = start_import(other, bundle, hub.root / "r2")
    statuses = sorted(str(finished(p)["status"]) for p in (first, second))
    assert statuses == ["already_imported", "imported"]
    assert counts(hub.coordinator) == {
        "records": 40,
        "record_versions": 40,
        "evidence_items": 1,
        "imported_bundles": 1,
    }
    assert len(list(hub.coordinator.store_dir.rglob("*"))) >= 1


def test_two_coordinators_import_different_bundles_at_once(hub: World) -> None:
    other_monitor = add_monitor(hub, "monitor-2", "W-018 laptop")
    add_people(hub.monitor, 30, prefix="A")
    add_people(other_monitor, 25, prefix="B")
    one = bundles.export_bundle(hub.monitor, hub.usb).path
    two = bundles.export_bundle(other_monitor, hub.usb).path
    other = second_desktop(hub)
    first = start_import(hub.coordinator.path, one, hub.root / "r1")
    second = start_import(other, two, hub.root / "r2")
    assert [finished(p)["status"] for p in (first, second)] == ["imported", "imported"]
    assert counts(hub.coordinator) == {
        "records": 55,
        "record_versions": 55,
        "evidence_items": 0,
        "imported_bundles": 2,
    }


def _import_is_writing(watcher: Any, database: str) -> bool:
    """The importing process holds the hub's import lock and its transaction has written rows."""
    row = watcher.execute(
        "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE a.datname = %s AND a.backend_xid IS NOT NULL "
        "AND l.locktype = 'advisory' AND l.granted AND l.objid = %s",
        (database, int(HubLock.BUNDLE_IMPORT)),
    ).fetchone()
    return bool(row and row[0])


def test_a_reader_never_sees_half_a_bundle_and_a_killed_import_leaves_nothing(
    hub: World, pg_cluster: pg.Cluster
) -> None:
    import psycopg

    total = 1500
    add_people(hub.monitor, total)
    bundle = bundles.export_bundle(hub.monitor, hub.usb).path
    settings = HubSettings.read(hub.coordinator.path)
    assert settings is not None
    database = str(make_url(settings.database).database)

    # Killed while its import transaction is writing: nothing of it stays.
    process = start_import(hub.coordinator.path, bundle, hub.root / "r1")
    deadline = time.monotonic() + 240
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as watcher:
        while not _import_is_writing(watcher, database):
            assert process.poll() is None, "the import ended before it could be interrupted"
            assert time.monotonic() < deadline
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert counts(hub.coordinator) == {
        "records": 0,
        "record_versions": 0,
        "evidence_items": 0,
        "imported_bundles": 0,
    }

    # Imported again while a reader counts: it sees none of it or all of it.
    process = start_import(hub.coordinator.path, bundle, hub.root / "r2")
    seen: set[int] = set()
    while process.poll() is None:
        seen.add(counts(hub.coordinator)["records"])
    assert finished(process)["status"] == "imported"
    seen.add(counts(hub.coordinator)["records"])
    assert seen <= {0, total}
    assert counts(hub.coordinator) == {
        "records": total,
        "record_versions": total,
        "evidence_items": 0,
        "imported_bundles": 1,
    }
    again = start_import(hub.coordinator.path, bundle, hub.root / "r3")
    assert finished(again)["status"] == "already_imported"
    assert counts(hub.coordinator)["records"] == total

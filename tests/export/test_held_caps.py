"""Bundles signed by unknown keys (anyone with the organisation card can make them) cannot fill
the coordinator's disk: held entries and copies stay within documented caps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.bundles import held
from fieldkit.storage.tables.bundles import QuarantinedBundle
from tests.export.bundle_kit import World, add_people, make_world, resign, seal, unpack


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    w = make_world(tmp_path)
    add_people(w.monitor, 2)
    exported = bundles.export_bundle(w.monitor, w.usb)
    w.extra["members"] = unpack(exported.path.read_bytes(), w.identities())
    yield w
    w.close()


def _stranger_bundle(world: World, n: int) -> Path:
    import copy

    members = copy.deepcopy(world.extra["members"])
    resign(members, Ed25519PrivateKey.generate())
    path = world.root / f"stranger-{n}.fkb"
    path.write_bytes(seal(members, world.recipient()))
    return path


def _refuse(world: World, path: Path) -> None:
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, path)
    assert err.value.code == ErrorCode.BUNDLE_UNKNOWN_SIGNER


def _copies(world: World) -> list[Path]:
    folder = world.coordinator.quarantine_dir / "held"
    return sorted(folder.glob("*.fkb")) if folder.is_dir() else []


def _disk_usage(folder: Path) -> int:
    """Bytes the folder's files take on disk (allocated blocks), and their count."""
    total = 0
    if folder.is_dir():
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                total += os.stat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def test_held_entries_are_capped_oldest_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(held, "MAX_HELD_ENTRIES", 3)
    for n in range(5):
        _refuse(world, _stranger_bundle(world, n))
    listed = bundles.list_quarantined(world.coordinator)
    assert len(listed) == 3
    assert [q["file_name"] for q in listed] == [f"stranger-{n}.fkb" for n in (2, 3, 4)]
    assert _copies(world) == []  # of an unknown signer's bundle no copy is ever kept
    assert all(q["signed_head"] and q["file_sha256"] for q in listed)


def test_thousands_of_unknown_signer_bundles_stay_within_the_cap(world: World) -> None:
    """An attacker with the public organisation card sends 1,200 distinct bundles, each signed
    by a fresh key and padded with 100 KiB of its own: the held list stays at its cap, nothing of
    them reaches the quarantine folder, and what the database keeps is a few KiB per entry."""
    import copy

    from tests.export.bundle_kit import Member

    members = world.extra["members"]
    recipient = world.recipient()
    quarantine = world.coordinator.quarantine_dir
    before = _disk_usage(quarantine)
    sent = 0
    for n in range(1200):
        forged = copy.deepcopy(members)
        forged.append(Member(b"objects/" + f"{n:032x}".encode(), os.urandom(100 * 1024)))
        resign(forged, Ed25519PrivateKey.generate())
        path = world.root / "attack.fkb"
        path.write_bytes(seal(forged, recipient))
        sent += path.stat().st_size
        _refuse(world, path)
    assert sent > 100 * 1024 * 1200
    listed = bundles.list_quarantined(world.coordinator)
    assert len(listed) == held.MAX_HELD_ENTRIES
    assert len({q["file_sha256"] for q in listed}) == held.MAX_HELD_ENTRIES
    assert _copies(world) == []
    assert _disk_usage(quarantine) == before  # not one byte more in the quarantine
    with world.coordinator.session() as s:
        kept = s.execute(select(QuarantinedBundle.signed_head, QuarantinedBundle.file_name)).all()
    kept_bytes = sum(len(head or b"") + len(name.encode()) for head, name in kept)
    assert kept_bytes <= held.MAX_HELD_ENTRIES * (held.MAX_HEAD_BYTES + 4 * 300)
    assert all(len(head or b"") <= held.MAX_HEAD_BYTES for head, _name in kept)


def test_the_same_file_refused_again_keeps_one_entry(world: World) -> None:
    path = _stranger_bundle(world, 0)
    for _attempt in range(3):
        _refuse(world, path)
    (entry,) = bundles.list_quarantined(world.coordinator)
    assert entry["file_size"] == path.stat().st_size

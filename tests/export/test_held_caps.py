"""Bundles signed by unknown keys (anyone with the organisation card can make them) cannot fill
the coordinator's disk: held entries and copies stay within documented caps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.bundles import held
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


def test_held_entries_are_capped_oldest_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(held, "MAX_HELD_ENTRIES", 3)
    for n in range(5):
        _refuse(world, _stranger_bundle(world, n))
    listed = bundles.list_quarantined(world.coordinator)
    assert len(listed) == 3
    assert [q["file_name"] for q in listed] == [f"stranger-{n}.fkb" for n in (2, 3, 4)]
    assert len(_copies(world)) == 3  # the dropped entries' copies went with them


def test_past_the_byte_cap_only_what_identifies_the_bundle_is_kept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _stranger_bundle(world, 0)
    monkeypatch.setattr(held, "MAX_HELD_TOTAL_BYTES", first.stat().st_size + 10)
    _refuse(world, first)
    _refuse(world, _stranger_bundle(world, 1))
    listed = bundles.list_quarantined(world.coordinator)
    assert [q["held_file"] for q in listed] == [True, False]
    assert all(q["key_id"] for q in listed)
    assert len(_copies(world)) == 1
    monkeypatch.setattr(held, "MAX_HELD_COPY_BYTES", 100)
    _refuse(world, _stranger_bundle(world, 2))
    assert len(_copies(world)) == 1

"""Import is one pass: each original goes from the bundle straight into the evidence store
(nothing in the quarantine), and nothing is published when the bundle fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.age import encrypt_bytes
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.evidence import EvidenceService
from tests.export.bundle_kit import (
    World,
    add_evidence,
    add_people,
    make_world,
    pack,
    store_files,
    unpack,
)


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def test_originals_stream_straight_into_the_store(world: World) -> None:
    add_people(world.monitor, 3)
    first, second = os.urandom(3 * 1024 * 1024), os.urandom(2 * 1024 * 1024)
    add_evidence(world.monitor, world.root / "src", first, "a.bin")
    add_evidence(world.monitor, world.root / "src", second, "b.bin")
    bundle = bundles.export_bundle(world.monitor, world.usb).path
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, stage: str) -> None:
        quarantine = world.coordinator.quarantine_dir
        staged = list(quarantine.glob("*")) if quarantine.exists() else []
        partials = list(world.coordinator.store_dir.glob("*/*.partial"))
        seen.append((len([p for p in staged if p.is_file()]), len(partials)))

    report = bundles.import_bundle(world.coordinator, bundle, progress=progress)
    assert report.status == "imported"
    assert all(staged == 0 for staged, _partials in seen), "nothing goes through the quarantine"
    assert any(partials > 0 for _staged, partials in seen), "the store receives while it streams"
    stored = {item.sha256 for item in EvidenceService(world.coordinator).list_items()}
    import hashlib

    assert {hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()} <= stored
    assert not list(world.coordinator.store_dir.glob("*/*.partial"))
    assert all(result.ok for result in EvidenceService(world.coordinator).verify())


def test_a_bundle_that_fails_after_its_first_original_publishes_nothing(world: World) -> None:
    add_people(world.monitor, 2)
    add_evidence(world.monitor, world.root / "src", os.urandom(1024 * 1024), "a.bin")
    add_evidence(world.monitor, world.root / "src", os.urandom(1024 * 1024), "b.bin")
    bundle = bundles.export_bundle(world.monitor, world.usb).path
    members = unpack(bundle.read_bytes(), world.identities())
    last = [m for m in members if m.name.startswith(b"objects/")][-1]
    # the signed checksum list still names the original: the check fires at the last byte of
    # the last original, after the first one went into the store
    last.data = last.data[:-1] + bytes([last.data[-1] ^ 1])
    forged = world.root / "forged.fkb"
    forged.write_bytes(encrypt_bytes(pack(members), [world.recipient()]))
    before = store_files(world.coordinator)
    with pytest.raises(FieldkitError) as caught:
        bundles.import_bundle(world.coordinator, forged)
    assert caught.value.code in (
        ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
        ErrorCode.BUNDLE_MEMBER_INVALID,
        ErrorCode.BUNDLE_MANIFEST_INVALID,
    )
    assert store_files(world.coordinator) == before
    assert EvidenceService(world.coordinator).list_items() == []

"""Sync over loopback HTTPS: a real server (uvicorn in a subprocess) and the real client."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import sync as sync_service
from fieldkit.storage.tables.bundles import ImportedBundle
from tests.export.bundle_kit import World, add_evidence, add_people
from tests.sync.sync_kit import Server, publish_card, uploads


@pytest.fixture
def server(world: World) -> Iterator[Server]:
    s = Server(world.coordinator.path, ()).start()
    try:
        publish_card(world, s)
        yield s
    finally:
        s.stop()


def imported(world: World) -> int:
    with world.coordinator.session() as s:
        return int(s.execute(select(func.count()).select_from(ImportedBundle)).scalar_one())


def test_sync_delivers_and_brings_back_the_receipt(world: World, server: Server) -> None:
    add_people(world.monitor, 5, prefix="QZXK")
    add_evidence(world.monitor, world.root / "src", os.urandom(300_000))
    result = sync_service.sync(world.monitor)
    assert [p.status for p in result.pushed] == ["imported"]
    assert result.receipt is not None
    assert result.receipt.bundles == [1]
    assert imported(world) == 1
    assert result.removed_from_outbox == 1
    assert list(sync_service.outbox_dir(world.monitor).iterdir()) == []
    assert uploads(world.coordinator) == []
    again = sync_service.sync(world.monitor)
    # the custody events of the files that left travel in the next bundle, once
    assert all(p.status == "imported" for p in again.pushed)
    assert imported(world) == 1 + len(again.pushed)
    log = server.stop()
    assert "QZXK-0" not in log
    assert "imported" in log


def test_a_card_without_address_says_how_to_get_one(world: World) -> None:
    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(world.monitor)
    assert caught.value.code == ErrorCode.SYNC_NOT_CONFIGURED


def test_only_a_coordinator_profile_serves(world: World) -> None:
    from fieldkit.services.sync_inbox import Inbox

    with pytest.raises(FieldkitError) as caught:
        Inbox(world.monitor, "0" * 64)
    assert caught.value.code == ErrorCode.WRONG_ROLE
    assert "needs a coordinator profile" in caught.value.message()

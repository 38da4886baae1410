"""Two devices sending at once to a real server on 127.0.0.1, with real clients.

The profile's database has one writer, so one import runs at a time; a second device's upload
is not turned away for it: its signed head is checked as it arrives, the rest is kept, and it is
imported once the first import is done. Waits are on conditions (the server's upload folder),
never fixed sleeps; the server's own timeouts are set far beyond them, as safety nets only.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles as bundle_service
from fieldkit.services import sync as sync_service
from fieldkit.services import trust
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.sync import _waiting
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import World, add_evidence, add_monitor, add_people
from tests.sync.sync_kit import (
    Server,
    client_for,
    imported_count,
    publish_card,
    uploads,
    wait_for,
)

MiB = 1024 * 1024


def _bundle(vault: Vault, root: Path, size: int) -> tuple[str, bytes, str, str]:
    """An outbox bundle with ``size`` bytes of evidence: its id, bytes, SHA-256, evidence hash."""
    os.makedirs(sync_service.outbox_dir(vault), exist_ok=True)
    add_people(vault, 3)
    data = os.urandom(size)
    add_evidence(vault, root, data, "video.bin")
    bundle_service.export_bundle(vault, sync_service.outbox_dir(vault))
    [waiting] = _waiting(vault)
    raw = waiting.path.read_bytes()
    return waiting.bundle_id, raw, hashlib.sha256(raw).hexdigest(), hashlib.sha256(data).hexdigest()


def _part(vault: Vault, bundle_id: str) -> int:
    path = vault.path / "sync" / "uploads" / f"{bundle_id}.part"
    try:
        return path.stat().st_size
    except OSError:
        return -1


class _HeldUpload:
    """The first device's upload, stopped after its first MiB until ``release`` (its import
    runs meanwhile and holds the database)."""

    def __init__(self, vault: Vault, bundle_id: str, data: bytes, sha: str) -> None:
        self.release = threading.Event()
        self.outcome: list[Any] = []

        def body() -> Iterator[bytes]:
            yield data[:MiB]
            self.release.wait(600)
            for start in range(MiB, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]

        def send() -> None:
            client = client_for(vault)
            try:
                self.outcome.append(client.put(bundle_id, len(data), sha, 0, body()))  # type: ignore[attr-defined]
            except FieldkitError as exc:
                self.outcome.append(exc)
            finally:
                client.close()  # type: ignore[attr-defined]

        self.thread = threading.Thread(target=send)

    def __enter__(self) -> _HeldUpload:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(timeout=600)


def _two_monitors(world: World, server: Server) -> Vault:
    card = publish_card(world, server)
    other = add_monitor(world, "monitor2", "W-018 laptop")
    trust.enrol(other, card, None)
    return other


@pytest.mark.slow
def test_a_second_device_is_not_turned_away_while_another_imports(world: World) -> None:
    server = Server(world.coordinator.path, ("--import-wait", "600", "--idle-timeout", "600"))
    server.start()
    try:
        other = _two_monitors(world, server)
        first_id, first_data, first_sha, first_file = _bundle(
            world.monitor, world.root / "a", 3 * MiB
        )
        second_id, second_data, _sha, second_file = _bundle(other, world.root / "b", 2 * MiB)
        second: list[Any] = []
        with _HeldUpload(world.monitor, first_id, first_data, first_sha) as held:
            # the first import runs (its head verified, its part growing) and holds the database
            wait_for(lambda: _part(world.coordinator, first_id) > 0, "the first import to run")

            def sync_second() -> None:
                try:
                    second.append(sync_service.sync(other, export=False))
                except FieldkitError as exc:
                    second.append(exc)

            thread = threading.Thread(target=sync_second)
            thread.start()
            # the second device's whole file arrived while the first import still runs
            wait_for(
                lambda: _part(world.coordinator, second_id) == len(second_data),
                "the second upload to be kept whole",
                timeout=300,
            )
            assert imported_count(world) == 0
            held.release.set()
            thread.join(timeout=600)
        assert isinstance(held.outcome[0], dict), held.outcome
        assert held.outcome[0]["status"] == "imported"
        [result] = second
        assert not isinstance(result, FieldkitError), result
        [pushed] = result.pushed
        assert (pushed.bundle_id, pushed.status) == (second_id, "imported")
        assert pushed.sent_bytes == len(second_data)  # sent once, never refused and sent again
        assert result.receipt is not None
        assert result.receipt.bundles == [1]
    finally:
        log = server.stop()
    assert imported_count(world) == 2
    hashes = {item.sha256 for item in EvidenceService(world.coordinator).list_items()}
    assert {first_file, second_file} <= hashes
    assert uploads(world.coordinator) == []
    assert "sync_server_busy" not in log
    assert "come back" not in log


@pytest.mark.slow
def test_a_whole_upload_that_waited_too_long_is_kept_and_not_sent_again(world: World) -> None:
    server = Server(world.coordinator.path, ("--import-wait", "1", "--idle-timeout", "600"))
    server.start()
    try:
        other = _two_monitors(world, server)
        first_id, first_data, first_sha, _f = _bundle(world.monitor, world.root / "a", 3 * MiB)
        second_id, second_data, second_sha, second_file = _bundle(other, world.root / "b", MiB)
        with _HeldUpload(world.monitor, first_id, first_data, first_sha) as held:
            wait_for(lambda: _part(world.coordinator, first_id) > 0, "the first import to run")
            client = client_for(other)
            try:
                with pytest.raises(FieldkitError) as caught:
                    client.put(second_id, len(second_data), second_sha, 0, iter([second_data]))  # type: ignore[attr-defined]
            finally:
                client.close()  # type: ignore[attr-defined]
            assert caught.value.code == ErrorCode.SYNC_SERVER_BUSY
            assert _part(world.coordinator, second_id) == len(second_data)
            held.release.set()
        assert held.outcome[0]["status"] == "imported"
        # the next sync sends nothing again: the server imports the kept file
        result = sync_service.sync(other, export=False)
        [pushed] = result.pushed
        assert (pushed.status, pushed.sent_bytes) == ("imported", 0)
        assert pushed.resumed_from == len(second_data)
    finally:
        log = server.stop()
    assert "kept whole; another import still runs, asked to come back" in log
    assert imported_count(world) == 2
    hashes = {item.sha256 for item in EvidenceService(world.coordinator).list_items()}
    assert second_file in hashes
    assert uploads(world.coordinator) == []

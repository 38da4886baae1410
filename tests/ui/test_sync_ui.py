"""The desktop program's Sync action against a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.services.records import CaseService
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.sync import SyncDialog
from fieldkit.ui.tasks import TaskRunner
from tests.export.bundle_kit import World, make_world
from tests.sync.sync_kit import Server, publish_card

TIME_TASK_MS = 60_000


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def test_sync_dialog_delivers_and_shows_the_receipt(qtbot: QtBot, world: World) -> None:
    server = Server(world.coordinator.path, ()).start()
    try:
        publish_card(world, server)
        CaseService(world.monitor).add("W-017")
        dialog = SyncDialog(world.monitor, TaskRunner())
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.start_button.click()
        assert dialog.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=TIME_TASK_MS)
        assert dialog.error is None, dialog.status_label.text()
        text = dialog.status_label.text()
        assert "Bundle 1: delivered." in text
        assert "Receipt applied" in text
        assert not dialog.cancel_button.isEnabled()
    finally:
        server.stop()


def test_sync_without_an_address_says_what_to_do(qtbot: QtBot, world: World) -> None:
    dialog = SyncDialog(world.monitor, TaskRunner())
    qtbot.addWidget(dialog)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=TIME_TASK_MS)
    assert "gives no sync address" in dialog.status_label.text()


def test_the_main_window_offers_sync_to_monitors_only(qtbot: QtBot, world: World) -> None:
    monitor = MainWindow(world.monitor, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(monitor)
    assert monitor.action_sync.isVisible()
    coordinator = MainWindow(world.coordinator, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(coordinator)
    assert not hasattr(coordinator, "action_sync")

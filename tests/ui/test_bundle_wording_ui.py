"""The desktop program's words for imports, refusals and receipts (usability review, step 6):
labelled record counts, a next step for each refused bundle, a receipt in a monitor's words."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from fieldkit import i18n
from fieldkit.services.bundles import export_bundle, import_bundle
from fieldkit.services.records import CaseService
from fieldkit.ui import dialogs
from fieldkit.ui.bundles import ImportWizard, apply_receipt_interactively, report_details
from fieldkit.ui.tasks import TaskRunner
from tests.export.bundle_kit import World, add_evidence, make_world

TIME_TASK_MS = 30_000


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


@pytest.fixture
def informed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(title, text) of every information box, as the person would read it."""
    seen: list[tuple[str, str]] = []
    real = dialogs.inform

    def inform(parent: Any, title: str, text: str, detail: str = "") -> None:
        seen.append((title, text))
        real(parent, title, text, detail)

    monkeypatch.setattr(dialogs, "inform", inform)
    return seen


def _import(qtbot: QtBot, world: World, paths: list[Path]) -> ImportWizard:
    wizard = ImportWizard(world.coordinator, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    dialogs.set_next_path(paths)
    wizard.choose_page.add_button.click()
    with qtbot.waitSignal(wizard.imported, timeout=TIME_TASK_MS):
        wizard.next()
    return wizard


def test_report_labels_every_count_and_says_what_to_do(qtbot: QtBot, world: World) -> None:
    CaseService(world.monitor).add("W-017")
    good = export_bundle(world.monitor, world.usb).path
    damaged = world.root / "damaged.fkb"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    import_bundle(world.coordinator, good)

    wizard = _import(qtbot, world, [damaged, good])
    table = wizard.report_table
    header = table.horizontalHeaderItem(table.COL_RECORDS).text()
    assert header == "Record versions"
    # the bundle imported before: nothing new, its one version unchanged, not "1 (0 / 0)"
    assert table.item(1, table.COL_RECORDS).text() == (
        "1 (new: 0, updated: 0, unchanged: 1, conflicts: 0)"
    )
    refused, again = (report_details(*r) for r in wizard.results)
    assert "Nothing from this bundle was imported." in refused
    assert "What to do: copy the bundle again from the monitor's laptop or the stick" in refused
    assert "Record versions: 1 (new: 0, updated: 0, unchanged: 1, conflicts: 0)" in again
    table.selectRow(0)
    assert "What to do:" in wizard.details.toPlainText()


def test_report_in_russian(qtbot: QtBot, world: World) -> None:
    CaseService(world.monitor).add("W-017")
    good = export_bundle(world.monitor, world.usb).path
    i18n.set_language("ru")
    wizard = _import(qtbot, world, [good])
    table = wizard.report_table
    assert table.horizontalHeaderItem(table.COL_RECORDS).text() == "Версии записей"
    assert table.item(0, table.COL_RECORDS).text() == (
        "1 (новых: 1, обновлённых: 0, без изменений: 0, конфликтов: 0)"
    )


def test_receipt_says_what_the_organisation_holds(
    qtbot: QtBot, world: World, informed: list[tuple[str, str]]
) -> None:
    CaseService(world.monitor).add("W-017")
    add_evidence(world.monitor, world.root / "src", os.urandom(3000))
    report = import_bundle(world.coordinator, export_bundle(world.monitor, world.usb).path)
    assert report.receipt

    dialogs.set_next_path(Path(report.receipt))
    dialogs.set_next_answer(True)  # "Receipt applied"
    dialogs.set_next_answer(False)  # keep the original for now
    result = apply_receipt_interactively(None, world.monitor)  # type: ignore[arg-type]
    assert result is not None
    assert dialogs.pending() == 0
    assert [kind for kind, _title in dialogs.asked()] == [
        "open_file",
        "inform",
        "confirm_destructive",
    ]
    title, text = informed[0]
    assert title == "Receipt applied"
    assert text.splitlines() == [
        "Bundles from this laptop that the organisation has received: 1.",
        "It now holds 1 record and 1 evidence file from this laptop.",
        "Evidence originals on this laptop that the organisation holds and that may now be "
        "erased from here: 1.",
    ]
    assert "change" not in text


def test_receipt_with_nothing_to_erase_asks_nothing(
    qtbot: QtBot, world: World, informed: list[tuple[str, str]]
) -> None:
    CaseService(world.monitor).add("W-017")
    report = import_bundle(world.coordinator, export_bundle(world.monitor, world.usb).path)
    i18n.set_language("uk")
    dialogs.set_next_path(Path(report.receipt or ""))
    dialogs.set_next_answer(True)
    assert apply_receipt_interactively(None, world.monitor) is not None  # type: ignore[arg-type]
    assert "confirm_destructive" not in [kind for kind, _title in dialogs.asked()]
    assert informed[0][1].splitlines() == [
        "Пакети з цього ноутбука, які отримала організація: 1.",
        "Тепер у неї зберігаються 1 запис і 0 файлів доказів з цього ноутбука.",
        "На цьому ноутбуці немає оригіналів доказів, що чекають на стирання.",
    ]

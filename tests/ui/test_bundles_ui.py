"""Bundle windows: export with cancel and errors, import of several bundles with refusals in the
report, trust management with revocation, receipts back to the monitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.services.bundles import export_bundle
from fieldkit.services.records import CaseService
from fieldkit.ui import dialogs
from fieldkit.ui.bundles import (
    ExportWizard,
    ImportWizard,
    ReceiptsDialog,
    TrustDialog,
    apply_receipt_interactively,
    report_details,
)
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.tasks import TaskRunner
from tests.export.bundle_kit import World, add_monitor, make_world

TIME_TASK_MS = 30_000


@pytest.fixture
def world(tmp_path: Path, fast_kdf) -> World:
    w = make_world(tmp_path)
    yield w
    w.close()


def _export_through_wizard(qtbot: QtBot, vault, folder: Path) -> ExportWizard:
    wizard = ExportWizard(vault, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    assert not wizard.destination_page.isComplete()
    dialogs.set_next_path(folder)
    wizard.destination_page.choose_button.click()
    assert wizard.destination_page.isComplete()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page, timeout=TIME_TASK_MS)
    return wizard


def test_export_wizard_writes_a_bundle(qtbot: QtBot, world: World) -> None:
    CaseService(world.monitor).add("Затримання W-017 у Херсоні")
    wizard = _export_through_wizard(qtbot, world.monitor, world.usb)
    assert wizard.error is None
    result = wizard.result_value
    assert result.path.is_file()
    assert result.path.parent == world.usb
    text = wizard.result_label.text()
    assert str(result.path) in text
    assert "Bundle number 1 of this device" in text
    assert result.bundle_hash in text


def test_export_wizard_says_when_there_is_nothing_new(qtbot: QtBot, world: World) -> None:
    CaseService(world.monitor).add("W-017")
    export_bundle(world.monitor, world.usb)
    from fieldkit.services.bundles import apply_receipt, import_bundle

    for bundle in sorted(world.usb.glob("*.fkb")):
        report = import_bundle(world.coordinator, bundle, receipt_dir=world.root)
        apply_receipt(world.monitor, Path(report.receipt))
    wizard = _export_through_wizard(qtbot, world.monitor, world.usb)
    assert wizard.error is not None
    assert "Nothing new to export" in wizard.result_label.text()


def test_export_can_be_cancelled(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    from fieldkit.services.evidence import EvidenceService

    big = tmp_path / "video.bin"
    big.write_bytes(b"\x01" * (48 * 1024 * 1024))
    EvidenceService(world.monitor).add(big)
    wizard = ExportWizard(world.monitor, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.destination_page.set_folder(world.usb)
    wizard.next()
    wizard.cancel_export()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page, timeout=TIME_TASK_MS)
    if wizard.error is None:  # the machine was quicker than the click
        pytest.skip("the export finished before it could be cancelled")
    assert "cancelled" in wizard.result_label.text()
    assert list(world.usb.iterdir()) == [], "nothing is left on the stick"


def test_import_wizard_reports_each_bundle_and_its_refusal(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    CaseService(world.monitor).add("Затримання W-017 у Херсоні")
    good = export_bundle(world.monitor, world.usb).path
    # A bundle made for another organisation, and a damaged copy of a good one.
    stranger_world = make_world(tmp_path / "other", label="stranger")
    CaseService(stranger_world.monitor).add("W-099")
    stranger = export_bundle(stranger_world.monitor, stranger_world.usb).path
    tampered = world.root / "tampered.fkb"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))

    wizard = ImportWizard(world.coordinator, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    assert not wizard.choose_page.isComplete()
    dialogs.set_next_path([tampered, stranger, good])
    wizard.choose_page.add_button.click()
    assert wizard.choose_page.list.count() == 3
    with qtbot.waitSignal(wizard.imported, timeout=TIME_TASK_MS) as done:
        wizard.next()
    assert done.args == [1]
    assert wizard.currentPage() is wizard.report_page
    table = wizard.report_table
    assert table.rowCount() == 3
    statuses = [table.item(r, table.COL_STATUS).text() for r in range(3)]
    assert statuses == ["REFUSED", "REFUSED", "imported"]
    assert "1 bundle imported." in wizard.summary_label.text()
    assert "2 bundles refused" in wizard.summary_label.text()
    details = [report_details(*r) for r in wizard.results]
    assert "Nothing from this bundle was imported." in details[0]
    assert "organisation's key" in details[1]  # made for another organisation
    assert "Signed by: W-017 laptop" in details[2]
    table.selectRow(1)
    assert "cannot be opened here" in wizard.details.toPlainText()
    stranger_world.close()


def test_trust_dialog_enrols_and_revokes(qtbot: QtBot, world: World) -> None:
    add_monitor(world, "second", "ноутбук M-05")
    dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert not dialog.init_button.isVisible()
    codes = [dialog.table.item(r, dialog.COL_CODE).text() for r in range(2)]
    assert all(len(code.split()) == 6 for code in codes)
    dialog.add_button.click()  # no label yet: it says so, and nothing is asked
    assert "label" in dialog.code_hint.text()
    dialog.table.selectRow(1)
    dialogs.set_next_answer(False)
    dialog.revoke_button.click()
    assert dialog.table.item(1, dialog.COL_STATUS).text() == "active"
    dialogs.set_next_answer(True)
    dialog.revoke_button.click()
    assert dialog.table.item(1, dialog.COL_STATUS).text() == "revoked"
    assert [kind for kind, _t in dialogs.asked()] == ["confirm_destructive"] * 2


def test_receipt_round_trip(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    CaseService(world.monitor).add("W-017")
    bundle = export_bundle(world.monitor, world.usb).path
    from fieldkit.services.bundles import import_bundle

    import_bundle(world.coordinator, bundle, write_receipt=False)
    dialog = ReceiptsDialog(world.coordinator, TaskRunner())
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    out = tmp_path / "receipts"
    out.mkdir()
    dialogs.set_next_path(out)
    dialog.write_button.click()
    receipts = list(out.glob("receipt-*.json"))
    assert len(receipts) == 1
    assert str(receipts[0]) in dialog.status_label.text()

    dialogs.set_next_path(receipts[0])
    dialogs.set_next_answer(True)  # "Receipt applied"
    dialogs.set_next_answer(False)  # keep the originals for now
    result = apply_receipt_interactively(dialog, world.monitor)
    assert result is not None
    assert result.acknowledged_through > 0
    assert dialogs.pending() == 0


def test_a_device_enrolled_but_not_trusted_is_refused_and_named(
    qtbot: QtBot, world: World, fast_kdf
) -> None:
    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.domain.profile import Role
    from fieldkit.services import trust
    from fieldkit.services.profile import create_profile
    from tests.helpers import STRONG_PASSPHRASE

    newcomer = create_profile(
        world.root / "newcomer", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    try:
        trust.enrol(newcomer, world.org_card, None)  # has the card, but nobody trusted it
        CaseService(newcomer).add("W-101")
        bundle = export_bundle(newcomer, world.usb).path
    finally:
        newcomer.lock()
    wizard = ImportWizard(world.coordinator, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.choose_page.add_paths([bundle])
    with qtbot.waitSignal(wizard.imported, timeout=TIME_TASK_MS) as done:
        wizard.next()
    assert done.args == [0]
    assert wizard.report_table.item(0, wizard.report_table.COL_STATUS).text() == "REFUSED"
    text = report_details(*wizard.results[0])
    assert "not enrolled" in text
    assert "Enrol the device in person" in text
    assert CaseService(world.coordinator).count() == 0
    trust_dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(trust_dialog)
    assert not trust_dialog.held_label.isHidden()
    assert "1 bundle is held for review" in trust_dialog.held_label.text()
    assert "signed by a device that is not enrolled" in trust_dialog.held_label.text()
    assert trust_dialog.alarm_label.isHidden()


def test_export_before_enrolment_says_where_to_enrol(qtbot: QtBot, new_vault) -> None:
    CaseService(new_vault).add("W-017")
    folder = new_vault.path.parent / "stick"
    folder.mkdir()
    wizard = _export_through_wizard(qtbot, new_vault, folder)
    assert wizard.error is not None
    assert "Enrol with the organisation" in wizard.result_label.text()
    assert list(folder.iterdir()) == []

"""Bundle windows: export with cancel and errors, import of several bundles with refusals in the
report, trust management with revocation, receipts back to the monitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard
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
    dialogs.set_next_answer(True)  # "Receipt applied"; no evidence, so no question to erase
    result = apply_receipt_interactively(dialog, world.monitor)
    assert result is not None
    assert result.acknowledged_through > 0
    assert result.erasable == 0
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
    assert trust_dialog.held_list.count() == 1
    assert "signed by a device that is not enrolled" in trust_dialog.held_list.item(0).text()
    assert bundle.name in trust_dialog.held_list.item(0).text()
    assert trust_dialog.alarm_label.isHidden()


def test_export_before_enrolment_says_where_to_enrol(qtbot: QtBot, new_vault) -> None:
    CaseService(new_vault).add("W-017")
    folder = new_vault.path.parent / "stick"
    folder.mkdir()
    wizard = ExportWizard(new_vault, TaskRunner())
    qtbot.addWidget(wizard)
    wizard.show()
    # Said on the first page, before a folder is chosen, and the wizard goes no further.
    page = wizard.destination_page
    assert "Enrol with the organisation" in page.note.text()
    assert not page.choose_button.isEnabled()
    page.set_folder(folder)
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "Enrol with the organisation" in page.note.text()
    wizard.next()
    assert wizard.currentPage() is page
    assert list(folder.iterdir()) == []


# --- alarms by kind, held bundles: reasons, discard, import again --------------------------------


def _forge_alarms(world: World) -> None:
    """Bundle 1 imported; then an equivocation (another bundle 1) and a fork (a bundle 2 that does
    not follow bundle 1), both properly signed by the device key, each refused with an alarm."""
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.services.bundles import import_bundle
    from tests.export.bundle_kit import add_people, manifest_doc, resign, seal, set_manifest, unpack

    add_people(world.monitor, 1)
    first = export_bundle(world.monitor, world.usb)
    import_bundle(world.coordinator, first.path, write_receipt=False)
    add_people(world.monitor, 1, prefix="V")
    second = export_bundle(world.monitor, world.usb)
    forgeries = []
    members = unpack(first.path.read_bytes(), world.identities())
    doc = manifest_doc(members)
    doc["bundle_id"] = "00000000-0000-4000-8000-000000000001"
    doc["created_at"] = "2026-01-01T00:00:00Z"
    set_manifest(members, doc)
    resign(members, world.device_key())
    forgeries.append((world.root / "same-number.fkb", members, ErrorCode.BUNDLE_EQUIVOCATION))
    members = unpack(second.path.read_bytes(), world.identities())
    doc = manifest_doc(members)
    doc["prev"] = "0" * 64
    set_manifest(members, doc)
    resign(members, world.device_key())
    forgeries.append((world.root / "other-chain.fkb", members, ErrorCode.BUNDLE_FORK))
    for path, parts, code in forgeries:
        path.write_bytes(seal(parts, world.recipient()))
        with pytest.raises(FieldkitError) as err:
            import_bundle(world.coordinator, path, write_receipt=False)
        assert err.value.code is code


def test_fork_and_equivocation_alarms_say_different_things(qtbot: QtBot, world: World) -> None:
    from fieldkit import i18n
    from fieldkit.services.bundles import list_alarms
    from fieldkit.ui.bundles import alarm_text

    _forge_alarms(world)
    assert [a["kind"] for a in list_alarms(world.coordinator)] == ["equivocation", "fork"]
    dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    assert not dialog.alarm_label.isHidden()
    equivocation, fork = dialog.alarm_label.text().split("\n")
    assert equivocation.startswith("ALARM: device W-017 laptop sent two different bundles")
    assert "numbered 1" in equivocation
    assert fork.startswith("ALARM: bundle 2 of device W-017 laptop does not continue the chain")
    assert "two different bundles" not in fork
    assert "revoke it" in fork
    assert "revoke it" in equivocation
    assert dialog.held_list.isHidden(), "an alarm holds no bundle"
    # each kind in Ukrainian; an unknown kind is still an alarm, named as it is
    i18n.set_language("uk")
    fork_uk = alarm_text({"kind": "fork", "device_id": "d" * 32, "seq": 2})
    same_uk = alarm_text({"kind": "equivocation", "device_id": "d" * 32, "seq": 2})
    assert fork_uk.startswith("ТРИВОГА: пакет 2 пристрою dddddddd не продовжує ланцюжок")
    assert same_uk.startswith("ТРИВОГА: пристрій dddddddd надіслав два різні пакети")
    i18n.set_language("en")
    odd = alarm_text({"kind": "mystery", "device_id": "e" * 32, "seq": 7}, {"e" * 32: "M-04"})
    assert odd.startswith("ALARM (mystery): device M-04, bundle 7.")


def _held_bundle(world: World) -> tuple[Path, Path]:
    """A bundle from a device that has the organisation card but was never enrolled here; its
    import is refused and it is held (what identifies it; no copy). Returns (bundle on the stick,
    the device's key file)."""
    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.domain.profile import Role
    from fieldkit.services import trust
    from fieldkit.services.bundles import import_bundle
    from fieldkit.services.profile import create_profile
    from tests.helpers import STRONG_PASSPHRASE

    newcomer = create_profile(
        world.root / "newcomer", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    pub = world.root / "newcomer.pub"
    try:
        trust.enrol(newcomer, world.org_card, pub)
        CaseService(newcomer).add("W-101")
        bundle = export_bundle(newcomer, world.usb).path
    finally:
        newcomer.lock()
    with pytest.raises(FieldkitError) as err:
        import_bundle(world.coordinator, bundle, write_receipt=False)
    assert err.value.code is ErrorCode.BUNDLE_UNKNOWN_SIGNER
    return bundle, pub


def _held_copies(world: World) -> list[Path]:
    folder = world.coordinator.quarantine_dir / "held"
    return sorted(folder.glob("*.fkb")) if folder.is_dir() else []


def _wait_held_task(qtbot: QtBot, dialog: TrustDialog) -> None:
    qtbot.waitUntil(
        lambda: (
            dialog.held_task is not None
            and dialog.held_task.is_done
            and dialog.held_import_button.isEnabled() == bool(dialog.held)
            and not dialog.held_status.text().endswith("…")
        ),
        timeout=TIME_TASK_MS,
    )


def test_held_reasons_come_from_the_service_in_ukrainian(qtbot: QtBot, world: World) -> None:
    from fieldkit import i18n
    from fieldkit.services.bundles import held_reason_text

    bundle, _pub = _held_bundle(world)
    i18n.set_language("uk")
    dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    assert "1 пакет чекає на перевірку" in dialog.held_label.text()
    line = dialog.held_list.item(0).text()
    assert held_reason_text("bundle_unknown_signer") == "підписаний незареєстрованим пристроєм"
    assert "підписаний незареєстрованим пристроєм" in line
    assert bundle.name in line
    assert "отримано" in line
    assert dialog.held_import_button.text() == "Імпортувати ще раз…"
    assert dialog.held_discard_button.text() == "Видалити…"


def test_discard_removes_the_held_bundle(qtbot: QtBot, world: World) -> None:
    from fieldkit.services.bundles import list_quarantined

    bundle, _pub = _held_bundle(world)
    assert _held_copies(world) == []  # of an unknown signer's bundle no copy is kept
    dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    assert dialog.held_list.count() == 1
    assert dialog.held_discard_button.isEnabled()
    dialogs.set_next_answer(False)  # the safe answer: nothing happens
    dialog.held_discard_button.click()
    assert dialog.held_task is None
    assert len(list_quarantined(world.coordinator)) == 1
    dialogs.set_next_answer(True)
    dialog.held_discard_button.click()
    _wait_held_task(qtbot, dialog)
    assert [kind for kind, _t in dialogs.asked()] == ["confirm_destructive"] * 2
    assert list_quarantined(world.coordinator) == []
    assert dialog.held_list.count() == 0
    assert dialog.held_list.isHidden()
    assert dialog.held_label.isHidden()
    assert "Discarded held bundle" in dialog.held_status.text()
    assert bundle.name in dialog.held_status.text()
    assert CaseService(world.coordinator).count() == 0
    assert bundle.is_file(), "the file on the stick is not touched"


def test_held_bundle_without_a_copy_says_to_import_the_file_again(
    qtbot: QtBot, world: World
) -> None:
    from fieldkit.services import trust
    from fieldkit.services.bundles import import_bundle, list_quarantined

    bundle, pub = _held_bundle(world)
    (held,) = list_quarantined(world.coordinator)
    dialog = TrustDialog(world.coordinator, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    assert dialog.held_list.count() == 1
    assert not dialog.held_import_button.isEnabled()  # there is nothing kept to import
    assert dialog.held_discard_button.isEnabled()
    status = dialog.held_status.text()
    assert status.startswith(f"Only what identifies held bundle {held['id']} was kept"), status
    assert held["key_id"] in status
    assert held["file_sha256"] in status
    # enrolled in person; the same file imported again resolves the held entry
    trust.add_device(world.coordinator, pub, "W-101 laptop")
    report = import_bundle(world.coordinator, bundle, write_receipt=False)
    assert report.held_resolved == 1
    dialog.refresh()
    assert dialog.held_list.count() == 0
    assert dialog.held_list.isHidden()
    assert CaseService(world.coordinator).count() == 1
    assert dialogs.pending() == 0


def test_codes_that_differ_forget_the_card(
    qtbot: QtBot, new_vault, new_coordinator_vault, tmp_path: Path
) -> None:
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.services import trust
    from fieldkit.ui.bundles.enrol import EnrolDialog

    trust.init_org(new_coordinator_vault, "Org QZXJ")
    card = tmp_path / "org.pub"
    trust.write_card(new_coordinator_vault, card)
    dialog = EnrolDialog(new_vault, TaskRunner(), ClipboardGuard())
    qtbot.addWidget(dialog)
    dialog.show()
    dialogs.set_next_path(card)
    dialogs.set_next_path(tmp_path / "device.pub")
    dialog.enrol_button.click()
    assert dialog.code_edit.isVisible()
    assert dialog.differ_button.isVisible()
    assert trust.enrolled_card(new_vault).name == "Org QZXJ"
    dialogs.set_next_answer(False)  # asked first; keeping the card is the default
    dialog.differ_button.click()
    assert trust.enrolled_card(new_vault).name == "Org QZXJ"
    dialogs.set_next_answer(True)
    dialog.differ_button.click()
    assert not dialog.code_edit.isVisible()
    assert "not enrolled" in dialog.status_label.text()
    with pytest.raises(FieldkitError) as caught:
        trust.enrolled_card(new_vault)
    assert caught.value.code is ErrorCode.NOT_ENROLLED
    # The export now says so up front, as for a laptop never enrolled.
    wizard = ExportWizard(new_vault, TaskRunner())
    qtbot.addWidget(wizard)
    assert "Enrol with the organisation" in wizard.destination_page.note.text()

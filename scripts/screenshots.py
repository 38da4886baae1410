#!/usr/bin/env python3
"""Render the main screens of the desktop program to docs/screenshots/<screen>-<lang>.png.

    python scripts/screenshots.py                 # English and Ukrainian
    python scripts/screenshots.py --lang uk --out /tmp/shots
    python scripts/screenshots.py --dialogs --out /tmp/shots   # also every smaller dialog

The main window is shot at 1280×720, the smallest laptop screen it is made for. ``--dialogs`` adds
the dialogs that are not in the README (passphrase change, erase, reports, erasing one original),
for checking them by eye; keep those out of docs/screenshots so the repository stays small.

Runs offscreen on throwaway profiles in a temporary folder (with the INSECURE test key derivation,
which is fine for pictures) filled with realistic sample content under pseudonym codes. The PNGs
are reduced to a palette so they stay small in the repository.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PASSPHRASE = "тихий вечір над Дніпром 7 «лапки»"
SIZE = (1280, 720)


CASES_UK = [
    ("Затримання та катування у відділі поліції, березень 2024", "torture_allegation", "active"),
    ("Насильницьке зникнення W-021 після фільтрації", "enforced_disappearance", "active"),
    ("Переповненість ІТТ №1, скарги на умови тримання", "conditions_complaint", "pending"),
    ("Смерть під вартою в СІЗО, липень 2024", "death_in_custody", "active"),
    ("Кримінальне переслідування W-033 за дописи", "political_prosecution", "not_active"),
    ("Погрози та побиття під час обшуку, W-040", "torture_allegation", "active"),
    ("Утримання без протоколу понад 72 години", "other", "pending"),
]
CASES_EN = [
    ("Arrest and torture at a police station, March 2024", "torture_allegation", "active"),
    ("Enforced disappearance of W-021 after filtration", "enforced_disappearance", "active"),
    ("Overcrowding at temporary holding facility No. 1", "conditions_complaint", "pending"),
    ("Death in custody at the pre-trial centre, July 2024", "death_in_custody", "active"),
    ("Prosecution of W-033 for social media posts", "political_prosecution", "not_active"),
    ("Threats and beating during a search, W-040", "torture_allegation", "active"),
    ("Held without a record for over 72 hours", "other", "pending"),
]


def facility(lang: str) -> dict[str, Any]:
    return {
        "official_name": (
            "Ізолятор тимчасового тримання №1 ГУНП в Харківській області"
            if lang == "uk"
            else "Temporary holding facility No. 1, Kharkiv region police"
        ),
        "facility_type": "temporary_holding",
        "oblast": "kharkiv",
        "capacity": 40,
    }


def visit(facility_id: str, case_id: str, lang: str) -> dict[str, Any]:
    uk = lang == "uk"
    return {
        "reference": "V-2026-014",
        "facility": facility_id,
        "facility_type": "temporary_holding",
        "visit_kind": "ad_hoc",
        "visit_mode": "on_site",
        "announced": "unannounced",
        "visit_date": "2026-03-12",
        "arrived_at_gate": "2026-03-12T09:05:00+02:00",
        "admitted_at": "2026-03-12T09:50:00+02:00",
        "left_at": "2026-03-12T15:20:00+02:00",
        "team": [
            {"member": "M-03", "role": "head"},
            {"member": "M-11", "role": "health_professional"},
        ],
        "official_capacity": 40,
        "total_present": 52,
        "areas": [
            {
                "label": "Камера №4" if uk else "Cell 4",
                "area_type": "cell",
                "floor_area_m2": 12,
                "places": 4,
                "occupants": 6,
                "natural_light": "poor",
                "ventilation": "absent",
            }
        ],
        "allegation_records": [case_id],
        "immediate_observations": (
            "Затримані скаржаться на відсутність прогулянок понад тиждень."
            if uk
            else "Detainees say they have had no outdoor exercise for over a week."
        ),
    }


def interview(person_id: str, case_id: str, visit_id: str, lang: str) -> dict[str, Any]:
    return {
        "interviewee_code": "W-017",
        "interviewee": person_id,
        "connection": "victim",
        "interview_date": "2026-03-14",
        "location_type": "ngo_office",
        "mode": "in_person",
        "languages": ["uk"],
        "explained_purpose": True,
        "explained_use": True,
        "explained_right_to_stop": True,
        "consent": {
            "scopes": [
                {"scope": "interview", "status": "granted", "date": "2026-03-14"},
                {"scope": "injury_photographs", "status": "granted", "date": "2026-03-14"},
            ],
            "withdrawals": [],
        },
        "consent_form": "oral_recorded",
        "narrative": (
            "Опитаного затримали біля блокпосту; у відділі поліції його били кийками по ногах."
            if lang == "uk"
            else "He was detained near a checkpoint and beaten on the legs at the police station."
        ),
        "cases": [case_id],
        "visit": visit_id,
    }


def jpeg(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (92, 84, 74))
    draw = ImageDraw.Draw(image)
    for i in range(0, 800, 40):
        draw.line([(i, 0), (i + 200, 600)], fill=(110, 100, 88), width=6)
    draw.rectangle([250, 150, 550, 450], outline=(200, 190, 170), width=8)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    path.write_bytes(buffer.getvalue())
    return path


def save_png(widget: Any, path: Path) -> None:
    """Grab a widget and write it as a small palette PNG."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    pixmap = widget.grab()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    image = Image.open(io.BytesIO(bytes(buffer.data().data()))).convert("RGB")
    image = image.quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KiB)")


def render(lang: str, out: Path, work: Path, with_dialogs: bool = False) -> None:
    from PySide6.QtWidgets import QApplication, QWizard

    from fieldkit import i18n
    from fieldkit.app import DesktopApp
    from fieldkit.domain.profile import Role
    from fieldkit.services import trust
    from fieldkit.services.bundles import export_bundle
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.services.profile import create_profile
    from fieldkit.services.records import RecordService
    from fieldkit.ui import dialogs
    from fieldkit.ui.bundles import ImportWizard, TrustDialog
    from fieldkit.ui.review import ReviewWindow
    from fieldkit.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)

    def wait(predicate: Any, seconds: float = 30) -> None:
        import time

        end = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("the screen did not get ready")
            app.processEvents()
            time.sleep(0.01)

    i18n.set_language(lang)
    root = work / lang
    # The monitor's data, made through the services (the pictures show the windows, not typing).
    coordinator = create_profile(root / "coordinator", PASSPHRASE, Role.COORDINATOR)
    trust.init_org(coordinator, "Група моніторингу «Світанок»" if lang == "uk" else "Dawn Monitors")
    trust.write_card(coordinator, root / "org.pub")
    monitor = create_profile(root / "monitor", PASSPHRASE, Role.MONITOR)
    trust.enrol(monitor, root / "org.pub", root / "device.pub")
    trust.add_device(
        coordinator, root / "device.pub", "ноутбук M-04" if lang == "uk" else "laptop M-04"
    )
    records = RecordService(monitor)
    place = records.add("facility", facility(lang))
    person = records.add("person", {"pseudonym": "W-017", "sex": "male"})
    case_ids = []
    dates = ["2024-03-02", "2024-05-11", "2024-06-20", "2024-07-14", "2024-08-03", "2024-09-27"]
    for i, (title, kind, status) in enumerate(CASES_UK if lang == "uk" else CASES_EN):
        data: dict[str, Any] = {"title": title, "case_type": kind, "monitoring_status": status}
        data["initial_date"] = dates[i % len(dates)]
        if kind == "enforced_disappearance":
            data.update(
                ed_missing_person=person.id,
                ed_date="2024-05-11",
                ed_place="Харків" if lang == "uk" else "Kharkiv",
            )
        case = records.add("case", data)
        case_ids.append(case.id)
    main_case = case_ids[0]
    records.link_person(person.id, main_case, "victim_direct")
    seen = records.add("visit", visit(place.id, main_case, lang))
    records.add("interview", interview(person.id, main_case, seen.id, lang))
    EvidenceService(monitor).add(jpeg(root / "cell-4.jpg"), case_id=main_case)
    stick = root / "stick"
    stick.mkdir()
    bundle = export_bundle(monitor, stick)
    monitor.lock()
    coordinator.lock()

    settings = AppSettings(language=lang)

    # 1. The unlock window of a new profile.
    fresh = DesktopApp(
        app, root / "new", settings, settings_file=root / "s.json", listen_for_screen_lock=False
    )
    fresh.start()
    window = fresh.unlock_window
    assert window is not None
    window.resize(640, 440)
    window.passphrase_edit.setText(PASSPHRASE)
    window.confirm_edit.setText(PASSPHRASE)
    window._update_strength()
    save_png(window, out / f"create-profile-{lang}.png")
    window.close()

    # 2. The monitor's main window with a case open.
    desktop = DesktopApp(
        app, root / "monitor", settings, settings_file=root / "s.json", listen_for_screen_lock=False
    )
    desktop.start()
    unlock = desktop.unlock_window
    assert unlock is not None
    unlock.passphrase_edit.setText(PASSPHRASE)
    unlock.submit()
    wait(lambda: desktop.main_window is not None)
    main = desktop.main_window
    main.resize(*SIZE)
    main.model.wait_loaded()
    main.open_case(main_case)
    main.select_record(main_case)
    wait(lambda: not desktop.runner.busy)
    save_png(main, out / f"main-window-{lang}.png")
    main.case_view.tabs.setCurrentIndex(4)
    wait(lambda: main.case_view.evidence_panel is not None)
    wait(lambda: not desktop.runner.busy)
    app.processEvents()
    panel = main.case_view.evidence_panel
    panel.select(panel.model.items[0].id)
    wait(lambda: not desktop.runner.busy)
    app.processEvents()
    save_png(main, out / f"case-evidence-{lang}.png")
    if with_dialogs:
        render_dialogs(app, main, lang, out, seen.id, main_case, panel)

    # 3. The visit form.
    editor_dialog = main.editors.edit("visit", seen.id)
    assert editor_dialog is not None
    editor_dialog.resize(1100, 760)
    app.processEvents()
    save_png(editor_dialog, out / f"visit-form-{lang}.png")
    editor_dialog.force_close()
    desktop.shutdown()

    # 4. The coordinator: import report, trusted devices, review.
    office = DesktopApp(
        app,
        root / "coordinator",
        settings,
        settings_file=root / "s.json",
        listen_for_screen_lock=False,
    )
    office.start()
    unlock = office.unlock_window
    assert unlock is not None
    unlock.passphrase_edit.setText(PASSPHRASE)
    unlock.submit()
    wait(lambda: office.main_window is not None)
    coord = office.main_window
    coord.resize(*SIZE)
    importer = ImportWizard(coord.vault, coord.runner, coord)
    dialogs.show_dialog(importer)
    importer.choose_page.add_paths([bundle.path])
    importer.next()
    wait(lambda: importer.currentPage() is importer.report_page)
    importer.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
    save_png(importer, out / f"import-report-{lang}.png")
    importer.close()
    trust_dialog = TrustDialog(coord.vault, coord.runner, coord.clipboard, coord)
    dialogs.show_dialog(trust_dialog)
    trust_dialog.show_code(trust.list_devices(coord.vault)[0])
    save_png(trust_dialog, out / f"trusted-devices-{lang}.png")
    trust_dialog.close()
    coord.reload()
    coord.model.wait_loaded()
    review = ReviewWindow(coord.vault, coord.runner, coord.clipboard, main_case, coord)
    dialogs.show_dialog(review)
    wait(lambda: review.integrity is not None)
    review.resize(1100, 720)
    app.processEvents()
    save_png(review, out / f"review-{lang}.png")
    review.close()
    office.shutdown()


def render_dialogs(
    app: Any, main: Any, lang: str, out: Path, visit_id: str, case_id: str, panel: Any
) -> None:
    """The smaller dialogs, filled in as a person would have them on screen."""
    from fieldkit.ui import dialogs
    from fieldkit.ui.evidence.details import PurgeDialog
    from fieldkit.ui.profile_tools import ChangePassphraseDialog, EraseProfileDialog, erase_words
    from fieldkit.ui.reports import ReportDialog

    def shoot(dialog: Any, name: str) -> None:
        dialogs.show_dialog(dialog)
        dialog.adjustSize()
        app.processEvents()
        save_png(dialog, out / f"{name}-{lang}.png")
        dialog.done(0)

    change = ChangePassphraseDialog(main.vault.path, main.runner, main)
    change.current_edit.setText(PASSPHRASE)
    change.new_edit.setText("qwerty 2024")
    change.repeat_edit.setText("qwerty 2024")
    change._update_strength()
    shoot(change, "change-passphrase")
    erase = EraseProfileDialog(main.vault.path, main)
    erase.word_edit.setText(erase_words()[0])
    shoot(erase, "erase-profile")
    report = ReportDialog(main.vault, main.runner, "case", case_id, main)
    report.names_check.setChecked(True)
    report.prepared_by.setText("M-003")
    shoot(report, "case-file-dialog")
    shoot(ReportDialog(main.vault, main.runner, "visit", visit_id, main), "visit-report-dialog")
    item = panel.model.items[0]
    shoot(PurgeDialog(item.title or item.original_name, main), "purge-evidence")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", choices=["en", "uk", "ru"], action="append")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--dialogs", action="store_true", help="also the smaller dialogs (not for the README)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fieldkit-shots-") as work:
        for lang in args.lang or ["en", "uk"]:
            render(lang, args.out, Path(work), args.dialogs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run as a program (``python small_screen_check.py LANG WORK_DIR``) on an offscreen screen of
1024×600 (``QT_QPA_PLATFORM=offscreen:configfile=…``, set by test_small_screen.py): builds the
main windows and every dialog and editor they open, in the given language, and prints one JSON
list of problems: a window larger than the screen, or a button narrower than its text."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"

PASSPHRASE = "тихий вечір над Дніпром 7 «лапки»"


def main() -> int:
    language, work = sys.argv[1], Path(sys.argv[2])
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QApplication, QWidget

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    app = QApplication([])
    from fieldkit import i18n
    from fieldkit.app import QtTranslations
    from fieldkit.domain.profile import Role
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.services.profile import create_profile
    from fieldkit.services.records import CaseService, RecordService
    from fieldkit.ui.clipboard import ClipboardGuard
    from fieldkit.ui.main_window import MainWindow
    from fieldkit.ui.settings import AppSettings
    from fieldkit.ui.tasks import TaskRunner
    from tests.storage.test_records_samples import (
        facility_data,
        interview_data,
        person_data,
        visit_data,
    )

    i18n.set_language(language)
    QtTranslations(app).apply(language)
    screen = app.primaryScreen().availableGeometry()
    problems: list[str] = []

    def pump(rounds: int = 20) -> None:
        for _ in range(rounds):
            app.processEvents()
            time.sleep(0.005)

    def check(window: QWidget, name: str) -> None:
        pump()
        if window.width() > screen.width() or window.height() > screen.height():
            problems.append(
                f"{name}: {window.width()}×{window.height()} does not fit "
                f"{screen.width()}×{screen.height()}"
            )
        if window.minimumSizeHint().width() > screen.width():
            problems.append(f"{name}: needs {window.minimumSizeHint().width()} px of width")
        for button in window.findChildren(QAbstractButton):
            if not button.isVisibleTo(window) or not button.text():
                continue
            if cut_sideways(button, window):
                problems.append(f"{name}: button {button.text()!r} runs off the side")
            if button.sizeHint().width() > button.width():
                problems.append(
                    f"{name}: button {button.text()!r} is {button.width()} px, "
                    f"its text needs {button.sizeHint().width()}"
                )
        title = window.windowTitle()
        if not title or title.count("fieldkit") > 1:
            problems.append(f"{name}: window title {title!r}")

    def cut_sideways(button: QWidget, window: QWidget) -> bool:
        """Part of the button lies beyond the right or left edge of what shows it: the window,
        or the viewport of a scroll area around it (scrolled sideways to be read)."""
        frames = [window]
        parent = button.parentWidget()
        while parent is not None and parent is not window:
            outer = parent.parentWidget()
            if isinstance(outer, QAbstractScrollArea) and parent is outer.viewport():
                frames.append(parent)
            parent = outer
        for frame in frames:
            left = button.mapTo(frame, QPoint(0, 0)).x()
            if left < 0 or left + button.width() > frame.width():
                return True
        return False

    def opened(name: str, open_it: Callable[[], Any]) -> None:
        before = {id(w) for w in app.topLevelWidgets() if w.isVisible()}
        open_it()
        pump(40)
        for window in app.topLevelWidgets():
            if window.isVisible() and id(window) not in before and window.isWindow():
                check(window, f"{name} ({type(window).__name__})")
                window.close()
        pump()

    monitor = create_profile(work / "monitor", PASSPHRASE, Role.MONITOR)
    records = RecordService(monitor)
    case = CaseService(monitor).add("Катування W-017 в ІТТ")
    facility = records.add("facility", facility_data())
    person = records.add("person", person_data())
    records.link_person(person.id, case.id, "victim_direct")
    visit = records.add("visit", {**visit_data(facility.id), "allegation_records": [case.id]})
    interview = records.add("interview", interview_data(person.id, case.id))
    photo = work / "cell.jpg"
    from PIL import Image

    Image.new("RGB", (320, 240), (92, 84, 74)).save(photo, "JPEG")
    item = EvidenceService(monitor).add(photo, case_id=case.id).item
    runner = TaskRunner()
    window = MainWindow(monitor, runner, ClipboardGuard(), AppSettings(language=language))
    window.show()
    window.model.wait_loaded()
    window.open_case(case.id)
    check(window, "main window (monitor)")
    panel = window.case_view.findChild(QWidget, "evidencePanel")
    tabs = window.case_view.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        check(window, f"main window, tab {tabs.tabText(index)!r}")
    details = getattr(panel, "details", None)
    if details is not None:
        panel.select(item.id) if hasattr(panel, "select") else None
    for name, open_it in [
        ("preferences", window.open_preferences),
        ("protection", window.open_protection),
        ("change passphrase", window.open_change_passphrase),
        ("export wizard", window.open_export_wizard),
        ("enrolment", window.open_enrolment),
        ("conflicts", window.open_conflicts),
        ("review", window.open_review),
        ("case file report", lambda: window.open_report("case", case.id)),
        ("visit report", lambda: window.open_report("visit", visit.id)),
        ("visit editor", lambda: window.editors.edit("visit", visit.id)),
        ("interview editor", lambda: window.editors.edit("interview", interview.id)),
        ("new case", lambda: window.new_record("case")),
        ("new facility", lambda: window.new_record("facility")),
        ("new recommendation", lambda: window.new_record("recommendation")),
    ]:
        opened(name, open_it)
        window.editors.discard_all()
    window.close_for_lock()
    monitor.lock()

    coordinator = create_profile(work / "coordinator", PASSPHRASE, Role.COORDINATOR)
    window = MainWindow(coordinator, runner, ClipboardGuard(), AppSettings(language=language))
    window.show()
    window.model.wait_loaded()
    check(window, "main window (coordinator)")
    for name, open_it in [
        ("trusted devices", window.open_trust_dialog),
        ("import wizard", window.open_import_wizard),
        ("receipts", window.open_receipts_dialog),
    ]:
        opened(name, open_it)
    window.close_for_lock()
    coordinator.lock()
    runner.wait_all() if hasattr(runner, "wait_all") else None
    print(json.dumps(problems, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A lawyer on a hub in the desktop program: the main list holds the case shared with them and
nothing else, the case file is there to print, nothing to create, no error at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.domain.profile import Role
from fieldkit.services import hub_people
from fieldkit.services.records import RecordService
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner
from tests.export.test_case_packages import set_consent
from tests.export.test_reports import build_sample
from tests.hub.test_hub_people import LAWYER_PASSPHRASE, Hub, hub

pytestmark = pytest.mark.slow

__all__ = ["hub"]


def test_a_lawyer_on_the_hub_sees_the_shared_case(qtbot: QtBot, hub: Hub) -> None:
    c1 = hub.world.coordinator
    root: Path = hub.world.root
    invited = hub_people.grant(c1, Role.LAWYER, "L-01", root / "l1.fkinvite")
    sample = build_sample(c1, root)
    set_consent(c1, sample.interview_id, "share_prosecution", "photographs")
    other = RecordService(c1).add(
        "case",
        {
            "title": "Unshared case",
            "case_type": "torture_allegation",
            "monitoring_status": "active",
        },
    )
    hub_people.share(c1, sample.case_id, "L-01")
    lawyer = hub_people.join(
        root / "lawyer", invited.invitation, invited.code, LAWYER_PASSPHRASE, hub.url()
    )
    try:
        window = MainWindow(lawyer, TaskRunner(), ClipboardGuard(), AppSettings())
        qtbot.addWidget(window)
        window.show()
        assert window.model.wait_loaded()
        assert window.model.row_of(sample.case_id) >= 0
        assert window.model.row_of(other.id) == -1
        assert window.action_case_file.isVisible()
        assert not window.action_new_case.isVisible()
        assert not window.action_import.isVisible()
        assert [kind for kind, _title in dialogs.asked()] == []
        assert "shared with you on its hub" in window.welcome_label.text()
    finally:
        lawyer.lock()

"""The coordinator's list of open conflicts and the field-by-field decision."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldkit.services.records import RecordService
from fieldkit.ui.conflicts import LOCAL, OTHER, ConflictsDialog
from tests.export.bundle_kit import make_world
from tests.export.test_conflict_resolution import _conflict


def test_every_open_conflict_is_listed_and_decided_field_by_field(
    qtbot: QtBot, tmp_path: Path, fast_kdf: object
) -> None:
    world = make_world(tmp_path)
    try:
        record_id, records = _conflict(world)
        dialog = ConflictsDialog(world.monitor)
        qtbot.addWidget(dialog)
        assert dialog.list.count() == 1
        assert "QZXJ-1" in dialog.list.item(0).text()
        fields = {dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())}
        assert {"Occupation", "Citizenship", "Pseudonym code"} <= fields
        # Side by side: this laptop's value and the received one.
        dialog.choose("citizenship", OTHER)
        dialog.choose("occupation", LOCAL)
        data, taken = dialog.chosen()
        assert data == {"pseudonym": "QZXJ-1", "occupation": "агроном", "citizenship": "QZXJ-land"}
        assert taken == {"occupation": LOCAL, "citizenship": OTHER}
        view = dialog.save_decision()
        assert view is not None
        assert view.revision == 3
        assert dialog.list.count() == 0
        assert dialog.status.text() == "Saved as revision 3. No open conflicts."
        assert RecordService(world.monitor).get(record_id).data == data
        assert records.conflicts() == []
    finally:
        world.close()

"""Record conflicts, decided in the program: every open conflict in one list; for the chosen one,
both versions side by side, field by field, a choice per field, and the decision saved as the
next revision (``RecordService.resolve_conflict``: audited, carried by the next bundle)."""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit.i18n import _
from fieldkit.ui.common import fitting_size, plain_label, short_id, type_name
from fieldkit.ui.messages import show_error

log = logging.getLogger(__name__)

COL_FIELD, COL_LOCAL, COL_OTHER = range(3)
LOCAL, OTHER = "local", "other"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _field_labels(template_id: str) -> dict[str, str]:
    from fieldkit.domain.forms import load_template
    from fieldkit.ui.forms.common import label_of

    labels: dict[str, str] = {}
    try:
        for section in load_template(template_id).sections:
            for fdef in section.fields:
                labels[fdef.id] = label_of(fdef)
    except Exception as exc:  # the raw field ids stay readable enough
        log.debug("no template labels: %s", type(exc).__name__)
    return labels


class ConflictsDialog(QDialog):
    """Every open conflict, and the decision of one."""

    def __init__(self, vault: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from fieldkit.services.records import RecordService

        self.setObjectName("conflictsDialog")
        self.setWindowTitle(_("Record conflicts"))
        self.records = RecordService(vault)
        self.sides: Any = None
        self.choices: dict[str, QButtonGroup] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                _(
                    "The same revision of these records arrived with different content. Compare "
                    "the two versions, choose for each field which one is right, and save the "
                    "decision: it becomes the next revision and goes out with the next bundle."
                )
            )
        )
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.list = QListWidget(splitter)
        self.list.setObjectName("conflictList")
        self.list.currentRowChanged.connect(self._on_list_row_changed)
        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 3, right)
        self.table.setObjectName("conflictFields")
        self.table.setHorizontalHeaderLabels([_("Field"), _("Kept on this laptop"), _("Received")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_FIELD, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LOCAL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_OTHER, QHeaderView.ResizeMode.Stretch)
        right_layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.all_local = QPushButton(_("All from this laptop"), right)
        self.all_local.setObjectName("conflictAllLocal")
        self.all_other = QPushButton(_("All received"), right)
        self.all_other.setObjectName("conflictAllOther")
        self.save_button = QPushButton(_("Save the decision"), right)
        self.save_button.setObjectName("conflictSave")
        buttons.addWidget(self.all_local)
        buttons.addWidget(self.all_other)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        right_layout.addLayout(buttons)
        self.status = plain_label("", "conflictStatus")
        right_layout.addWidget(self.status)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        close = QPushButton(_("Close"), self)
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.all_local.clicked.connect(lambda: self.choose_all(LOCAL))
        self.all_other.clicked.connect(lambda: self.choose_all(OTHER))
        self.save_button.clicked.connect(self.save_decision)
        self.resize(fitting_size(self, 960, 600))
        self.reload()

    # --- the list -----------------------------------------------------------------------------

    def reload(self) -> None:
        self.list.clear()
        try:
            conflicts = self.records.conflicts()
            summaries = self.records.summaries_of([c.record_id for c in conflicts])
        except Exception as exc:
            show_error(self, exc, _("The conflicts could not be read"))
            return
        for conflict in conflicts:
            summary = summaries.get(conflict.record_id)
            title = summary.title if summary is not None else short_id(conflict.record_id)
            kind = type_name(summary.type) if summary is not None else ""
            text = _("{type} {title} · revision {revision}").format(
                type=kind, title=title, revision=conflict.revision
            )
            item = QListWidgetItem(text, self.list)
            item.setData(Qt.ItemDataRole.UserRole, (conflict.record_id, conflict.revision))
        empty = self.list.count() == 0
        self.status.setText(_("No open conflicts.") if empty else "")
        for widget in (self.all_local, self.all_other, self.save_button):
            widget.setEnabled(not empty)
        if empty:
            self.table.setRowCount(0)
        else:
            self.list.setCurrentRow(0)

    def _on_list_row_changed(self, row: int) -> None:
        item = self.list.item(row) if row >= 0 else None
        if item is None:
            return
        record_id, revision = item.data(Qt.ItemDataRole.UserRole)
        try:
            self.sides = self.records.conflict(record_id, int(revision))
        except Exception as exc:
            show_error(self, exc, _("The conflict could not be read"))
            return
        self._fill_table()

    def _fill_table(self) -> None:
        sides = self.sides
        other = sides.others[0][1] if sides.others else {}
        labels = _field_labels(sides.template_id)
        names = sorted(set(sides.local) | set(other), key=lambda n: (labels.get(n, n), n))
        self.table.setRowCount(len(names))
        self.choices = {}
        for row, name in enumerate(names):
            self.table.setItem(row, COL_FIELD, QTableWidgetItem(labels.get(name, name)))
            group = QButtonGroup(self.table)
            for column, side, value in (
                (COL_LOCAL, LOCAL, sides.local.get(name)),
                (COL_OTHER, OTHER, other.get(name)),
            ):
                button = QRadioButton(_shown(value), self.table)
                button.setObjectName(f"conflict_{side}_{name}")
                group.addButton(button)
                button.setProperty("side", side)
                self.table.setCellWidget(row, column, button)
            differ = sides.local.get(name) != other.get(name)
            if not differ:
                for column in (COL_LOCAL, COL_OTHER):
                    widget = self.table.cellWidget(row, column)
                    assert isinstance(widget, QRadioButton)
                    widget.setEnabled(False)
            self._select(group, LOCAL)
            self.choices[name] = group
        self.table.resizeRowsToContents()

    # --- choosing and saving ------------------------------------------------------------------

    @staticmethod
    def _select(group: QButtonGroup, side: str) -> None:
        for button in group.buttons():
            if button.property("side") == side:
                button.setChecked(True)

    def choose(self, field_id: str, side: str) -> None:
        self._select(self.choices[field_id], side)

    def choose_all(self, side: str) -> None:
        for group in self.choices.values():
            self._select(group, side)

    def chosen(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The data the choices make, and for each differing field the side it came from."""
        sides = self.sides
        other = sides.others[0][1] if sides.others else {}
        data: dict[str, Any] = {}
        taken: dict[str, str] = {}
        for name, group in self.choices.items():
            checked = group.checkedButton()
            side = str(checked.property("side")) if checked is not None else LOCAL
            value = (sides.local if side == LOCAL else other).get(name)
            if value is not None:
                data[name] = value
            if sides.local.get(name) != other.get(name):
                taken[name] = side
        return data, taken

    def save_decision(self) -> Any:
        if self.sides is None:
            return None
        data, taken = self.chosen()
        sides = set(taken.values())
        decision = "merged" if len(sides) > 1 else (sides.pop() if sides else LOCAL)
        try:
            view = self.records.resolve_conflict(
                self.sides.record_id,
                self.sides.revision,
                data,
                decision=decision,
                fields=taken if decision == "merged" else None,
            )
        except Exception as exc:
            show_error(self, exc, _("The decision was not saved"))
            return None
        self.reload()
        self.status.setText(
            _("Saved as revision {revision}.").format(revision=view.revision)
            + (" " + _("No open conflicts.") if self.list.count() == 0 else "")
        )
        return view

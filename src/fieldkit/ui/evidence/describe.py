"""Describe and link an evidence item, as ``evidence add --description --interview --visit
--person`` does on the command line: its title and description, when and where it was captured
(apart from when it was taken in), and the interview, visit and persons it belongs to.

Linking a photo to its interview is what lets the interviewee's consent reach it: a photo whose
interviewee declined photographs is marked, and no output for anyone outside the organisation
carries it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.evidence import EvidenceItem, EvidenceLinks, EvidenceUpdate
from fieldkit.i18n import _, ngettext
from fieldkit.ui.common import language
from fieldkit.ui.forms.common import plain_label

# (record id, what the list shows) per record type: "interview", "visit", "person".
Choices = Mapping[str, Sequence[tuple[str, str]]]


CHOICE_LIMIT = 500


def _scope_label(scope: str) -> str:
    from fieldkit.domain.disclosure import scope_label

    return scope_label(scope, language())


def _describe(
    evidence: Any, item_id: str, update: EvidenceUpdate, links: EvidenceLinks
) -> EvidenceItem:
    """One task: the description, then the links (each a transaction of its own)."""
    evidence.update(item_id, update)
    return evidence.set_links(item_id, links)


def _describe_all(
    evidence: Any, item_ids: Sequence[str], update: EvidenceUpdate, links: EvidenceLinks
) -> list[EvidenceItem]:
    """The same description and links for each item just taken in, through the same calls."""
    return [_describe(evidence, item_id, update, links) for item_id in item_ids]


def record_choices(vault: Any) -> dict[str, list[tuple[str, str]]]:
    """The interviews, visits and persons the dialog offers (id, what the list shows)."""
    from fieldkit.services.records import RecordFilters, RecordService

    records = RecordService(vault)
    choices: dict[str, list[tuple[str, str]]] = {}
    for kind in ("interview", "visit", "person"):
        rows = records.list_summaries(RecordFilters(types=(kind,)), limit=CHOICE_LIMIT)
        choices[kind] = [(r.id, r.title or r.id[:8]) for r in rows]
    return choices


def intake_describe_task(parent: QWidget, evidence: Any, added: Sequence[EvidenceItem]) -> Any:
    """At intake: offer the describe-and-link dialog for the items just added, prefilled with
    what intake knows (the case, interview and visit they were added from, the capture time the
    camera recorded). What the person enters applies to every new item; fields left as they
    were keep each item's own value. Returns the task that saves it (not started), or None when
    the person skips."""
    from fieldkit.ui import dialogs
    from fieldkit.ui.tasks import Task

    dialog = DescribeDialog(added[0], record_choices(evidence.vault), parent, count=len(added))
    try:
        if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
            return None
        update = dialog.description_update()
        links = dialog.links()
    finally:
        dialog.deleteLater()
    ids = [item.id for item in added]
    return Task(_describe_all, evidence, ids, update, links, plain=True, name="evidence-describe")


class DescribeDialog(QDialog):
    """Describe and link one item; with ``count`` above one, the items just added together
    (offered at intake, where "Skip" keeps them as added)."""

    def __init__(
        self,
        item: EvidenceItem,
        choices: Choices,
        parent: QWidget | None = None,
        *,
        count: int = 0,
    ):
        super().__init__(parent)
        self.setObjectName("evidenceDescribeDialog")
        self.at_intake = count > 0
        if count > 1:
            self.setWindowTitle(
                ngettext(
                    "Describe and link the {count} new item",
                    "Describe and link the {count} new items",
                    count,
                ).format(count=count)
            )
        elif count == 1:
            self.setWindowTitle(_("Describe and link the new evidence item"))
        else:
            self.setWindowTitle(_("Describe and link the evidence item"))
        self.item = item
        layout = QVBoxLayout(self)
        text = _(
            "Link a photo to the interview it belongs to: the interviewee's consent then "
            "decides who may receive it."
        )
        if self.at_intake:
            text += " " + _(
                'You can skip this and describe the items later with "Describe and link…".'
            )
        intro = plain_label(text, self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.title_edit = QLineEdit(item.title or "", self)
        self.title_edit.setObjectName("describeTitle")
        self.title_edit.setMaxLength(500)
        self.title_edit.setPlaceholderText(item.original_name)
        form.addRow(_("Title"), self.title_edit)
        self.description_edit = QPlainTextEdit(item.description or "", self)
        self.description_edit.setObjectName("describeDescription")
        self.description_edit.setTabChangesFocus(True)
        form.addRow(_("Description"), self.description_edit)
        self.captured_at_edit = QLineEdit(item.content_created_at or "", self)
        self.captured_at_edit.setObjectName("describeCapturedAt")
        self.captured_at_edit.setMaxLength(40)
        self.captured_at_edit.setPlaceholderText(_("YYYY-MM-DD HH:MM"))
        self.captured_at_edit.setToolTip(
            _("When the photo or recording was made; the time it was taken in is kept apart")
        )
        form.addRow(_("Captured at"), self.captured_at_edit)
        self.place_edit = QLineEdit(item.place_created or "", self)
        self.place_edit.setObjectName("describePlace")
        self.place_edit.setMaxLength(1000)
        form.addRow(_("Captured where"), self.place_edit)
        self.interview_combo = self._combo(
            "describeInterview", choices.get("interview", ()), item.links.interview_id
        )
        form.addRow(_("Interview"), self.interview_combo)
        self.visit_combo = self._combo(
            "describeVisit", choices.get("visit", ()), item.links.visit_id
        )
        form.addRow(_("Visit"), self.visit_combo)
        self.persons_list = QListWidget(self)
        self.persons_list.setObjectName("describePersons")
        for record_id, shown in choices.get("person", ()):
            entry = QListWidgetItem(shown, self.persons_list)
            entry.setData(Qt.ItemDataRole.UserRole, record_id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = record_id in item.links.person_ids
            entry.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.persons_list.setMaximumHeight(140)
        form.addRow(_("Persons shown or concerned"), self.persons_list)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        if self.at_intake:
            skip = buttons.button(QDialogButtonBox.StandardButton.Cancel)
            skip.setText(_("Skip"))
            skip.setObjectName("describeSkip")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _combo(
        self, name: str, options: Sequence[tuple[str, str]], current: str | None
    ) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.addItem(_("— none —"), None)
        for record_id, shown in options:
            combo.addItem(shown, record_id)
        if current is not None:
            index = combo.findData(current)
            if index < 0:  # linked to a record the list does not hold (beyond its length)
                combo.addItem(current[:8], current)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
        return combo

    def select(self, combo: QComboBox, record_id: str | None) -> None:
        index = combo.findData(record_id)
        combo.setCurrentIndex(max(index, 0))

    def set_person(self, record_id: str, checked: bool) -> None:
        for row in range(self.persons_list.count()):
            entry = self.persons_list.item(row)
            if entry.data(Qt.ItemDataRole.UserRole) == record_id:
                entry.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def description_update(self) -> EvidenceUpdate:
        """The description as entered (only what differs from the item)."""
        values = {
            "title": self.title_edit.text().strip() or None,
            "description": self.description_edit.toPlainText().strip() or None,
            "content_created_at": self.captured_at_edit.text().strip() or None,
            "place_created": self.place_edit.text().strip() or None,
        }
        changed = {k: v for k, v in values.items() if v != getattr(self.item, k)}
        return EvidenceUpdate(**changed)

    def links(self) -> EvidenceLinks:
        persons = []
        for row in range(self.persons_list.count()):
            entry = self.persons_list.item(row)
            if entry.checkState() == Qt.CheckState.Checked:
                persons.append(str(entry.data(Qt.ItemDataRole.UserRole)))
        # Persons linked before but not in the list (beyond its length) stay linked.
        listed = {
            self.persons_list.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.persons_list.count())
        }
        persons.extend(p for p in self.item.links.person_ids if p not in listed)
        return EvidenceLinks(
            case_id=self.item.links.case_id,
            interview_id=self.interview_combo.currentData(),
            visit_id=self.visit_combo.currentData(),
            person_ids=tuple(persons),
        )

"""One case: summary, persons (by pseudonym), interviews, visits, evidence, history and audit.

Emits:
    edit_requested(str form_id, str record_id): open the form editor for a record.
    add_requested(str form_id, str case_id): create a record linked to this case.
    review_requested(str case_id): open the read-only review of this case.
    report_requested(str kind, str record_id): a signed PDF ("case" for this case, "visit" for a
        visit of it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.profile import Role
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import (
    heading,
    language,
    plain_label,
    short_id,
    short_type_name,
    status_label,
)
from fieldkit.ui.messages import error_text
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseFile:
    """Everything the case view and the review show about one case (frozen service views)."""

    case: Any
    persons: list[tuple[Any, str]]  # (RecordView, role)
    interviews: list[Any]
    visits: list[Any]
    evidence_ids: list[str]
    links: list[Any]


def load_case_file(vault: Any, case_id: str) -> CaseFile:
    """Read a case and the records linked to it, through the services."""
    from fieldkit.services.records import RecordService

    records: Any = RecordService(vault)
    case = records.get(case_id)
    links = records.links(case.id)
    persons: list[tuple[Any, str]] = []
    interviews: list[Any] = []
    visits: list[Any] = []
    evidence_ids: list[str] = []
    seen: set[str] = set()

    def other_record(link: Any, own_id: str) -> Any:
        other = link.from_id if link.to_id == own_id else link.to_id
        if other in seen:
            return None
        try:
            record = records.get(other)
        except Exception:  # a reference to a record that has not arrived (yet)
            return None
        if record.deleted:
            return None
        seen.add(other)
        return record

    for link in links:
        if link.kind.startswith("evidence_") or link.kind.endswith("_evidence"):
            evidence_ids.append(link.from_id if link.to_id == case.id else link.to_id)
            continue
        record = other_record(link, case.id)
        if record is None:
            continue
        if record.type == "person":
            persons.append((record, link.role))
        elif record.type == "interview":
            interviews.append(record)
        elif record.type == "visit":
            visits.append(record)
    for interview in list(interviews):
        for link in records.links(interview.id):
            if link.kind == "interview_visit":
                record = other_record(link, interview.id)
                if record is not None and record.type == "visit":
                    visits.append(record)
            elif link.kind == "interview_person":
                # The person interviewed belongs to the case file even without an explicit link.
                record = other_record(link, interview.id)
                if record is not None and record.type == "person":
                    persons.append((record, ""))
    return CaseFile(
        case=case,
        persons=persons,
        interviews=interviews,
        visits=visits,
        evidence_ids=evidence_ids,
        links=links,
    )


def format_value(value: Any) -> str:
    """A stored field value as short, plain text for summaries."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        if "value" in value and set(value) <= {"value", "precision", "approximate"}:
            return str(value["value"])
        parts = [f"{k}: {format_value(v)}" for k, v in value.items() if v not in (None, "", [])]
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def _table(headers: list[str], object_name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(object_name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(headers)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


def _item(text: str, data: Any = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


class CaseView(QWidget):
    edit_requested = Signal(str, str)
    add_requested = Signal(str, str)
    review_requested = Signal(str)
    report_requested = Signal(str, str)

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("caseView")
        self.vault = vault
        self.runner = runner
        self.clipboard = clipboard
        self.case_id: str | None = None
        self.case_file: CaseFile | None = None
        self.evidence_panel: Any = None
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        head = QHBoxLayout()
        self.title_label = heading("", 1.35, "caseTitleLabel")
        head.addWidget(self.title_label, 1)
        self.confidential_label = plain_label(_("CONFIDENTIAL"), "caseConfidentialLabel")
        self.confidential_label.setStyleSheet(
            "color: white; background: #b00020; padding: 2px 6px; font-weight: bold;"
        )
        self.confidential_label.setVisible(False)
        head.addWidget(self.confidential_label)
        layout.addLayout(head)
        self.meta_label = plain_label("", "caseMetaLabel")
        self.meta_label.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.meta_label)

        buttons = QHBoxLayout()
        self.edit_button = QPushButton(_("Edit case…"))
        self.edit_button.setObjectName("editCaseButton")
        self.edit_button.clicked.connect(self._on_edit_clicked)
        buttons.addWidget(self.edit_button)
        # One "Add" button with a menu keeps the row narrow enough for a 1280-pixel screen in
        # every language.
        self.add_button = QPushButton(_("Add to the case"))
        self.add_button.setObjectName("caseAddButton")
        add_menu = QMenu(self.add_button)
        self.add_actions: dict[str, QAction] = {}
        for form_id in ("person", "interview", "visit"):
            action = add_menu.addAction(
                _("Add {kind}…").format(kind=short_type_name(form_id).lower())
            )
            action.setObjectName(f"add_{form_id}_action")
            action.triggered.connect(lambda _c=False, f=form_id: self._on_add_clicked(f))
            self.add_actions[form_id] = action
        self.add_button.setMenu(add_menu)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        self.report_button = QPushButton(_("PDF report"))
        self.report_button.setObjectName("caseReportButton")
        self.report_button.setToolTip(_("Signed PDF reports: the case file, or a visit report"))
        report_menu = QMenu(self.report_button)
        self.case_file_action = report_menu.addAction(_("Case file (PDF)…"))
        self.case_file_action.setObjectName("caseFilePdfAction")
        self.case_file_action.triggered.connect(self.request_case_file)
        self.visit_report_action = report_menu.addAction(
            _("Visit report of the chosen visit (PDF)…")
        )
        self.visit_report_action.setObjectName("visitReportPdfAction")
        self.visit_report_action.triggered.connect(self.request_visit_report)
        self.report_button.setMenu(report_menu)
        buttons.addWidget(self.report_button)
        self.review_button = QPushButton(_("Review (read-only)…"))
        self.review_button.setObjectName("reviewCaseButton")
        self.review_button.clicked.connect(self._on_review_clicked)
        buttons.addWidget(self.review_button)
        layout.addLayout(buttons)
        if getattr(self.vault, "role", Role.MONITOR) != Role.MONITOR:
            # A coordinator reads what monitors recorded; adding happens in the field.
            self.add_button.setVisible(False)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("caseTabs")
        layout.addWidget(self.tabs, 1)

        self.summary_area = QScrollArea()
        self.summary_area.setObjectName("caseSummary")
        self.summary_area.setWidgetResizable(True)
        self.summary_body = QWidget()
        self.summary_form = QFormLayout(self.summary_body)
        self.summary_area.setWidget(self.summary_body)
        self.tabs.addTab(self.summary_area, _("Overview"))

        self.persons_table = _table([_("Pseudonym"), _("Role"), _("Updated")], "casePersonsTable")
        self.interviews_table = _table([_("Interview"), _("Dates"), _("Updated")], "caseInterviews")
        self.visits_table = _table([_("Visit"), _("Dates"), _("State")], "caseVisitsTable")
        for table, form_id in (
            (self.persons_table, "person"),
            (self.interviews_table, "interview"),
            (self.visits_table, "visit"),
        ):
            table.cellActivated.connect(
                lambda row, _col, t=table, f=form_id: self._on_row_activated(t, f, row)
            )
        self.tabs.addTab(self.persons_table, _("Persons"))
        self.tabs.addTab(self.interviews_table, _("Interviews"))
        self.tabs.addTab(self.visits_table, _("Visits"))

        self.evidence_holder = QWidget()
        self.evidence_holder.setObjectName("caseEvidenceHolder")
        QVBoxLayout(self.evidence_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self.evidence_holder, _("Evidence"))

        self.history_table = _table(
            [_("Revision"), _("Saved"), _("Device"), _("SHA-256")], "caseHistoryTable"
        )
        self.history_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.history_table.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch
        )
        self.tabs.addTab(self.history_table, _("History"))

        audit = QWidget()
        audit_layout = QVBoxLayout(audit)
        self.audit_status = plain_label("", "auditStatusLabel")
        audit_layout.addWidget(self.audit_status)
        self.audit_table = _table([_("Action"), _("When"), _("Device"), _("Seq")], "auditTable")
        audit_layout.addWidget(self.audit_table, 1)
        self.tabs.addTab(audit, _("Audit"))

        self.error_label = plain_label("", "caseErrorLabel")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)

    # --- content ------------------------------------------------------------------------------

    def show_case(self, case_id: str) -> None:
        self.case_id = case_id
        self.refresh()

    def refresh(self) -> None:
        if not self.case_id or self.vault.is_locked:
            return
        try:
            case_file = load_case_file(self.vault, self.case_id)
        except Exception as exc:
            self._show_error(error_text(exc))
            return
        self._show_error("")
        self.case_file = case_file
        self._fill(case_file)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _fill(self, cf: CaseFile) -> None:
        case = cf.case
        self.title_label.setText(case.title or _("(untitled)"))
        self.confidential_label.setVisible(bool(case.confidential))
        parts = [
            _("Case {id}").format(id=short_id(case.id)),
            _("revision {n}").format(n=case.revision),
            _("updated {when}").format(when=case.updated_at[:16].replace("T", " ")),
        ]
        if case.status:
            parts.insert(1, status_label("case", case.status))
        self.meta_label.setText(" · ".join(parts))
        self._fill_summary(case)

        self.persons_table.setRowCount(0)
        for record, role in cf.persons:
            self._append(
                self.persons_table,
                [record.title, self._role_label(role), record.updated_at[:10]],
                record.id,
            )
        self.interviews_table.setRowCount(0)
        for record in cf.interviews:
            self._append(
                self.interviews_table,
                [record.title, _dates(record), record.updated_at[:10]],
                record.id,
            )
        self.visits_table.setRowCount(0)
        for record in cf.visits:
            status = status_label("visit", record.status) if record.status else ""
            self._append(self.visits_table, [record.title, _dates(record), status], record.id)
        self.tabs.setTabText(
            1, _("Persons ({n})").format(n=len(cf.persons)) if cf.persons else _("Persons")
        )
        self.tabs.setTabText(
            2,
            _("Interviews ({n})").format(n=len(cf.interviews))
            if cf.interviews
            else _("Interviews"),
        )
        self.tabs.setTabText(
            3, _("Visits ({n})").format(n=len(cf.visits)) if cf.visits else _("Visits")
        )
        self._fill_evidence(case.id)
        self._fill_history(case.id)
        self._fill_audit(case.id)

    @staticmethod
    def _append(table: QTableWidget, texts: list[str], record_id: str) -> None:
        row = table.rowCount()
        table.insertRow(row)
        for col, text in enumerate(texts):
            table.setItem(row, col, _item(text, record_id if col == 0 else None))

    @staticmethod
    def _role_label(role: str) -> str:
        if not role:
            return ""
        try:
            from fieldkit.domain.vocabularies import load_vocabulary

            return load_vocabulary("event_roles").label(role, language())
        except Exception:
            return role

    def _fill_summary(self, case: Any) -> None:
        while self.summary_form.rowCount():
            self.summary_form.removeRow(0)
        try:
            from fieldkit.domain.forms import load_template

            template = load_template(case.template_id)
        except Exception:
            template = None
        data = dict(case.data)
        if template is None:
            for key, value in data.items():
                self.summary_form.addRow(plain_label(key), plain_label(format_value(value)))
            return
        lang = language()
        for section in template.sections:
            rows = []
            for field in section.fields:
                value = data.get(field.id)
                if value in (None, "", [], {}):
                    continue
                rows.append((field.label.get(lang), display_value(field, value, lang)))
            if not rows:
                continue
            self.summary_form.addRow(heading(section.label.get(lang), 1.05))
            for label, text in rows:
                value_label = plain_label(text)
                value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.summary_form.addRow(plain_label(label + ":"), value_label)

    def _fill_evidence(self, case_id: str) -> None:
        layout = self.evidence_holder.layout()
        assert layout is not None
        if self.evidence_panel is not None:
            if hasattr(self.evidence_panel, "set_case"):
                self.evidence_panel.set_case(case_id)
            return
        panel = _make_evidence_panel(self.vault, self.runner, case_id, self.evidence_holder)
        if panel is None:
            layout.addWidget(plain_label(_("Evidence is not available in this build.")))
            self.evidence_panel = False
            return
        self.evidence_panel = panel
        layout.addWidget(panel)

    def _fill_history(self, record_id: str) -> None:
        from fieldkit.services.records import RecordService

        self.history_table.setRowCount(0)
        try:
            versions = RecordService(self.vault).history(record_id)
        except Exception as exc:
            log.debug("history unavailable: %s", type(exc).__name__)
            return
        for version in reversed(versions):
            row = self.history_table.rowCount()
            self.history_table.insertRow(row)
            rev = str(version.revision) + (" ✝" if version.deleted else "")
            if version.in_conflict:
                rev += " ⚠"
            self.history_table.setItem(row, 0, _item(rev))
            self.history_table.setItem(row, 1, _item(version.saved_at[:19].replace("T", " ")))
            self.history_table.setItem(row, 2, _item(short_id(version.saved_by_device)))
            self.history_table.setItem(row, 3, _item(version.content_hash))

    def _fill_audit(self, record_id: str) -> None:
        from fieldkit.services.audit import AuditService

        self.audit_table.setRowCount(0)
        service = AuditService(self.vault)
        try:
            report = service.verify()
            entries = service.entries_for(record_id)
        except Exception as exc:
            self.audit_status.setText(error_text(exc))
            return
        if report.ok:
            self.audit_status.setText(
                ngettext(
                    "Audit log intact: {n} entry verified.",
                    "Audit log intact: {n} entries verified.",
                    report.own.count,
                ).format(n=report.own.count)
            )
            self.audit_status.setStyleSheet("color: #2b8a3e; font-weight: bold;")
        else:
            problems = len(report.own.problems) + sum(
                len(r.problems) for r in report.foreign.values()
            )
            self.audit_status.setText(
                ngettext(
                    "The audit log is BROKEN: {n} problem found. Entries were removed or altered.",
                    "The audit log is BROKEN: {n} problems found. Entries were removed or altered.",
                    problems,
                ).format(n=problems)
            )
            self.audit_status.setStyleSheet("color: #b00020; font-weight: bold;")
        for entry in reversed(entries):
            row = self.audit_table.rowCount()
            self.audit_table.insertRow(row)
            self.audit_table.setItem(row, 0, _item(entry.action))
            self.audit_table.setItem(row, 1, _item(entry.at[:19].replace("T", " ")))
            self.audit_table.setItem(row, 2, _item(short_id(entry.device_id)))
            self.audit_table.setItem(row, 3, _item(str(entry.seq)))

    # --- actions ------------------------------------------------------------------------------

    def _on_edit_clicked(self) -> None:
        if self.case_id:
            self.edit_requested.emit("case", self.case_id)

    def _on_add_clicked(self, form_id: str) -> None:
        if self.case_id:
            self.add_requested.emit(form_id, self.case_id)

    def request_case_file(self) -> None:
        if self.case_id:
            self.report_requested.emit("case", self.case_id)

    def chosen_visit_id(self) -> str | None:
        """The visit selected in the Visits tab, or the only visit of the case."""
        rows = {index.row() for index in self.visits_table.selectionModel().selectedRows()}
        if not rows and self.visits_table.rowCount() == 1:
            rows = {0}
        if len(rows) != 1:
            return None
        item = self.visits_table.item(rows.pop(), 0)
        record_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(record_id) if record_id else None

    def request_visit_report(self) -> None:
        if not self.case_id:
            return
        visit_id = self.chosen_visit_id()
        if visit_id is None:
            self.tabs.setCurrentWidget(self.visits_table)
            dialogs.inform(
                self,
                _("Visit report"),
                _("Choose a visit in the Visits tab first, then ask for its report again.")
                if self.visits_table.rowCount()
                else _("This case has no visits yet."),
            )
            return
        self.report_requested.emit("visit", visit_id)

    def _on_review_clicked(self) -> None:
        if self.case_id:
            self.review_requested.emit(self.case_id)

    def _on_row_activated(self, table: QTableWidget, form_id: str, row: int) -> None:
        item = table.item(row, 0)
        if item is not None:
            record_id = item.data(Qt.ItemDataRole.UserRole)
            if record_id:
                self.edit_requested.emit(form_id, str(record_id))

    def clear(self) -> None:
        """Drop everything shown (on lock)."""
        self.case_id = None
        self.case_file = None
        self.title_label.clear()
        self.meta_label.clear()
        while self.summary_form.rowCount():
            self.summary_form.removeRow(0)
        for table in (
            self.persons_table,
            self.interviews_table,
            self.visits_table,
            self.history_table,
            self.audit_table,
        ):
            table.setRowCount(0)
        self.audit_status.clear()
        if self.evidence_panel:
            for name in ("clear", "close_panel"):
                fn = getattr(self.evidence_panel, name, None)
                if callable(fn):
                    fn()
                    break


def _dates(record: Any) -> str:
    start, end = record.date_from, record.date_to
    if start and end and start != end:
        return f"{start} – {end}"
    return start or end or ""


def display_value(field: Any, value: Any, lang: str) -> str:
    """A field value with vocabulary codes turned into labels where the field has a vocabulary."""
    vocab_id = getattr(field, "vocabulary", None)
    if vocab_id and isinstance(value, (str, list)):
        try:
            from fieldkit.domain.vocabularies import load_vocabulary

            vocab = load_vocabulary(vocab_id)
            codes = value if isinstance(value, list) else [value]
            return ", ".join(
                vocab.label(c, lang) if isinstance(c, str) and c in vocab else format_value(c)
                for c in codes
            )
        except Exception as exc:
            log.debug("vocabulary label unavailable: %s", type(exc).__name__)
    return format_value(value)


def _make_evidence_panel(vault: Any, runner: TaskRunner, case_id: str, parent: QWidget) -> Any:
    """Engineer G's evidence panel for a case (None when that part is not in this build)."""
    import importlib

    try:
        module = importlib.import_module("fieldkit.ui.evidence.panel")
    except ImportError:
        return None
    factory = getattr(module, "EvidencePanel", None)
    if factory is None:
        return None
    try:
        return factory(vault, runner, case_id=case_id, parent=parent)
    except Exception as exc:
        log.error("evidence panel could not be built: %s", type(exc).__name__)
        return QLabel(_("The evidence panel could not be shown."))

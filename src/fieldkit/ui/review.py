"""Review mode for lawyers: a read-only case file with the integrity status of every item.

Nothing here edits a record. The integrity checks run as one background task:

* every saved version of every record in the case file is re-hashed (its canonical JSON against
  the SHA-256 stored with it);
* every evidence original is re-hashed from the encrypted store (``EvidenceService.verify``) and
  its custody chain checked;
* the hash-chained audit log is verified.

Each row then shows "intact", "ALTERED", "missing" and the like, in words and colour.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import REF_TYPES
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.i18n import N_, _, ngettext
from fieldkit.ui.case_view import CaseFile, display_value, format_value, load_case_file
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import (
    fitting_size,
    heading,
    language,
    plain_label,
    short_id,
    short_type_name,
    type_name,
)
from fieldkit.ui.messages import error_text, is_cancelled
from fieldkit.ui.tasks import Task, TaskRunner

log = logging.getLogger(__name__)

OK_COLOUR = "#2b8a3e"
BAD_COLOUR = "#b00020"
WARN_COLOUR = "#b35c00"

STATUS_WORDS = {
    "ok": N_("intact"),
    "tampered": N_("ALTERED"),
    "missing": N_("MISSING"),
    "purged": N_("original erased (hash kept)"),
    "pending": N_("checking…"),
    "error": N_("could not be checked"),
    "conflict": N_("conflicting versions"),
}


@dataclass
class ItemIntegrity:
    status: str  # key of STATUS_WORDS
    detail: str = ""


@dataclass
class IntegrityReport:
    records: dict[str, ItemIntegrity] = field(default_factory=dict)
    evidence: dict[str, ItemIntegrity] = field(default_factory=dict)
    audit_ok: bool | None = None
    audit_detail: str = ""

    @property
    def all_ok(self) -> bool:
        items = [*self.records.values(), *self.evidence.values()]
        return bool(self.audit_ok) and all(i.status in ("ok", "purged") for i in items)


def _digest(canonical: bytes | str) -> str:
    data = canonical.encode("utf-8") if isinstance(canonical, str) else bytes(canonical)
    return hashlib.sha256(data).hexdigest()


def check_case_integrity(
    vault: Any,
    record_ids: list[str],
    evidence_ids: list[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> IntegrityReport:
    """Runs on a worker thread; reads through the services only."""
    from fieldkit.services.audit import AuditService
    from fieldkit.services.records import RecordService

    report = IntegrityReport()
    records: Any = RecordService(vault)
    total = len(record_ids) + len(evidence_ids) + 1
    done = 0
    for record_id in record_ids:
        check_cancel(cancel)
        try:
            versions = records.history(record_id)
            bad = [v.revision for v in versions if _digest(v.canonical) != v.content_hash]
            if bad:
                report.records[record_id] = ItemIntegrity(
                    "tampered",
                    _("revisions {list} do not match their recorded SHA-256").format(
                        list=", ".join(map(str, bad))
                    ),
                )
            elif any(v.in_conflict for v in versions):
                report.records[record_id] = ItemIntegrity(
                    "conflict", _("two devices saved different versions of the same revision")
                )
            else:
                report.records[record_id] = ItemIntegrity(
                    "ok",
                    ngettext(
                        "{n} version, each matching its SHA-256",
                        "{n} versions, each matching its SHA-256",
                        len(versions),
                    ).format(n=len(versions)),
                )
        except Exception as exc:
            report.records[record_id] = ItemIntegrity("error", error_text(exc))
        done += 1
        if progress:
            progress(done, total, "records")
    if evidence_ids:
        from fieldkit.services.evidence import EvidenceService

        evidence = EvidenceService(vault)
        for item_id in evidence_ids:
            check_cancel(cancel)
            try:
                result = evidence.verify(item_id, cancel=cancel)[0]
                problems = evidence.verify_custody(item_id)
                status = result.status if result.status in STATUS_WORDS else "error"
                detail = result.detail or ""
                if result.ok:
                    detail = _("SHA-256 {hash} matches").format(hash=result.expected_sha256)
                if problems:
                    status = "tampered" if status == "ok" else status
                    detail += " " + ngettext(
                        "custody chain: {n} problem", "custody chain: {n} problems", len(problems)
                    ).format(n=len(problems))
                report.evidence[item_id] = ItemIntegrity(status, detail.strip())
            except Exception as exc:
                if is_cancelled(exc):
                    raise
                report.evidence[item_id] = ItemIntegrity("error", error_text(exc))
            done += 1
            if progress:
                progress(done, total, "evidence")
    check_cancel(cancel)
    try:
        audit = AuditService(vault).verify()
        report.audit_ok = audit.ok
        if audit.ok:
            report.audit_detail = ngettext(
                "Audit log intact: {n} entry verified.",
                "Audit log intact: {n} entries verified.",
                audit.own.count,
            ).format(n=audit.own.count)
        else:
            audit_problems: list[Any] = list(audit.own.problems)
            for device_report in audit.foreign.values():
                audit_problems.extend(device_report.problems)
            report.audit_detail = _("Audit log BROKEN: {reasons}").format(
                reasons="; ".join(f"#{p.seq}: {p.reason}" for p in audit_problems[:5])
            )
    except Exception as exc:
        report.audit_ok = False
        report.audit_detail = error_text(exc)
    if progress:
        progress(total, total, "audit")
    return report


class ReviewWindow(QDialog):
    """The read-only case file."""

    COL_ITEM, COL_DETAIL, COL_INTEGRITY = range(3)

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        case_id: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewWindow")
        self.setWindowTitle(_("Case file review (read-only)"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.vault = vault
        self.runner = runner
        self.clipboard = clipboard
        self.case_id = case_id
        self.case_file: CaseFile | None = None
        self._titles: dict[str, str] = {}  # record id -> what a reference to it shows
        self.task: Task | None = None
        self.integrity: IntegrityReport | None = None
        self._items: dict[str, QTreeWidgetItem] = {}
        self._details: dict[str, str] = {}
        self._build()
        self.load()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title_label = heading("", 1.3, "reviewTitle")
        top.addWidget(self.title_label, 1)
        badge = plain_label(_("READ-ONLY"), "reviewReadOnlyBadge")
        badge.setStyleSheet("color: white; background: #495057; padding: 2px 8px;")
        top.addWidget(badge)
        layout.addLayout(top)
        self.overall_label = plain_label("", "reviewOverallLabel")
        layout.addWidget(self.overall_label)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("reviewProgress")
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.tree = QTreeWidget(splitter)
        self.tree.setObjectName("reviewTree")
        self.tree.setHeaderLabels([_("Item"), _("Details"), _("Integrity")])
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_tree_current_changed)
        self.detail = QPlainTextEdit(splitter)
        self.detail.setObjectName("reviewDetail")
        self.detail.setReadOnly(True)
        splitter.setSizes([420, 200])
        layout.addWidget(splitter, 1)

        buttons = QHBoxLayout()
        self.recheck_button = QPushButton(_("Check integrity again"), self)
        self.recheck_button.setObjectName("reviewRecheck")
        self.recheck_button.clicked.connect(self.start_checks)
        self.pdf_button = QPushButton(_("Save case file as PDF…"), self)
        self.pdf_button.setObjectName("reviewSavePdf")
        self.pdf_button.clicked.connect(self._on_pdf_clicked)
        buttons.addWidget(self.recheck_button)
        buttons.addWidget(self.pdf_button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.resize(fitting_size(self, 1000, 720))

    # --- content ------------------------------------------------------------------------------

    def load(self) -> None:
        try:
            cf = load_case_file(self.vault, self.case_id)
        except Exception as exc:
            self.overall_label.setText(error_text(exc))
            return
        self.case_file = cf
        self.title_label.setText(cf.case.title or _("(untitled)"))
        self.tree.clear()
        self._items.clear()
        self._details.clear()
        self._add_record_item(None, cf.case, type_name("case"))
        for heading_text, records in (
            (_("Persons (by pseudonym)"), [p for p, _r in cf.persons]),
            (_("Interviews"), cf.interviews),
            (_("Visits"), cf.visits),
        ):
            group = QTreeWidgetItem(self.tree, [f"{heading_text} ({len(records)})", "", ""])
            group.setFirstColumnSpanned(False)
            for record in records:
                self._add_record_item(group, record, type_name(record.type))
            group.setExpanded(True)
        evidence_group = QTreeWidgetItem(
            self.tree, [_("Evidence ({n})").format(n=len(cf.evidence_ids)), "", ""]
        )
        self._fill_evidence(evidence_group, cf.evidence_ids)
        evidence_group.setExpanded(True)
        self.audit_item = QTreeWidgetItem(self.tree, [_("Audit log"), "", ""])
        self._set_status(self.audit_item, "pending")
        self.tree.expandAll()
        self.start_checks()

    def _add_record_item(self, parent: QTreeWidgetItem | None, record: Any, kind: str) -> None:
        texts = [
            f"{kind}: {record.title or short_id(record.id)}",
            _("revision {n} · {when}").format(
                n=record.revision, when=record.updated_at[:16].replace("T", " ")
            ),
            "",
        ]
        item = QTreeWidgetItem(texts) if parent is None else QTreeWidgetItem(parent, texts)
        if parent is None:
            self.tree.addTopLevelItem(item)
        item.setData(0, Qt.ItemDataRole.UserRole, record.id)
        self._items[record.id] = item
        self._details[record.id] = self._record_text(record)
        self._set_status(item, "pending")

    def _record_text(self, record: Any) -> str:
        lines = [
            f"{type_name(record.type)} {record.id}",
            _("Revision {n}, content SHA-256 {hash}").format(
                n=record.revision, hash=record.content_hash
            ),
            _("Created {created} on device {device}").format(
                created=record.created_at, device=short_id(record.origin_device)
            ),
            "",
        ]
        try:
            from fieldkit.domain.forms import load_template

            template = load_template(record.template_id)
            lang = language()
            for section in template.sections:
                section_lines = []
                for f in section.fields:
                    value = record.data.get(f.id)
                    if value in (None, "", [], {}):
                        continue
                    shown = (
                        self._ref_text(value) if f.type in REF_TYPES else None
                    ) or display_value(f, value, lang)
                    section_lines.append(f"  {f.label.get(lang)}: {shown}")
                if section_lines:
                    lines.append(section.label.get(lang))
                    lines.extend(section_lines)
        except Exception:
            lines.extend(f"  {k}: {format_value(v)}" for k, v in record.data.items())
        return "\n".join(lines)

    def _ref_text(self, value: Any) -> str | None:
        """The records a reference names, by their titles (a person by the pseudonym, a case by
        its title, a visit by its reference), not their ids; None when none is known here."""
        ids: list[str] = []
        for v in value if isinstance(value, list) else [value]:
            found_id = (v.get("id") or v.get("to_id")) if isinstance(v, dict) else v
            if isinstance(found_id, str) and found_id:
                ids.append(found_id)
        if not ids:
            return None
        missing = [i for i in ids if i not in self._titles]
        if missing:
            from fieldkit.services.records import RecordService

            try:
                found = RecordService(self.vault).summaries_of(missing)
            except FieldkitError:
                found = {}
            for record_id in missing:
                summary = found.get(record_id)
                if summary is None:
                    self._titles[record_id] = ""
                    continue
                kind = short_type_name(summary.type).lower()
                self._titles[record_id] = f"{summary.title or short_id(record_id)} ({kind})"
        texts = [self._titles[i] or short_id(i) for i in ids]
        return ", ".join(texts) if any(self._titles[i] for i in ids) else None

    def _fill_evidence(self, group: QTreeWidgetItem, evidence_ids: list[str]) -> None:
        if not evidence_ids:
            return
        try:
            from fieldkit.services.evidence import EvidenceService

            service = EvidenceService(self.vault)
        except Exception as exc:
            QTreeWidgetItem(group, [error_text(exc), "", ""])
            return
        for item_id in evidence_ids:
            try:
                item_view = service.get(item_id)
            except Exception as exc:
                row = QTreeWidgetItem(group, [short_id(item_id), error_text(exc), ""])
                self._items[item_id] = row
                self._set_status(row, "missing")
                continue
            name = item_view.title or item_view.original_name
            row = QTreeWidgetItem(
                group,
                [
                    name,
                    f"{item_view.media_type} · {item_view.size} B · SHA-256 "
                    f"{item_view.sha256[:16]}…",
                    "",
                ],
            )
            row.setData(0, Qt.ItemDataRole.UserRole, item_id)
            self._items[item_id] = row
            lines = [
                _("Evidence item {id}").format(id=item_id),
                _("Original file name: {name}").format(name=item_view.original_name),
                ngettext("Size: {n} byte", "Size: {n} bytes", item_view.size).format(
                    n=item_view.size
                ),
                _("SHA-256: {hash}").format(hash=item_view.sha256),
            ]
            try:
                events = service.custody_events(item_id)
                lines.append("")
                lines.append(_("Custody:"))
                for event in events:
                    when = str(getattr(event, "at", ""))[:19].replace("T", " ")
                    action = str(getattr(event, "action", ""))
                    device = short_id(str(getattr(event, "device_id", "")))
                    lines.append(f"  {when}  {action}  {device}")
            except Exception as exc:
                lines.append(error_text(exc))
            self._details[item_id] = "\n".join(lines)
            self._set_status(row, "pending")

    def _set_status(self, item: QTreeWidgetItem, status: str, detail: str = "") -> None:
        item.setText(self.COL_INTEGRITY, _(STATUS_WORDS.get(status, status)))
        colour = {
            "ok": OK_COLOUR,
            "purged": WARN_COLOUR,
            "pending": "#6c757d",
            "conflict": WARN_COLOUR,
        }.get(status, BAD_COLOUR)
        item.setForeground(self.COL_INTEGRITY, QBrush(QColor(colour)))
        if detail:
            item.setToolTip(self.COL_INTEGRITY, detail)

    def _on_tree_current_changed(self, current: Any, _old: Any) -> None:
        if current is None:
            return
        key = current.data(0, Qt.ItemDataRole.UserRole)
        text = self._details.get(str(key), "") if key else ""
        if current is getattr(self, "audit_item", None) and self.integrity is not None:
            text = self.integrity.audit_detail
        status_tip = current.toolTip(self.COL_INTEGRITY)
        if status_tip:
            text = f"{current.text(self.COL_INTEGRITY)}: {status_tip}\n\n{text}"
        self.detail.setPlainText(text)

    # --- integrity ----------------------------------------------------------------------------

    def start_checks(self) -> None:
        if self.case_file is None or (self.task is not None and not self.task.is_done):
            return
        cf = self.case_file
        record_ids = [cf.case.id, *(p.id for p, _r in cf.persons)]
        record_ids += [r.id for r in cf.interviews] + [r.id for r in cf.visits]
        self.overall_label.setText(_("Checking the integrity of every item…"))
        self.progress.setRange(0, 0)
        self.recheck_button.setEnabled(False)
        task = Task(check_case_integrity, self.vault, record_ids, list(cf.evidence_ids))
        task.signals.progress.connect(self._on_task_progress)
        task.signals.succeeded.connect(self._on_task_succeeded)
        task.signals.failed.connect(self._on_task_failed)
        self.task = task
        self.runner.start(task)

    def _on_task_progress(self, done: int, total: int, _stage: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_task_succeeded(self, result: object) -> None:
        assert isinstance(result, IntegrityReport)
        self.integrity = result
        self.recheck_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        for item_id, integrity in [*result.records.items(), *result.evidence.items()]:
            item = self._items.get(item_id)
            if item is not None:
                self._set_status(item, integrity.status, integrity.detail)
        self._set_status(
            self.audit_item, "ok" if result.audit_ok else "tampered", result.audit_detail
        )
        self.audit_item.setText(self.COL_DETAIL, result.audit_detail)
        if result.all_ok:
            self.overall_label.setText(
                _("Every item of this case file is intact and the audit log verifies.")
            )
            self.overall_label.setStyleSheet(f"color: {OK_COLOUR}; font-weight: bold;")
        else:
            self.overall_label.setText(
                _("Some items could not be confirmed intact: see the Integrity column.")
            )
            self.overall_label.setStyleSheet(f"color: {BAD_COLOUR}; font-weight: bold;")

    def _on_task_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.recheck_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if is_cancelled(exc):
            self.overall_label.setText(_("The integrity check was cancelled."))
        else:
            self.overall_label.setText(error_text(exc))

    def _on_pdf_clicked(self) -> None:
        """The report dialog: language of the report, names (with a warning), where to save."""
        from fieldkit.ui.reports import CASE_FILE, open_report_dialog

        self.report_dialog = open_report_dialog(
            self, self.vault, self.runner, CASE_FILE, self.case_id
        )

    def reject(self) -> None:
        if self.task is not None:
            self.task.cancel.cancel()
        super().reject()

"""Case packages for lawyers in the desktop program, as on the command line.

Coordinator: *Organisation → Enrol a lawyer's key…* (the comparison code is shown to read aloud)
and *File → Share the case with a lawyer…* (the open case, as the disclosure policy allows it for
counsel; what was withheld is listed). Lawyer: *Organisation → Enrol with the organisation
(lawyer)…*, *File → Import a case package…* (what changed is shown, removals with the reason) and
*View → Received cases…*: every received case, its items' integrity and the PDF case file.
Everything runs through the services; slow calls as tasks.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.profile import Role
from fieldkit.i18n import N_, _
from fieldkit.services.roles import hub_lawyer
from fieldkit.ui import dialogs
from fieldkit.ui.messages import error_text
from fieldkit.ui.tasks import Task

KIND_WORDS = {"record": N_("record"), "evidence": N_("evidence item"), "field": N_("field")}
STATUS_WORDS = {"ok": N_("intact"), "tampered": N_("ALTERED"), "missing": N_("MISSING")}


def _kind(kind: str) -> str:
    return _(KIND_WORDS.get(kind, kind))


def withheld_lines(entries: Any) -> list[str]:
    from fieldkit.i18n import get_translator
    from fieldkit.services.disclosure_counsel import reason_text
    from fieldkit.ui.common import language

    translator = get_translator(language())
    return [
        f"{_kind(w.kind)} {w.id[:8]}{'.' + w.field if w.field else ''}: "
        f"{reason_text(w, translator)}"
        for w in entries
    ]


def install_counsel_actions(
    window: Any, file_menu: QMenu, org_menu: QMenu, toolbar: QToolBar
) -> None:
    """The lawyer actions of the main window, by the profile's role."""
    role = window.vault.role
    if role == Role.COORDINATOR:
        share = QAction(_("Share the case with a &lawyer…"), window)
        share.setObjectName("actionShareCase")
        share.triggered.connect(lambda: share_current_case(window))
        file_menu.insertAction(window.action_lock, share)
        enrol = QAction(_("Enrol a &lawyer's key…"), window)
        enrol.setObjectName("actionEnrolCounsel")
        enrol.triggered.connect(lambda: enrol_counsel_key(window))
        org_menu.addAction(enrol)
        window.action_share_case = share
    elif role == Role.LAWYER:
        # A lawyer's profile holds only what packages delivered: nothing here to create, send,
        # import as a bundle or review from the records tables. On a hub the records tables
        # hold the cases shared with the lawyer (the database shows them nothing else): the
        # case file is made from them, and there are no packages.
        on_hub = hub_lawyer(window.vault)
        for name in (
            "action_new_case",
            "action_export",
            "action_apply_receipt",
            "action_enrol",
            "action_import",
            "action_trust",
            "action_receipts",
            "action_review",
            "action_conflicts",
            "action_export_identity",
            "action_export_signing_key",
            *(() if on_hub else ("action_case_file",)),
            "action_visit_report",
        ):
            action = getattr(window, name, None)
            if action is not None:
                action.setVisible(False)
        for action in getattr(window, "new_record_actions", {}).values():
            action.setVisible(False)
        if on_hub:
            return
        imp = QAction(_("&Import a case package…"), window)
        imp.setObjectName("actionImportPackage")
        imp.triggered.connect(lambda: import_package_file(window))
        file_menu.insertAction(window.action_lock, imp)
        received = QAction(_("Received &cases…"), window)
        received.setObjectName("actionReceivedCases")
        received.triggered.connect(lambda: open_received(window))
        toolbar.addAction(imp)
        toolbar.addAction(received)
        enrol = QAction(_("Enrol with the organisation (lawyer)…"), window)
        enrol.setObjectName("actionCounselEnrol")
        enrol.triggered.connect(lambda: write_counsel_key(window))
        org_menu.addAction(enrol)
        window.action_import_package = imp
        window.action_received_cases = received


# --- coordinator ---------------------------------------------------------------------------------


class ShareDialog(QDialog):
    def __init__(self, lawyers: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shareCaseDialog")
        self.setWindowTitle(_("Share the case with a lawyer"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.lawyer = QComboBox(self)
        self.lawyer.setObjectName("shareLawyer")
        for counsel_id, label in lawyers:
            self.lawyer.addItem(label, counsel_id)
        form.addRow(_("Lawyer"), self.lawyer)
        layout.addLayout(form)
        note = QPlainTextEdit(self)
        note.setReadOnly(True)
        note.setPlainText(
            _(
                "The package holds what the disclosure policy allows for counsel; what is "
                "withheld is listed with the reason. A later package replaces this one in the "
                "lawyer's profile. A PDF the lawyer prints cannot be taken back."
            )
        )
        note.setMaximumHeight(90)
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def share_current_case(window: Any) -> Task | None:
    from fieldkit.services.counsel import list_counsel
    from fieldkit.services.package_share import share_case

    case_id = window.current_case_id()
    title = _("Share the case with a lawyer")
    if not case_id:
        dialogs.inform(window, title, _("Choose a case first."))
        return None
    try:
        lawyers = [
            (c.counsel_id, c.label) for c in list_counsel(window.vault) if c.status == "active"
        ]
    except Exception as exc:
        dialogs.error(window, title, error_text(exc))
        return None
    if not lawyers:
        dialogs.inform(
            window, title, _("No lawyer is enrolled: Organisation → Enrol a lawyer's key…")
        )
        return None
    dialog = ShareDialog(lawyers, window)
    try:
        if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
            return None
        counsel_id = str(dialog.lawyer.currentData())
    finally:
        dialog.deleteLater()
    folder = dialogs.choose_directory(window, _("Where to write the package"))
    if folder is None:
        return None
    task = Task(share_case, window.vault, case_id, counsel_id, folder, name="share-case")

    def done(result: Any) -> None:
        lines = [
            _("Wrote package {seq} for {label} to {path}.").format(
                seq=result.seq, label=result.counsel_label, path=result.path
            ),
            _("Records: {n}; evidence items: {m}.").format(n=result.records, m=result.evidence),
        ]
        dialogs.inform(window, title, "\n".join(lines), "\n".join(withheld_lines(result.withheld)))

    task.signals.succeeded.connect(done)
    task.signals.failed.connect(lambda exc: dialogs.error(window, title, error_text(exc)))
    window.runner.start(task)
    return task


class LabelDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counselLabelDialog")
        self.setWindowTitle(_("Enrol a lawyer's key"))
        layout = QFormLayout(self)
        self.label = QLineEdit(self)
        self.label.setObjectName("counselLabel")
        self.label.setPlaceholderText(_("a name for the lawyer, e.g. L-01"))
        layout.addRow(_("Label"), self.label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)


def enrol_counsel_key(window: Any) -> bool:
    from fieldkit.services.counsel import add_counsel

    title = _("Enrol a lawyer's key")
    path = dialogs.open_file(window, title)
    if path is None:
        return False
    dialog = LabelDialog(window)
    try:
        if dialogs.exec_dialog(dialog) != QDialog.DialogCode.Accepted.value:
            return False
        label = dialog.label.text()
    finally:
        dialog.deleteLater()
    try:
        info = add_counsel(window.vault, path, label)
    except Exception as exc:
        dialogs.error(window, title, error_text(exc))
        return False
    dialogs.inform(
        window,
        title,
        _("Enrolled lawyer {label} ({id}).").format(label=info.label, id=info.counsel_id),
        _("Comparison code (must match the one on the lawyer's screen): {code}").format(
            code=info.code
        ),
    )
    return True


# --- lawyer --------------------------------------------------------------------------------------


def write_counsel_key(window: Any) -> bool:
    from fieldkit.services.counsel import enrol_counsel

    title = _("Enrol with the organisation (lawyer)")
    card = dialogs.open_file(window, _("The organisation card (org.pub)"))
    if card is None:
        return False
    out = dialogs.save_file(
        window, _("Where to write the lawyer's key file"), suggested_name="lawyer.pub"
    )
    if out is None:
        return False
    try:
        result = enrol_counsel(window.vault, card, out)
    except Exception as exc:
        dialogs.error(window, title, error_text(exc))
        return False
    dialogs.inform(
        window,
        title,
        _("Enrolled with {org}. The lawyer's key file was written to {path}.").format(
            org=result.org_name, path=out
        ),
        _("Comparison code (read it aloud with the coordinator): {code}").format(code=result.code),
    )
    return True


def change_lines(result: Any) -> list[str]:
    if result.status == "already_imported":
        return [_("This package is already here; nothing changed.")]
    lines = [
        _("Imported package {seq} (records: {n}; evidence items: {m}).").format(
            seq=result.seq, n=result.records, m=result.evidence
        )
    ]
    if result.superseded:
        lines.append(_("It replaces the package imported before."))
    lines += [
        _("  added: {kind} {id}").format(kind=_kind(c.kind), id=c.id[:8]) for c in result.added
    ]
    lines += [
        _("  changed: {kind} {id}").format(kind=_kind(c.kind), id=c.id[:8]) for c in result.updated
    ]
    for c in result.removed:
        reason = c.explanation or _("no longer in the package")
        lines.append(
            _("  REMOVED from this profile: {kind} {id} ({reason})").format(
                kind=_kind(c.kind), id=c.id[:8], reason=reason
            )
        )
    return lines


def import_package_file(window: Any, on_done: Any = None) -> Task | None:
    from fieldkit.services.package_receive import import_package

    title = _("Import a case package")
    path = dialogs.open_file(window, title, _("Case packages (*.fkp)"))
    if path is None:
        return None
    task = Task(import_package, window.vault, path, name="import-package")

    def done(result: Any) -> None:
        dialogs.inform(window, title, "\n".join(change_lines(result)))
        if on_done is not None:
            on_done()

    task.signals.succeeded.connect(done)
    task.signals.failed.connect(lambda exc: dialogs.error(window, title, error_text(exc)))
    window.runner.start(task)
    return task


class ReceivedDialog(QDialog):
    """Every received case; each item's integrity; the PDF case file; what was withheld."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("receivedCasesDialog")
        self.setWindowTitle(_("Received cases"))
        self.window_ = window
        self.cases: list[Any] = []
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("receivedCases")
        self.table.setHorizontalHeaderLabels([_("Case"), _("Package"), _("Records"), _("Evidence")])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.import_button = QPushButton(_("Import a case package…"), self)
        self.check_button = QPushButton(_("Check integrity"), self)
        self.check_button.setObjectName("receivedCheck")
        self.pdf_button = QPushButton(_("Save case file as PDF…"), self)
        self.pdf_button.setObjectName("receivedPdf")
        for button in (self.import_button, self.check_button, self.pdf_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("receivedDetails")
        self.details.setReadOnly(True)
        layout.addWidget(self.details, 1)
        self.import_button.clicked.connect(lambda: import_package_file(window, self.reload))
        self.check_button.clicked.connect(self.check)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.table.itemSelectionChanged.connect(self.show_case)
        self.resize(760, 520)
        self.reload()

    def reload(self) -> None:
        from fieldkit.services.package_review import list_received

        self.cases = list_received(self.window_.vault)
        self.table.setRowCount(len(self.cases))
        for index, case in enumerate(self.cases):
            cells = [
                case.title or case.case_id[:8],
                str(case.seq),
                str(case.records),
                str(case.evidence),
            ]
            for column, text in enumerate(cells):
                self.table.setItem(index, column, QTableWidgetItem(text))
        if self.cases:
            self.table.selectRow(0)

    def current(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.cases[rows[0].row()] if rows else None

    def show_case(self) -> None:
        from fieldkit.services.package_review import case_data

        case = self.current()
        if case is None:
            self.details.clear()
            return
        _data, withheld = case_data(self.window_.vault, case.case_id)
        lines = [_("Package {seq}, received {when}.").format(seq=case.seq, when=case.imported_at)]
        removed = case.changes.get("removed") or []
        for item in removed:
            lines.append(
                _("  REMOVED from this profile: {kind} {id} ({reason})").format(
                    kind=_kind(item["kind"]),
                    id=str(item["id"])[:8],
                    reason=item.get("explanation") or _("no longer in the package"),
                )
            )
        if withheld:
            lines.append(_("Withheld by the organisation:"))
            lines += ["  " + line for line in withheld_lines(withheld)]
        self.details.setPlainText("\n".join(lines))

    def check(self) -> Task | None:
        from fieldkit.services.package_review import review

        case = self.current()
        if case is None:
            return None
        task = Task(review, self.window_.vault, case.case_id, name="package-review")

        def done(results: Any) -> None:
            bad = [r for r in results if r.status != "ok"]
            lines = [
                f"{_(STATUS_WORDS.get(r.status, r.status))}  {_kind(r.kind)} {r.id[:8]}  {r.title}"
                for r in results
            ]
            lines.append(_("Every item is intact.") if not bad else _("Some items are NOT intact."))
            self.details.setPlainText("\n".join(lines))

        task.signals.succeeded.connect(done)
        task.signals.failed.connect(lambda exc: self.details.setPlainText(error_text(exc)))
        self.window_.runner.start(task)
        self.check_task = task
        return task

    def save_pdf(self) -> Any:
        case = self.current()
        if case is None:
            return None
        return self.window_.open_report("case", case.case_id)


def open_received(window: Any) -> ReceivedDialog:
    dialog = ReceivedDialog(window)
    dialogs.show_dialog(dialog)
    window.received_dialog = dialog
    return dialog

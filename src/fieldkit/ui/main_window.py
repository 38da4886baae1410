"""The main window: menus and shortcuts, the record list with search and filters, the case view.

It calls services only; the vault is passed through as the opaque "unlocked profile" handle.

Emits:
    lock_requested(): the user chose Lock.
    quit_requested(): the user chose Quit.
    settings_changed(object AppSettings): the user saved new preferences.
    passphrase_changed(): the passphrase was changed; the program locks the profile.
    erase_requested(): the user confirmed a quick erase twice; the program locks and erases.
"""

from __future__ import annotations

import base64
import logging
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import _, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.case_view import CaseView
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.common import (
    RECORD_TYPES,
    fitting_size,
    plain_label,
    short_type_name,
    status_choices,
    status_label,
    type_plural,
)
from fieldkit.ui.editing import RecordEditorHost
from fieldkit.ui.messages import error_text, show_error
from fieldkit.ui.models.lazy_table import RecordTableModel
from fieldkit.ui.models.sources import RecordListSource, SearchSource
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

TIME_SEARCH_DEBOUNCE_MS = 250
ALL_TYPES = ""


class MainWindow(QMainWindow):
    lock_requested = Signal()
    quit_requested = Signal()
    settings_changed = Signal(object)
    passphrase_changed = Signal()
    erase_requested = Signal()

    def __init__(
        self,
        vault: Any,
        runner: TaskRunner,
        clipboard: ClipboardGuard,
        settings: AppSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.vault = vault
        self.runner = runner
        self.clipboard = clipboard
        self.settings = settings
        self.role: Role = vault.role
        self._closing_for_lock = False

        from fieldkit.services.records import RecordService
        from fieldkit.services.search import SearchService

        self.records = RecordService(vault)
        self.search_service = SearchService(vault)
        self.editors = RecordEditorHost(self, vault, runner)
        self.editors.record_saved.connect(self._on_record_saved)

        self.setWindowTitle(self._title())
        self.resize(fitting_size(self, 1200, 780))
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status_bar()
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(TIME_SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.reload)
        self.restore_layout(settings)
        self.reload()

    def _title(self) -> str:
        # Whole sentences: Ukrainian and Russian decline the role word inside the title.
        if self.role == Role.MONITOR:
            return _("fieldkit — monitor profile")
        return _("fieldkit — coordinator profile")

    # --- actions and menus -------------------------------------------------------------------

    def _action(
        self,
        name: str,
        text: str,
        slot: Any,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        monitor = self.role == Role.MONITOR
        self.action_new_case = self._action(
            "actionNewCase",
            _("&New case…"),
            lambda: self.new_record("case"),
            QKeySequence.StandardKey.New,
        )
        self.new_record_actions: dict[str, QAction] = {}
        for form_id in RECORD_TYPES:
            if form_id == "case":
                continue
            self.new_record_actions[form_id] = self._action(
                f"actionNew_{form_id}",
                _("New {kind}…").format(kind=short_type_name(form_id).lower()),
                lambda f=form_id: self.new_record(f),
            )
        self.action_export = self._action(
            "actionExportBundle",
            _("&Export bundle…"),
            self.open_export_wizard,
            "Ctrl+E",
            _("Write a signed, encrypted bundle for the organisation to a USB stick"),
        )
        self.action_apply_receipt = self._action(
            "actionApplyReceipt", _("Apply &receipt…"), self.open_apply_receipt
        )
        self.action_enrol = self._action(
            "actionEnrol", _("&Enrol with the organisation…"), self.open_enrolment
        )
        self.action_import = self._action(
            "actionImportBundles",
            _("&Import bundles…"),
            self.open_import_wizard,
            "Ctrl+I",
            _("Verify and import bundles from monitors' devices"),
        )
        self.action_trust = self._action(
            "actionTrustedDevices", _("&Trusted devices…"), self.open_trust_dialog
        )
        self.action_receipts = self._action(
            "actionWriteReceipts", _("Write &receipts…"), self.open_receipts_dialog
        )
        self.action_export.setVisible(monitor)
        self.action_apply_receipt.setVisible(monitor)
        self.action_enrol.setVisible(monitor)
        self.action_import.setVisible(not monitor)
        self.action_trust.setVisible(not monitor)
        self.action_receipts.setVisible(not monitor)
        self.action_lock = self._action(
            "actionLock",
            _("&Lock"),
            self.lock_requested.emit,
            "Ctrl+L",
            _("Lock the profile now; the passphrase is needed to continue"),
        )
        self.action_quit = self._action(
            "actionQuit", _("&Quit"), self.quit_requested.emit, QKeySequence.StandardKey.Quit
        )
        self.action_find = self._action("actionFind", _("&Find…"), self.focus_search, "Ctrl+F")
        self.action_refresh = self._action(
            "actionRefresh", _("&Refresh"), self.reload, QKeySequence.StandardKey.Refresh
        )
        self.action_review = self._action(
            "actionReview",
            _("&Review case file (read-only)…"),
            self.open_review,
            "Ctrl+R",
            _("A read-only view of the case with the integrity status of every item"),
        )
        self.action_conflicts = self._action(
            "actionConflicts",
            _("Record &conflicts…"),
            self.open_conflicts,
            tip=_("Every record that arrived in two versions, to decide field by field"),
        )
        self.action_preferences = self._action(
            "actionPreferences", _("&Preferences…"), self.open_preferences, "Ctrl+,"
        )
        self.action_check = self._action(
            "actionCheckProfile", _("&Check the profile…"), self.open_profile_check
        )
        self.action_about = self._action("actionAbout", _("&About fieldkit"), self.open_about)
        self.action_change_passphrase = self._action(
            "actionChangePassphrase", _("Change the &passphrase…"), self.open_change_passphrase
        )
        self.action_erase_profile = self._action(
            "actionEraseProfile",
            _("&Erase the profile…"),
            self.open_erase_profile,
            tip=_("Destroy the profile on this computer at once; cannot be undone"),
        )
        self.action_export_identity = self._action(
            "actionExportIdentity",
            _("Back up the &decryption key…"),
            self.open_export_identity,
            tip=_("Write the organisation's decryption key for an offline backup"),
        )
        self.action_export_identity.setVisible(not monitor)
        self.action_export_signing_key = self._action(
            "actionExportSigningKey",
            _("Back up the &signing key…"),
            self.open_export_signing_key,
            tip=_("Write the organisation's signing key for an offline backup"),
        )
        self.action_export_signing_key.setVisible(not monitor)
        self.action_case_file = self._action(
            "actionCaseFilePdf",
            _("Case file (&PDF)…"),
            lambda: self._report_for_current_case("case"),
        )
        self.action_visit_report = self._action(
            "actionVisitReportPdf",
            _("&Visit report (PDF)…"),
            lambda: self._report_for_current_case("visit"),
        )

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(_("&File"))
        file_menu.setObjectName("menuFile")
        file_menu.addAction(self.action_new_case)
        new_menu = QMenu(_("New &record"), file_menu)
        new_menu.setObjectName("menuNewRecord")
        for action in self.new_record_actions.values():
            new_menu.addAction(action)
        file_menu.addMenu(new_menu)
        file_menu.addSeparator()
        for action in (self.action_export, self.action_apply_receipt, self.action_import):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.action_lock)
        file_menu.addAction(self.action_quit)

        edit_menu = bar.addMenu(_("&Edit"))
        edit_menu.setObjectName("menuEdit")
        edit_menu.addAction(self.action_find)
        edit_menu.addSeparator()
        edit_menu.addAction(self.action_preferences)

        view_menu = bar.addMenu(_("&View"))
        view_menu.setObjectName("menuView")
        view_menu.addAction(self.action_refresh)
        view_menu.addAction(self.action_review)
        view_menu.addAction(self.action_conflicts)
        view_menu.addSeparator()
        view_menu.addAction(self.action_case_file)
        view_menu.addAction(self.action_visit_report)

        org_menu = bar.addMenu(_("&Organisation"))
        org_menu.setObjectName("menuOrganisation")
        for action in (
            self.action_enrol,
            self.action_trust,
            self.action_receipts,
            self.action_export_identity,
            self.action_export_signing_key,
        ):
            org_menu.addAction(action)

        profile_menu = bar.addMenu(_("&Profile"))
        profile_menu.setObjectName("menuProfile")
        profile_menu.addAction(self.action_check)
        profile_menu.addAction(self.action_change_passphrase)
        profile_menu.addSeparator()
        profile_menu.addAction(self.action_erase_profile)

        help_menu = bar.addMenu(_("&Help"))
        help_menu.setObjectName("menuHelp")
        help_menu.addAction(self.action_about)

        toolbar = self.addToolBar(_("Main"))
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.action_new_case)
        if self.role == Role.MONITOR:
            toolbar.addAction(self.action_export)
        else:
            toolbar.addAction(self.action_import)
            toolbar.addAction(self.action_trust)
        from fieldkit.ui.sync import install_sync_action

        install_sync_action(self, file_menu, toolbar, before=self.action_apply_receipt)
        from fieldkit.ui.counsel import install_counsel_actions

        install_counsel_actions(self, file_menu, org_menu, toolbar)
        toolbar.addAction(self.action_review)
        toolbar.addSeparator()
        toolbar.addAction(self.action_lock)

    # --- central area ------------------------------------------------------------------------

    def _build_central(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        splitter.setChildrenCollapsible(False)

        list_panel = QWidget(splitter)
        list_panel.setObjectName("listPanel")
        left = QVBoxLayout(list_panel)
        left.setContentsMargins(6, 6, 6, 6)
        self.search_edit = QLineEdit(list_panel)
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setPlaceholderText(_("Search every record (Ctrl+F)…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(_("Search"))
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_edit.returnPressed.connect(self.reload)
        left.addWidget(self.search_edit)

        filters = QHBoxLayout()
        self.type_filter = QComboBox(list_panel)
        self.type_filter.setObjectName("typeFilter")
        self.type_filter.setAccessibleName(_("Record type"))
        # Every record by default: a word typed in the search box is found wherever it is.
        self.type_filter.addItem(_("All records"), ALL_TYPES)
        for form_id in RECORD_TYPES:
            self.type_filter.addItem(type_plural(form_id), form_id)
        self.type_filter.currentIndexChanged.connect(self._on_type_filter_changed)
        filters.addWidget(self.type_filter, 1)
        self.status_filter = QComboBox(list_panel)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName(_("State"))
        self.status_filter.currentIndexChanged.connect(lambda _i: self.reload())
        filters.addWidget(self.status_filter, 1)
        self.period_filter = QComboBox(list_panel)
        self.period_filter.setObjectName("periodFilter")
        self.period_filter.setAccessibleName(_("Period"))
        self.period_filter.addItem(_("Any time"), 0)
        self.period_filter.addItem(_("Last 30 days"), 30)
        self.period_filter.addItem(_("Last 12 months"), 365)
        self.period_filter.setToolTip(_("Records whose dates fall in this period"))
        self.period_filter.currentIndexChanged.connect(lambda _i: self.reload())
        filters.addWidget(self.period_filter, 1)
        left.addLayout(filters)

        # Counts and pages are read by the task runner: the GUI thread never waits on a query.
        self.model = RecordTableModel(status_label=status_label, runner=self.runner, parent=self)
        self.model.load_failed.connect(self._on_model_load_failed)
        self.model.source_loaded.connect(self._on_model_source_loaded)
        self._select_after_load: str | None = None
        self.table = QTableView(list_panel)
        self.table.setObjectName("recordTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(RecordTableModel.COL_TITLE, QHeaderView.ResizeMode.Stretch)
        for col in range(1, self.model.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Type first; with search results the case and the matching words follow the title.
        header.moveSection(header.visualIndex(RecordTableModel.COL_TYPE), 0)
        header.moveSection(header.visualIndex(RecordTableModel.COL_CASE), 2)
        header.moveSection(header.visualIndex(RecordTableModel.COL_MATCH), 3)
        header.setSectionResizeMode(RecordTableModel.COL_MATCH, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(RecordTableModel.COL_CASE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(RecordTableModel.COL_CASE, 140)
        self._update_columns(searching=False)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.table.activated.connect(self._on_table_activated)
        left.addWidget(self.table, 1)
        self.count_label = plain_label("", "countLabel", list_panel)
        left.addWidget(self.count_label)

        self.detail_stack = QStackedWidget(splitter)
        self.detail_stack.setObjectName("detailStack")
        welcome = QWidget()
        wl = QVBoxLayout(welcome)
        wl.addStretch(1)
        hint = plain_label(self._welcome_text(), "welcomeLabel")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        wl.addWidget(hint)
        wl.addStretch(2)
        self.detail_stack.addWidget(welcome)
        self.case_view = CaseView(self.vault, self.runner, self.clipboard, self.detail_stack)
        self.case_view.edit_requested.connect(self.editors.edit)
        self.case_view.add_requested.connect(self.editors.create_for_case)
        self.case_view.review_requested.connect(self.open_review_for)
        self.case_view.report_requested.connect(self.open_report)
        self.detail_stack.addWidget(self.case_view)

        splitter.addWidget(list_panel)
        splitter.addWidget(self.detail_stack)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([520, 680])
        self.splitter = splitter
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        self.drafts_banner = plain_label("", "draftsRestoredBanner")
        self.drafts_banner.setStyleSheet("background: #fff4ce; padding: 6px;")
        self.drafts_banner.hide()
        central_layout.addWidget(self.drafts_banner)
        central_layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._fill_status_filter()

    def _welcome_text(self) -> str:
        if self.role == Role.MONITOR:
            return _(
                "Choose a case on the left, or create one with File → New case (Ctrl+N).\n"
                "When you are back from the field, export a bundle (Ctrl+E)."
            )
        return _(
            "Import the bundles from monitors with File → Import bundles (Ctrl+I).\n"
            "Choose a case on the left to see it, or review it read-only (Ctrl+R)."
        )

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        role = {Role.MONITOR: _("Monitor"), Role.LAWYER: _("Lawyer (read-only)")}.get(
            self.role, _("Coordinator")
        )
        self.role_label = QLabel(role)
        self.role_label.setObjectName("roleLabel")
        self.role_label.setToolTip(
            _("Device {device}").format(device=getattr(self.vault, "device_id", "")[:8])
        )
        bar.addPermanentWidget(self.role_label)
        # A monitor sees before an export whether this laptop can export at all.
        self.enrolment_label = QLabel()
        self.enrolment_label.setObjectName("enrolmentLabel")
        self.enrolment_label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addPermanentWidget(self.enrolment_label)
        self.update_enrolment()
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("statusBusyBar")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setVisible(self.runner.busy)
        bar.addPermanentWidget(self.busy_bar)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)

    def _on_runner_busy_changed(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)

    # --- list ---------------------------------------------------------------------------------

    def current_type(self) -> str:
        return str(self.type_filter.currentData() or ALL_TYPES)

    def _fill_status_filter(self) -> None:
        self.status_filter.blockSignals(True)
        self.status_filter.clear()
        self.status_filter.addItem(_("Any status"), None)
        form_id = self.current_type()
        for code, label in status_choices(form_id) if form_id else []:
            self.status_filter.addItem(label, code)
        self.status_filter.setEnabled(self.status_filter.count() > 1)
        self.status_filter.blockSignals(False)

    def _on_type_filter_changed(self, _index: int) -> None:
        self._fill_status_filter()
        self.reload()

    def filters(self) -> Any:
        from fieldkit.services.records import RecordFilters

        form_id = self.current_type()
        status = self.status_filter.currentData()
        days = int(self.period_filter.currentData() or 0)
        since = (date.today() - timedelta(days=days)).isoformat() if days else None
        return RecordFilters(
            types=(form_id,) if form_id else (), status=status or None, date_from=since
        )

    def reload(self) -> None:
        """Rebuild the list from the search box and filters (the first page loads at once)."""
        self._search_timer.stop()
        if self.vault.is_locked:
            return
        query = self.search_edit.text().strip()
        try:
            filters = self.filters()
        except FieldkitError as exc:
            self.statusBar().showMessage(error_text(exc), 8000)
            return
        if query:
            source: Any = SearchSource(self.search_service, query, filters)
        else:
            source = RecordListSource(self.records, filters)
        self._update_columns(searching=bool(query))
        self.search_edit.setStyleSheet("")
        self.count_label.setText(_("Loading…"))
        self.model.set_source(source)

    def _update_columns(self, searching: bool) -> None:
        """The type column when several types are listed; the case and the matching words with
        search results (the dates and time of change make room for them)."""
        table = self.table
        model = RecordTableModel
        table.setColumnHidden(model.COL_TYPE, bool(self.current_type()))
        table.setColumnHidden(model.COL_CASE, not searching)
        table.setColumnHidden(model.COL_MATCH, not searching)
        table.setColumnHidden(model.COL_DATES, searching)
        table.setColumnHidden(model.COL_UPDATED, searching)
        table.setColumnHidden(model.COL_STATUS, searching)
        if searching:
            # The results need the width: the list takes most of the window while searching.
            total = sum(self.splitter.sizes())
            if total and self.splitter.sizes()[0] < total * 0.55:
                self.splitter.setSizes([int(total * 0.62), total - int(total * 0.62)])

    def _on_model_source_loaded(self) -> None:
        self._update_count()
        if self._select_after_load:
            record_id, self._select_after_load = self._select_after_load, None
            self.select_record(record_id)

    def _update_count(self) -> None:
        total = self.model.total
        if self.search_edit.text().strip():
            text = ngettext("{n} record found", "{n} records found", total).format(n=total)
        else:
            text = ngettext("{n} record", "{n} records", total).format(n=total)
        self.count_label.setText(text)

    def _on_model_load_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self._update_count()
        if isinstance(exc, FieldkitError) and exc.code is ErrorCode.SEARCH_QUERY_INVALID:
            self.search_edit.setStyleSheet("border: 1px solid #b00020;")
        self.statusBar().showMessage(error_text(exc), 8000)

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _on_table_selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        row = self.model.row_at(indexes[0].row())
        if row is not None and row.type == "case":
            self.open_case(row.id)

    def _on_table_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is None:
            return
        if row.type == "case":
            self.open_case(row.id)
        else:
            self.editors.edit(row.type, row.id)

    def open_case(self, case_id: str) -> None:
        if (
            self.case_view.case_id == case_id
            and self.detail_stack.currentWidget() is self.case_view
        ):
            return
        self.case_view.show_case(case_id)
        self.detail_stack.setCurrentWidget(self.case_view)

    def select_record(self, record_id: str) -> bool:
        row = self.model.row_of(record_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    # --- records ------------------------------------------------------------------------------

    def new_record(self, form_id: str) -> None:
        self.editors.create(form_id)

    def _on_record_saved(self, form_id: str, record_id: str) -> None:
        if form_id == "case":
            self._select_after_load = record_id
        self.reload()
        if form_id == "case":
            self.case_view.show_case(record_id)
            self.detail_stack.setCurrentWidget(self.case_view)
        elif self.case_view.case_id:
            self.case_view.refresh()
        self.statusBar().showMessage(_("Saved."), 4000)

    def current_case_id(self) -> str | None:
        return self.case_view.case_id

    # --- other windows ------------------------------------------------------------------------

    def open_conflicts(self) -> Any:
        from fieldkit.ui.conflicts import ConflictsDialog

        dialog = ConflictsDialog(self.vault, self)
        dialog.finished.connect(lambda _r: self.reload())
        dialogs.show_window(dialog)
        return dialog

    def open_review(self) -> None:
        case_id = self.current_case_id()
        if not case_id:
            dialogs.inform(
                self, _("Review"), _("Choose a case first; the review shows one case file.")
            )
            return
        self.open_review_for(case_id)

    def open_review_for(self, case_id: str) -> None:
        from fieldkit.ui.review import ReviewWindow

        window = ReviewWindow(self.vault, self.runner, self.clipboard, case_id, self)
        dialogs.show_dialog(window)

    def _report_for_current_case(self, kind: str) -> None:
        if not self.current_case_id():
            dialogs.inform(
                self, _("Reports"), _("Choose a case first; reports are made from its case view.")
            )
            return
        if kind == "case":
            self.case_view.request_case_file()
        else:
            self.case_view.request_visit_report()

    def open_report(self, kind: str, record_id: str) -> Any:
        """The report dialog for a case file or a visit report (language, names, where)."""
        from fieldkit.ui.reports import open_report_dialog

        self.report_dialog = open_report_dialog(self, self.vault, self.runner, kind, record_id)
        return self.report_dialog

    def open_change_passphrase(self) -> Any:
        if self.has_unsaved_changes():
            dialogs.inform(
                self,
                _("Change the passphrase"),
                _(
                    "Save or close the open forms first: the profile is locked once the "
                    "passphrase is changed."
                ),
            )
            return None
        from fieldkit.ui.profile_tools import ChangePassphraseDialog

        dialog = ChangePassphraseDialog(self.vault.path, self.runner, self)
        dialog.changed.connect(self.passphrase_changed.emit)
        self.passphrase_dialog = dialog
        dialogs.show_dialog(dialog)
        return dialog

    def open_erase_profile(self) -> bool:
        """Both confirmations; True when the erase was requested."""
        from fieldkit.ui.profile_tools import confirm_erase

        if not confirm_erase(self, self.vault.path, coordinator=self.role == Role.COORDINATOR):
            return False
        self.erase_requested.emit()
        return True

    def open_export_signing_key(self) -> Any:
        from fieldkit.ui.profile_tools import SigningKeyExport

        self.signing_key_export = SigningKeyExport(self, self.vault, self.runner)
        return self.signing_key_export.start()

    def open_export_identity(self) -> Any:
        from fieldkit.ui.profile_tools import IdentityExport

        self.identity_export = IdentityExport(self, self.vault, self.runner)
        return self.identity_export.start()

    def open_export_wizard(self) -> None:
        from fieldkit.ui.bundles import ExportWizard

        dialogs.show_dialog(ExportWizard(self.vault, self.runner, self))

    def open_import_wizard(self) -> None:
        from fieldkit.ui.bundles import ImportWizard

        wizard = ImportWizard(self.vault, self.runner, self)
        wizard.imported.connect(lambda _n: self.reload())
        dialogs.show_dialog(wizard)

    def open_trust_dialog(self) -> None:
        from fieldkit.ui.bundles import TrustDialog

        dialogs.show_dialog(TrustDialog(self.vault, self.runner, self.clipboard, self))

    def open_enrolment(self) -> None:
        from fieldkit.ui.bundles import EnrolDialog

        dialog = EnrolDialog(self.vault, self.runner, self.clipboard, self)
        dialog.finished.connect(lambda _r: self.update_enrolment())
        dialogs.show_dialog(dialog)

    def update_enrolment(self) -> None:
        """Say in the status bar whether this monitor's laptop is enrolled (bundles need it)."""
        label = self.enrolment_label
        if self.role != Role.MONITOR:
            label.hide()
            return
        from fieldkit.services import trust

        try:
            card = trust.enrolled_card(self.vault)
        except FieldkitError as exc:
            if exc.code != ErrorCode.NOT_ENROLLED:
                label.setText("")
                return
            label.setText(_("Not enrolled: bundles need Organisation → Enrol first"))
            label.setStyleSheet("color: #b00020; font-weight: bold;")
            label.setToolTip(
                _("Enrol this laptop with the organisation's card before exporting a bundle.")
            )
            return
        label.setText(_("Enrolled with {organisation}").format(organisation=card.name))
        label.setStyleSheet("")
        label.setToolTip("")

    def open_receipts_dialog(self) -> None:
        from fieldkit.ui.bundles import ReceiptsDialog

        dialogs.show_dialog(ReceiptsDialog(self.vault, self.runner, self))

    def open_apply_receipt(self) -> None:
        from fieldkit.ui.bundles import apply_receipt_interactively

        apply_receipt_interactively(self, self.vault)

    def open_preferences(self) -> None:
        from fieldkit.ui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.settings, self)
        dialog.accepted_settings.connect(self._on_preferences_accepted)
        dialogs.show_dialog(dialog)

    def _on_preferences_accepted(self, settings: object) -> None:
        assert isinstance(settings, AppSettings)
        self.settings = settings
        self.settings_changed.emit(settings)

    def open_profile_check(self) -> None:
        from fieldkit.services import profile as profile_service
        from fieldkit.ui.tasks import Task

        task = Task(profile_service.check_profile, self.vault, plain=True, name="check")
        task.signals.succeeded.connect(self._on_check_succeeded)
        task.signals.failed.connect(self._on_check_failed)
        self.runner.start(task)

    def _on_check_succeeded(self, report: Any) -> None:
        if report.ok:
            dialogs.inform(
                self, _("Profile check"), _("The encrypted database and its records are intact.")
            )
            return
        database = report.database
        problems = [
            str(p)
            for p in (
                *getattr(database, "cipher_problems", ()),
                *getattr(database, "sqlite_problems", ()),
            )
        ]
        for found in report.extra.values():
            problems.extend(str(p) for p in found)
        dialogs.warn(
            self, _("Profile check"), _("Problems were found in the profile."), "\n".join(problems)
        )

    def _on_check_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        show_error(self, exc)

    def open_about(self) -> None:
        from fieldkit import __version__

        dialogs.inform(
            self,
            _("About fieldkit"),
            _(
                "fieldkit {version}\nEncrypted, offline documentation of detention visits, "
                "interviews and evidence."
            ).format(version=__version__),
        )

    # --- state, lock and close ----------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        return self.editors.has_unsaved_changes()

    def restore_drafts(self) -> int:
        """Reopen the forms that were open at the last lock, crash or quit, and say so."""
        count = self.editors.restore_drafts()
        if count:
            text = ngettext(
                "{n} unsaved form was restored from its encrypted draft. Save it to keep it as a "
                "record, or throw the draft away.",
                "{n} unsaved forms were restored from their encrypted drafts. Save them to keep "
                "them as records, or throw the drafts away.",
                count,
            ).format(n=count)
            self.drafts_banner.setText(text)
            self.drafts_banner.show()
            self.statusBar().showMessage(text, 10000)
        return count

    def clear(self) -> None:
        """Empty every model and view (on lock): nothing from the profile stays in memory."""
        self._search_timer.stop()
        self.editors.discard_all()
        self.case_view.clear()
        self.detail_stack.setCurrentIndex(0)
        self.model.clear()
        self.search_edit.clear()
        self.count_label.clear()

    def restore_layout(self, settings: AppSettings) -> None:
        if settings.window_geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(settings.window_geometry)))
        if settings.window_state:
            self.restoreState(QByteArray(base64.b64decode(settings.window_state)))

    def layout_settings(self) -> dict[str, str]:
        return {
            "window_geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode(),
            "window_state": base64.b64encode(bytes(self.saveState().data())).decode(),
        }

    def close_for_lock(self) -> None:
        self._closing_for_lock = True
        self.clear()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing_for_lock:
            event.accept()
            return
        # Unsaved forms are kept as encrypted drafts by the lock that quitting runs, and
        # reopened after the next unlock: nothing to ask.
        event.ignore()
        self.quit_requested.emit()

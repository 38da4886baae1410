"""The main window's record list (search box, filters, table) and the case view beside it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import _, ngettext
from fieldkit.ui.case_view import CaseView
from fieldkit.ui.common import (
    RECORD_TYPES,
    plain_label,
    status_choices,
    status_label,
    type_plural,
)
from fieldkit.ui.main_base import ALL_TYPES, MainWindowBase
from fieldkit.ui.messages import error_text
from fieldkit.ui.models.lazy_table import RecordTableModel
from fieldkit.ui.models.sources import RecordListSource, SearchSource

# Below this width the record list hides its date columns so the title stays readable.
NARROW_LIST_PX = 560


class RecordListPanel(MainWindowBase):
    """The list of records on the left, the case view on the right."""

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
        # Each filter as wide as its longest choice ("Любой статус" is not cut to "Любой с"); the
        # type filter takes what is left.
        self.type_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.type_filter.setMinimumContentsLength(8)
        filters.addWidget(self.type_filter, 1)
        self.status_filter = QComboBox(list_panel)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName(_("State"))
        self.status_filter.currentIndexChanged.connect(lambda _i: self.reload())
        self.status_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        filters.addWidget(self.status_filter)
        self.period_filter = QComboBox(list_panel)
        self.period_filter.setObjectName("periodFilter")
        self.period_filter.setAccessibleName(_("Period"))
        self.period_filter.addItem(_("Any time"), 0)
        self.period_filter.addItem(_("Last 30 days"), 30)
        self.period_filter.addItem(_("Last 12 months"), 365)
        self.period_filter.setToolTip(_("Records whose dates fall in this period"))
        self.period_filter.currentIndexChanged.connect(lambda _i: self.reload())
        self.period_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.period_filter.setMinimumContentsLength(len(self.period_filter.itemText(0)) + 1)
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
        self._searching = False
        self._update_columns(searching=False)
        self.table.installEventFilter(self)
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
        self.welcome_label = hint
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

    def update_welcome(self) -> None:
        """The first steps for this profile as it is now (after the organisation is set up)."""
        self.welcome_label.setText(self._welcome_text())

    def _welcome_text(self) -> str:
        if self.role == Role.MONITOR:
            return _(
                "Choose a case on the left, or create one with File → New case (Ctrl+N).\n"
                "When you are back from the field, export a bundle (Ctrl+E)."
            )
        if self.role == Role.LAWYER and self.vault.hub is not None:
            return _(
                "The cases the organisation shared with you on its hub are on the left.\n"
                "Choose one to read it; View → Case file (PDF)… prints its case file."
            )
        if self.role == Role.LAWYER:
            return _(
                "Import the case package the organisation gave you with File → Import a case "
                "package….\nYour cases are then under View → Received cases…."
            )
        if not self._organisation_set_up():
            return _(
                "First set up the organisation: Organisation → Trusted devices… → Create "
                "organisation keys, then Save organisation card… for the monitors' laptops "
                "and Back up the decryption key….\nThen enrol each laptop and import its "
                "bundles (Ctrl+I)."
            )
        return _(
            "Import the bundles from monitors with File → Import bundles (Ctrl+I).\n"
            "Choose a case on the left to see it, or review it read-only (Ctrl+R)."
        )

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
        self.status_filter.setMinimumWidth(self.status_filter.sizeHint().width())
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is getattr(self, "table", None) and event.type() == QEvent.Type.Resize:
            self._update_columns(self._searching, resize_splitter=False)
        return super().eventFilter(watched, event)

    def _update_columns(self, searching: bool, resize_splitter: bool = True) -> None:
        """The type column when several types are listed; the case and the matching words with
        search results (the dates and time of change make room for them)."""
        table = self.table
        model = RecordTableModel
        table.setColumnHidden(model.COL_TYPE, bool(self.current_type()))
        table.setColumnHidden(model.COL_CASE, not searching)
        table.setColumnHidden(model.COL_MATCH, not searching)
        self._searching = searching
        # On a narrow list (1024 px screens, long Russian and Ukrainian words) the dates and the
        # time of change give their room to the title (they are in the case view and tooltips).
        narrow = table.width() < NARROW_LIST_PX
        table.setColumnHidden(model.COL_DATES, searching or narrow)
        table.setColumnHidden(model.COL_UPDATED, searching or narrow)
        table.setColumnHidden(model.COL_STATUS, searching)
        if searching and resize_splitter:
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

    def _organisation_set_up(self) -> bool:
        from fieldkit.services import trust

        try:
            trust.org_info(self.vault)
        except FieldkitError as exc:
            return exc.code is not ErrorCode.ORG_NOT_INITIALISED
        return True

"""Consent per scope as a checklist, with an append-only log of withdrawals and changes.

The value is what a ``consent`` field holds (:func:`fieldkit.domain.forms.consent_fields`)::

    {"scopes": [{"scope", "status", "conditions"?, "date"?}, ...],
     "withdrawals": [{"date", "scope", "new_status"?, "how_received"?, "actions_taken"?}, ...]}

A withdrawal never deletes or edits the decision it changes: it is appended to the log, and the
"now" column shows the effect (``ConsentRecord.effective_status``). Entries of the log cannot be
removed from here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.forms import FieldDef, FieldType, consent_fields
from fieldkit.domain.vocabularies import Vocabulary, load_vocabulary
from fieldkit.i18n import _
from fieldkit.ui.forms.base import FieldWidget, FormContext, editor_for, split_path
from fieldkit.ui.forms.common import ERROR_STYLE, language, plain_label, translate_reason
from fieldkit.ui.forms.inputs import DateField, LongTextField

COL_DATE, COL_SCOPE, COL_NEW, COL_HOW, COL_ACTIONS = range(5)


def _sub(scope_vocabulary: str, group: str, field_id: str) -> FieldDef:
    for g in consent_fields(scope_vocabulary):
        if g.id == group:
            return next(f for f in g.sub_fields if f.id == field_id)
    raise KeyError(field_id)


class _ScopeRow:
    def __init__(self, owner: ConsentField, code: str, row: int) -> None:
        self.code = code
        grid = owner.grid
        lang = language()
        term = owner.scopes_vocab.get(code)
        label_text = term.label(lang) if term is not None else code
        self.label = plain_label(label_text, owner)
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        if term is not None and term.description is not None:
            self.label.setToolTip(term.description.get(lang))
        self.status = QComboBox(owner)
        self.status.setObjectName(f"consent_status_{code}")
        self.status.addItem("—", None)
        for st in owner.statuses:
            self.status.addItem(st.label(lang), st.code)
        self.conditions = QLineEdit(owner)
        self.conditions.setObjectName(f"consent_conditions_{code}")
        self.conditions.setPlaceholderText(_("Conditions"))
        self.date = DateField(_sub(owner.vocab_id, "scopes", "date"), owner.ctx, owner)
        self.date.setObjectName(f"consent_date_{code}")
        self.now = plain_label("", owner)
        self.now.setObjectName(f"consent_now_{code}")
        self.error = plain_label("", owner)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        # Per scope: its name across the width with the state now at the right (always in view),
        # then the decision and its date, then (when granted with conditions) the conditions
        # across the whole width, so they can be read in full.
        top = 4 * row + 1
        grid.addWidget(self.label, top, 0, 1, 3)
        grid.addWidget(self.now, top, 3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.status, top + 1, 0)
        grid.addWidget(self.date, top + 1, 1, 1, 2)
        grid.addWidget(self.conditions, top + 2, 0, 1, 4)
        grid.addWidget(self.error, top + 3, 0, 1, 4)
        self.status.currentIndexChanged.connect(self._on_status_changed)
        self.status.currentIndexChanged.connect(owner._on_edited)
        self.conditions.textChanged.connect(owner._on_edited)
        self.date.changed.connect(owner._on_edited)
        self._on_status_changed()

    def _on_status_changed(self) -> None:
        conditional = self.status.currentData() == ConsentStatus.CONDITIONAL.value
        self.conditions.setEnabled(conditional)
        self.conditions.setVisible(conditional)

    def value(self) -> dict[str, Any] | None:
        status = self.status.currentData()
        if status is None:
            return None
        entry: dict[str, Any] = {"scope": self.code, "status": status}
        if status == ConsentStatus.CONDITIONAL.value and self.conditions.text().strip():
            entry["conditions"] = self.conditions.text()
        date = self.date.value()
        if date is not None:
            entry["date"] = date
        return entry

    def set_value(self, entry: dict[str, Any] | None) -> None:
        entry = entry or {}
        with QSignalBlocker(self.status):
            index = self.status.findData(entry.get("status"))
            self.status.setCurrentIndex(max(index, 0))
        self._on_status_changed()
        with QSignalBlocker(self.conditions):
            conditions = entry.get("conditions")
            self.conditions.setText(conditions if isinstance(conditions, str) else "")
        with QSignalBlocker(self.date):
            self.date.set_value(entry.get("date"))

    def show_error(self, text: str) -> None:
        existing = self.error.text()
        self.error.setText(f"{existing}\n{text}" if existing else text)
        self.error.show()

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()


class ConsentField(FieldWidget):
    """Editor of a ``consent`` field."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self.vocab_id = fdef.vocabulary or "consent_scopes"
        self.scopes_vocab: Vocabulary = load_vocabulary(self.vocab_id)
        self.statuses: Vocabulary = load_vocabulary("consent_statuses")
        self.withdrawals: list[dict[str, Any]] = []
        self.rows: dict[str, _ScopeRow] = {}
        self._emitted: list[str] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        grid_box = QWidget(self)
        self.grid = QGridLayout(grid_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(2)
        heads = [_("Decision"), _("Date"), "", _("Now")]
        for column, text in enumerate(heads):
            head = plain_label(text, grid_box)
            head.setEnabled(False)
            self.grid.addWidget(head, 0, column)
        self.grid.setColumnStretch(2, 1)
        outer.addWidget(grid_box)
        for term in self.scopes_vocab:
            if not term.deprecated:
                self._add_scope_row(term.code)

        log_box = QGroupBox(_("Withdrawals and changes (kept permanently)"), self)
        log_layout = QVBoxLayout(log_box)
        self.log = QTableWidget(0, 5, log_box)
        self.log.setObjectName("consentWithdrawalLog")
        self.log.setHorizontalHeaderLabels(
            [_("Date"), _("Scope"), _("New decision"), _("How it was received"), _("Actions taken")]
        )
        self.log.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.log.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.log.verticalHeader().setVisible(False)
        # Long scope names and notes wrap inside the width instead of scrolling sideways.
        header = self.log.horizontalHeader()
        for column, mode in (
            (COL_DATE, QHeaderView.ResizeMode.ResizeToContents),
            (COL_SCOPE, QHeaderView.ResizeMode.Stretch),
            (COL_NEW, QHeaderView.ResizeMode.ResizeToContents),
            (COL_HOW, QHeaderView.ResizeMode.Stretch),
            (COL_ACTIONS, QHeaderView.ResizeMode.Stretch),
        ):
            header.setSectionResizeMode(column, mode)
        self.log.setWordWrap(True)
        self.log.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.log.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.log.setMaximumHeight(130)
        log_layout.addWidget(self.log)
        self.log_error = plain_label("", log_box)
        self.log_error.setStyleSheet(ERROR_STYLE)
        self.log_error.setWordWrap(True)
        self.log_error.hide()
        log_layout.addWidget(self.log_error)
        self.withdraw_button = QPushButton(_("Record a withdrawal or change…"), log_box)
        self.withdraw_button.setObjectName("consentWithdraw")
        row = QHBoxLayout()
        row.addWidget(self.withdraw_button)
        row.addStretch(1)
        log_layout.addLayout(row)

        self.panel = QGroupBox(_("New withdrawal or change"), log_box)
        self.panel.setObjectName("consentWithdrawPanel")
        panel_form = QFormLayout(self.panel)
        self.w_scope = QComboBox(self.panel)
        self.w_scope.setObjectName("withdrawScope")
        # A long scope name must not widen the form (the buttons would leave the window).
        self.w_scope.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.w_scope.setMinimumContentsLength(16)
        self.w_scope.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.w_date = DateField(_sub(self.vocab_id, "withdrawals", "date"), ctx, self.panel)
        self.w_date.setObjectName("withdrawDate")
        self.w_status = QComboBox(self.panel)
        self.w_status.setObjectName("withdrawNewStatus")
        self.w_status.addItem(_("withdrawn"), None)
        for st in self.statuses:
            self.w_status.addItem(st.label(language()), st.code)
        self.w_how = QLineEdit(self.panel)
        self.w_how.setObjectName("withdrawHow")
        self.w_how.setPlaceholderText(_("e.g. by phone to the monitor, in a letter"))
        self.w_actions = LongTextField(
            _sub(self.vocab_id, "withdrawals", "actions_taken"), ctx, self.panel
        )
        self.w_actions.setObjectName("withdrawActions")
        self.w_error = plain_label("", self.panel)
        self.w_error.setStyleSheet(ERROR_STYLE)
        self.w_error.hide()
        panel_form.addRow(_("Scope"), self.w_scope)
        panel_form.addRow(_("Date"), self.w_date)
        panel_form.addRow(_("New decision"), self.w_status)
        panel_form.addRow(_("How it was received"), self.w_how)
        panel_form.addRow(_("Actions taken"), self.w_actions)
        panel_form.addRow(self.w_error)
        panel_buttons = QHBoxLayout()
        self.w_add = QPushButton(_("Add to the log"), self.panel)
        self.w_add.setObjectName("withdrawAdd")
        self.w_cancel = QPushButton(_("Cancel"), self.panel)
        panel_buttons.addWidget(self.w_add)
        panel_buttons.addWidget(self.w_cancel)
        panel_buttons.addStretch(1)
        panel_form.addRow(panel_buttons)
        self.panel.hide()
        log_layout.addWidget(self.panel)
        outer.addWidget(log_box)

        self.withdraw_button.clicked.connect(self.open_withdrawal)
        self.w_add.clicked.connect(self._on_withdraw_add_clicked)
        self.w_cancel.clicked.connect(self.panel.hide)
        self._refresh_now()

    def _add_scope_row(self, code: str) -> _ScopeRow:
        row = _ScopeRow(self, code, len(self.rows))
        self.rows[code] = row
        return row

    def _on_edited(self) -> None:
        self._refresh_now()
        self.changed.emit()

    # value

    def value(self) -> Any:
        scopes = []
        self._emitted = []
        for code, row in self.rows.items():
            entry = row.value()
            if entry is not None:
                scopes.append(entry)
                self._emitted.append(code)
        out: dict[str, Any] = {}
        if scopes:
            out["scopes"] = scopes
        if self.withdrawals:
            out["withdrawals"] = [dict(w) for w in self.withdrawals]
        return out or None

    def set_value(self, value: Any) -> None:
        data = value if isinstance(value, dict) else {}
        entries = {e.get("scope"): e for e in data.get("scopes", []) or [] if isinstance(e, dict)}
        for code in entries:
            if isinstance(code, str) and code not in self.rows:
                self._add_scope_row(code)
        for code, row in self.rows.items():
            row.set_value(entries.get(code))
        self.withdrawals = [
            dict(w) for w in data.get("withdrawals", []) or [] if isinstance(w, dict)
        ]
        self._rebuild_log()
        self.panel.hide()
        self._refresh_now()
        self.changed.emit()

    # withdrawals

    def open_withdrawal(self) -> None:
        """Show the panel to append a withdrawal or change for a scope that has a decision."""
        self.w_scope.clear()
        lang = language()
        for code, row in self.rows.items():
            if row.value() is not None:
                self.w_scope.addItem(self.scopes_vocab.label(code, lang), code)
        self.w_date.set_value(None)
        self.w_status.setCurrentIndex(0)
        self.w_how.clear()
        self.w_actions.set_value(None)
        self.w_error.hide()
        if self.w_scope.count() == 0:
            self.log_error.setText(
                _("Record a consent decision first; only a decision can be withdrawn or changed.")
            )
            self.log_error.show()
            return
        self.log_error.hide()
        self.panel.show()

    def append_withdrawal(
        self,
        scope: str,
        date: dict[str, Any],
        new_status: str | None = None,
        how_received: str | None = None,
        actions_taken: str | None = None,
    ) -> None:
        """Append one entry to the log (the only way entries get there)."""
        entry: dict[str, Any] = {"date": date, "scope": scope}
        if new_status:
            entry["new_status"] = new_status
        if how_received and how_received.strip():
            entry["how_received"] = how_received
        if actions_taken and actions_taken.strip():
            entry["actions_taken"] = actions_taken
        self.withdrawals.append(entry)
        self._rebuild_log()
        self._refresh_now()
        self.changed.emit()

    def _on_withdraw_add_clicked(self) -> None:
        scope = self.w_scope.currentData()
        date = self.w_date.value()
        if scope is None or date is None:
            self.w_error.setText(_("Choose the scope and enter the date."))
            self.w_error.show()
            return
        self.append_withdrawal(
            str(scope),
            date,
            self.w_status.currentData(),
            self.w_how.text(),
            self.w_actions.value(),
        )
        self.panel.hide()

    def _rebuild_log(self) -> None:
        lang = language()
        self.log.setRowCount(len(self.withdrawals))
        for row, entry in enumerate(self.withdrawals):
            date = entry.get("date")
            date_text = str(date.get("value", "")) if isinstance(date, dict) else str(date or "")
            new = entry.get("new_status")
            cells = [
                date_text,
                self.scopes_vocab.label(str(entry.get("scope", "")), lang),
                self.statuses.label(new, lang) if isinstance(new, str) else _("withdrawn"),
                str(entry.get("how_received") or ""),
                str(entry.get("actions_taken") or ""),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.log.setItem(row, column, item)

    def _refresh_now(self) -> None:
        """The "now" column: the decision after the log, where the log changed it."""
        scopes = []
        for row in self.rows.values():
            entry = row.value()
            if entry is not None:
                scopes.append({k: v for k, v in entry.items() if k != "date"})
        try:
            record = ConsentRecord.model_validate(
                {
                    "scopes": scopes,
                    "withdrawals": [w for w in self.withdrawals if isinstance(w.get("date"), dict)],
                }
            )
        except Exception:
            record = None
        lang = language()
        changed_scopes = {w.get("scope") for w in self.withdrawals}
        for code, row in self.rows.items():
            text = ""
            if record is not None and code in changed_scopes:
                status = record.effective_status(code)
                if status is not None:
                    text = self.statuses.label(status.value, lang)
                    if status == ConsentStatus.DECLINED:
                        text = _("withdrawn")
            row.now.setText(text)
            row.now.setStyleSheet("color: #b00020; font-weight: bold;" if text else "")

    def effective_status(self, scope: str) -> str | None:
        """The decision for ``scope`` after the log (None when there is none)."""
        self._refresh_now()
        data = self.value() or {}
        try:
            record = ConsentRecord.model_validate(
                {
                    "scopes": [
                        {k: v for k, v in e.items() if k != "date"} for e in data.get("scopes", [])
                    ],
                    "withdrawals": data.get("withdrawals", []),
                }
            )
        except Exception:
            return None
        status = record.effective_status(scope)
        return status.value if status is not None else None

    # issues

    def route_issue(self, index: int | None, rest: str | None, reason: str) -> bool:
        if rest is None:
            return False
        group, item, leaf = split_path(rest)
        text = translate_reason(reason)
        if group == "scopes" and item is not None:
            if not self._emitted:
                self.value()
            if item < len(self._emitted):
                row = self.rows[self._emitted[item]]
                field = next(
                    (f for f in consent_fields(self.vocab_id)[0].sub_fields if f.id == leaf), None
                )
                prefix = field.label.get(language()) if field is not None else ""
                row.show_error(f"{prefix}: {text}" if prefix else text)
                return True
        if group == "withdrawals" and item is not None:
            existing = self.log_error.text()
            line = _("Log entry {number}: {reason}").format(number=item + 1, reason=text)
            self.log_error.setText(f"{existing}\n{line}" if existing else line)
            self.log_error.show()
            return True
        return False

    def clear_issues(self) -> None:
        for row in self.rows.values():
            row.clear_error()
        self.log_error.clear()
        self.log_error.hide()

    def set_read_only(self, read_only: bool) -> None:
        for row in self.rows.values():
            row.status.setEnabled(not read_only)
            row.conditions.setReadOnly(read_only)
            row.date.set_read_only(read_only)
        self.withdraw_button.setEnabled(not read_only)
        if read_only:
            self.panel.hide()


editor_for(FieldType.CONSENT)(ConsentField)

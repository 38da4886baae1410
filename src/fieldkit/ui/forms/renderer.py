"""The form renderer: :class:`FormEditor` shows any template of ``resources/forms/`` for editing.

Sections are listed on the left and stacked on the right; conditional fields and computed values
follow the entries live; validation comes from the domain (``validate_record``) and each issue is
shown under the field it names. Saving makes a new revision through the records service; an edit
based on an old revision gets a clear "changed elsewhere" message and the entries stay in the form.

Entry points for the main window::

    editor = FormEditor(services, "visit")                    # a new visit
    editor = FormEditor(services, "interview", record_id=id)  # the next revision of a record
    editor.saved.connect(...)             # (record_id, revision)
    if editor.maybe_leave(): ...          # asks about unsaved changes (through ui/dialogs.py)
    editor.clear()                        # on lock: forget every entry

``services`` is anything with a ``records`` attribute (a ``RecordService``) and optionally an
``evidence`` attribute (an ``EvidenceService``) for evidence links; a ``RecordService`` itself is
accepted too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError, RecordValidationError, ValidationIssue
from fieldkit.domain.forms import FieldType, FormTemplate, Section, load_template
from fieldkit.domain.records import compute
from fieldkit.domain.validation import condition_holds, validate_record
from fieldkit.i18n import _, current, ngettext
from fieldkit.ui import dialogs
from fieldkit.ui.forms.common import ERROR_STYLE, plain_label, text_of, translate_reason
from fieldkit.ui.forms.fields import (
    ComputedField,
    FieldsForm,
    FieldWidget,
    FormContext,
    split_path,
)
from fieldkit.ui.forms.linked import LinkedValues, ServicesRefProvider, records_service

log = logging.getLogger(__name__)

# How long after the last keystroke the form re-checks itself once problems are on show.
TIME_REVALIDATE_MS = 300


class FormEditor(QWidget):
    """Edit one record of any form template.

    Emits:
        saved(str record_id, int revision): a revision was written.
        dirty_changed(bool): the form now has (or no longer has) unsaved changes.
        edited(): the person changed an entry (drafts are written a little later).
    """

    saved = Signal(str, int)
    dirty_changed = Signal(bool)
    edited = Signal()

    def __init__(
        self,
        services: Any,
        form_id: str,
        record_id: str | None = None,
        parent: QWidget | None = None,
        *,
        template: FormTemplate | None = None,
        initial: Mapping[str, Any] | None = None,
        case_id: str | None = None,
        read_only: bool = False,
        ref_provider: Any = None,
        create_ref: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("formEditor")
        self.services = services
        self.record_id = record_id
        self.revision = 0
        self.read_only = read_only
        self._dirty = False
        self._loading = True
        self._issues_shown = False
        data: Mapping[str, Any] = dict(initial or {})
        confidential = False
        if record_id is not None:
            record = records_service(services).get(record_id)
            self.record_id = record.id
            self.revision = record.revision
            data = dict(record.data)
            confidential = bool(record.confidential)
            form_id = record.template_id
            if template is None:
                template = _template_version(record.template_id, record.template_version)
        self.template: FormTemplate = template or load_template(form_id)
        self.form_id = self.template.id
        self.case_id = case_id
        self.ctx = FormContext(
            refs=ref_provider or ServicesRefProvider(services, case_id), read_only=read_only
        )
        # A time typed without a date takes the form's own date (the date of the visit).
        self.ctx.extra["default_date"] = self.form_date
        if create_ref is not None:
            # ``create_ref(editor, fdef, done)``: make the referenced record in its own window.
            self.ctx.create = lambda fdef, done: create_ref(self, fdef, done)
        self._build()
        self.confidential.setChecked(confidential)
        self.set_value(data)
        # Values taken from a linked record (the facility's type): read-only while it has one.
        self.linked = LinkedValues(self, services)
        self._loading = False
        self._set_dirty(False)
        self._revalidate_timer = QTimer(self)
        self._revalidate_timer.setSingleShot(True)
        self._revalidate_timer.setInterval(TIME_REVALIDATE_MS)
        self._revalidate_timer.timeout.connect(self._on_revalidate_timeout)

    # --- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.title = plain_label("", self)
        self.title.setObjectName("formTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() + 3)
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.title, 1)
        self.confidential = QCheckBox(_("Confidential record"), self)
        self.confidential.setObjectName("confidential")
        self.confidential.setToolTip(
            _(
                "The whole record is confidential: it is left out of anything shared beyond the "
                "organisation unless someone decides otherwise."
            )
        )
        header.addWidget(self.confidential)
        layout.addLayout(header)
        self.banner = plain_label("", self)
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            ERROR_STYLE + " background: #fdecea; padding: 6px; border-radius: 3px;"
        )
        self.banner.hide()
        layout.addWidget(self.banner)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.nav = QListWidget(splitter)
        self.nav.setObjectName("formSections")
        self.nav.setMaximumWidth(240)
        self.nav.setWordWrap(True)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = QScrollArea(splitter)
        self.scroll_area.setObjectName("formScroll")
        self.scroll_area.setWidgetResizable(True)
        body = QWidget(self.scroll_area)
        body_layout = QVBoxLayout(body)
        self.sections: list[tuple[Section, QGroupBox, FieldsForm, QListWidgetItem]] = []
        for section in self.template.sections:
            box = QGroupBox(text_of(section.label), body)
            box.setObjectName(f"section_{section.id}")
            box_layout = QVBoxLayout(box)
            if section.help is not None:
                help_label = plain_label(text_of(section.help), box)
                help_label.setWordWrap(True)
                box_layout.addWidget(help_label)
            form = FieldsForm(section.fields, self.ctx, parent_scope=self, parent=box)
            box_layout.addWidget(form)
            body_layout.addWidget(box)
            item = QListWidgetItem(text_of(section.label), self.nav)
            item.setData(Qt.ItemDataRole.UserRole, section.id)
            form.changed.connect(self._on_form_changed)
            self.sections.append((section, box, form, item))
        body_layout.addStretch(1)
        self.scroll_area.setWidget(body)
        splitter.addWidget(self.nav)
        splitter.addWidget(self.scroll_area)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 700])
        layout.addWidget(splitter, 1)

        buttons = QHBoxLayout()
        self.status = plain_label("", self)
        self.status.setObjectName("formStatus")
        buttons.addWidget(self.status, 1)
        self.check_button = QPushButton(_("Check entries"), self)
        self.check_button.setObjectName("formCheck")
        self.save_button = QPushButton(_("Save"), self)
        self.save_button.setObjectName("formSave")
        self.save_button.setDefault(True)
        self.save_button.setToolTip(_("Save a new revision (Ctrl+S)"))
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.button_row = buttons
        shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)

        self.nav.currentItemChanged.connect(self._on_nav_changed)
        self.save_button.clicked.connect(self.save)
        self.check_button.clicked.connect(self.check)
        self.confidential.toggled.connect(self._on_form_changed)
        if self.read_only:
            self.save_button.hide()
            self.check_button.hide()
            self.confidential.setEnabled(False)
        self._update_title()

    def _update_title(self) -> None:
        name = text_of(self.template.label)
        if self.record_id is None:
            text = _("New: {form}").format(form=name)
        else:
            text = _("{form} · revision {revision}").format(form=name, revision=self.revision)
        self.title.setText(text)
        if self.read_only:
            self.status.setText(_("Read-only"))
        elif self._dirty:
            self.status.setText(_("Unsaved changes"))
        elif self.record_id is not None:
            self.status.setText(_("Saved"))
        else:
            self.status.setText("")

    # --- scope: the top level spans every section ---------------------------------------------

    def lookup(self, name: str) -> tuple[bool, Any]:
        for section, _box, form, _item in self.sections:
            row = form.rows.get(name)
            if row is not None:
                if not row.visible or not self._section_visible(section):
                    return True, None
                return True, row.editor.value()
        return False, None

    def _section_visible(self, section: Section) -> bool:
        if section.show_if is None:
            return True
        _found, value = self.lookup(section.show_if.field)
        return condition_holds(section.show_if, value)

    # --- values -------------------------------------------------------------------------------

    def value(self) -> dict[str, Any]:
        """The entered data as the records service takes it (hidden fields left out)."""
        data: dict[str, Any] = {}
        for section, _box, form, _item in self.sections:
            if self._section_visible(section):
                data.update(form.value())
        return data

    def set_value(self, data: Mapping[str, Any]) -> None:
        was_loading = self._loading
        self._loading = True
        try:
            for _section, _box, form, _item in self.sections:
                form.set_value(dict(data))
            linked: LinkedValues | None = getattr(self, "linked", None)
            if linked is not None:
                linked.update_all()
            self.refresh()
        finally:
            self._loading = was_loading

    def restore_draft(
        self, data: Mapping[str, Any], confidential: bool, base_revision: int | None
    ) -> None:
        """Load a draft's entries over the record: unsaved, and saved against the revision the
        draft started from (a newer revision saved meanwhile is then reported, not overwritten)."""
        self.set_value(data)
        with QSignalBlocker(self.confidential):
            self.confidential.setChecked(confidential)
        if base_revision is not None and self.record_id is not None:
            self.revision = base_revision
        self._set_dirty(True)

    def editor(self, path: str) -> FieldWidget:
        """The editor of a field by its path (``areas[1].floor_area_m2``); for the main window
        and tests."""
        head, _index, _rest = split_path(path)
        for _section, _box, form, _item in self.sections:
            if head in form.rows:
                return form.editor(path)
        raise KeyError(path)

    def form_date(self) -> date | None:
        """The form's own date: its first top-level date field holding a whole date."""
        for fdef in self.template.fields:
            if fdef.type is not FieldType.DATE:
                continue
            try:
                value = self.editor(fdef.id).value()
            except KeyError:
                continue
            text = value.get("value") if isinstance(value, dict) else value
            try:
                return date.fromisoformat(str(text or ""))
            except ValueError:
                continue
        return None

    def form_of(self, field_id: str) -> FieldsForm:
        for _section, _box, form, _item in self.sections:
            if field_id in form.rows:
                return form
        raise KeyError(field_id)

    def is_shown(self, path: str) -> bool:
        """Whether a field is on show (its section and its own condition hold)."""
        head, index, rest = split_path(path)
        for section, _box, form, _item in self.sections:
            if head in form.rows:
                if not self._section_visible(section) or not form.is_shown(head):
                    return False
                if rest is None:
                    return True
                editor = form.rows[head].editor
                sub_form = getattr(editor, "form", None)
                rows = getattr(editor, "rows", None)
                if rows is not None and index is not None:
                    sub_form = rows[index].form
                return sub_form is not None and sub_form.is_shown(split_path(rest)[0])
        return False

    def refresh(self) -> None:
        """Apply conditions, then show the computed values the domain works out."""
        for section, box, form, item in self.sections:
            form.refresh()
            visible = self._section_visible(section)
            box.setVisible(visible)
            item.setHidden(not visible)
        try:
            values = compute(self.form_id, self.value(), template=self.template)
        except Exception:  # the per-scope values shown by the forms stay
            log.debug("computed values unavailable for this entry")
            return
        for path, result in values.items():
            try:
                editor = self.editor(path)
            except (KeyError, IndexError):
                continue
            if isinstance(editor, ComputedField):
                editor.show_result(result)

    # --- dirty flag and leaving ---------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, dirty: bool) -> None:
        changed = dirty != self._dirty
        self._dirty = dirty
        self._update_title()
        if changed:
            self.dirty_changed.emit(dirty)

    def _on_form_changed(self) -> None:
        if self._loading:
            return
        self.refresh()
        if not self.read_only:
            self._set_dirty(True)
            self.edited.emit()
        if self._issues_shown:
            self._revalidate_timer.start()

    def _on_revalidate_timeout(self) -> None:
        self.check(scroll=False)

    def maybe_leave(self) -> bool:
        """True when the form may close: nothing unsaved, or the person saved or discarded."""
        if not self._dirty or self.read_only:
            return True
        choice = dialogs.choose(
            self,
            _("Unsaved changes"),
            _("This form has changes that are not saved yet. Save them before leaving?"),
            [("save", _("Save")), ("discard", _("Discard changes")), ("cancel", _("Cancel"))],
            default="save",
            cancel="cancel",
        )
        if choice == "save":
            return self.save()
        if choice == "discard":
            self._set_dirty(False)
            return True
        return False

    # --- validation ---------------------------------------------------------------------------

    def issues(self) -> list[ValidationIssue]:
        try:
            validate_record(self.form_id, self.value(), template=self.template)
        except RecordValidationError as exc:
            return exc.issues
        return []

    def check(self, scroll: bool = True) -> bool:
        """Validate and show every problem next to its field; True when there is none."""
        found = self.issues()
        self.show_issues(found, scroll=scroll)
        return not found

    def clear_issues(self) -> None:
        for section, _box, form, item in self.sections:
            form.clear_issues()
            item.setForeground(QBrush())
            item.setText(text_of(section.label))
        self.banner.hide()
        self._issues_shown = False

    def show_issues(self, issues: list[ValidationIssue], scroll: bool = True) -> None:
        self.clear_issues()
        if not issues:
            return
        self._issues_shown = True
        unplaced: list[str] = []
        for issue in issues:
            head, _index, _rest = split_path(issue.field)
            placed = False
            for _section, _box, form, _item in self.sections:
                if head in form.rows:
                    placed = form.show_issue(issue.field, issue.reason)
                    break
            if not placed:
                unplaced.append(f"{issue.field}: {translate_reason(issue.reason)}")
        first: QWidget | None = None
        for section, _box, form, item in self.sections:
            count = form.issue_count()
            if count:
                item.setText(f"{text_of(section.label)} ({count})")
                item.setForeground(QBrush(QColor("#b00020")))
                if first is None:
                    first = form.first_issue_widget()
        lines = [
            ngettext(
                "{count} entry needs attention; see the fields marked in red.",
                "{count} entries need attention; see the fields marked in red.",
                len(issues),
            ).format(count=len(issues))
        ]
        lines.extend(unplaced)
        self.banner.setText("\n".join(lines))
        self.banner.show()
        if scroll and first is not None:
            self.scroll_area.ensureWidgetVisible(first, 20, 40)

    # --- saving -------------------------------------------------------------------------------

    def save(self) -> bool:
        """Validate and save a revision; True on success (``saved`` is emitted)."""
        if self.read_only:
            return False
        self._revalidate_timer.stop()
        if not self.check():
            return False
        data = self.value()
        records = records_service(self.services)
        try:
            if self.record_id is None:
                record = records.add(self.form_id, data, confidential=self.confidential.isChecked())
            else:
                record = records.update(
                    self.record_id,
                    data,
                    self.revision,
                    confidential=self.confidential.isChecked(),
                )
        except RecordValidationError as exc:
            self.show_issues(exc.issues)
            return False
        except FieldkitError as exc:
            message = exc.message(current())
            self.banner.setText(message)
            self.banner.show()
            if exc.code == ErrorCode.STALE_REVISION:
                dialogs.warn(
                    self,
                    _("Changed elsewhere"),
                    message,
                    _(
                        "Nothing was saved and your entries are still in this form. Copy what you "
                        "need, close the form and open the record again to see the newer "
                        "revision."
                    ),
                )
            else:
                dialogs.error(self, _("Not saved"), message)
            return False
        self.record_id = record.id
        self.revision = record.revision
        self.clear_issues()
        self._set_dirty(False)
        self._update_title()
        self.saved.emit(record.id, record.revision)
        return True

    # --- lock ---------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every entry (on lock); the editor must be rebuilt to be used again."""
        self._revalidate_timer.stop()
        self._loading = True
        for _section, _box, form, _item in self.sections:
            form.clear()
        self.banner.clear()
        self.banner.hide()
        self._dirty = False
        self.setEnabled(False)

    # --- navigation ---------------------------------------------------------------------------

    def _on_nav_changed(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        for section, box, _form, _item in self.sections:
            if section.id == item.data(Qt.ItemDataRole.UserRole):
                self.scroll_area.verticalScrollBar().setValue(box.y())
                return


def _template_version(template_id: str, version: Any) -> FormTemplate:
    try:
        return load_template(template_id, int(version))
    except (TypeError, ValueError):
        return load_template(template_id)
    except FieldkitError:
        log.debug("template version missing; using the current one")
        return load_template(template_id)

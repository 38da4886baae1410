"""The main window's actions, menus and toolbar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QMenu,
)

from fieldkit.domain.profile import Role
from fieldkit.i18n import _
from fieldkit.ui.common import (
    RECORD_TYPES,
    short_type_name,
)
from fieldkit.ui.main_list import RecordListPanel
from fieldkit.ui.main_windows import OtherWindows


class MenuActions(RecordListPanel, OtherWindows):
    """The actions (with shortcuts and tips), the menu bar and the toolbar."""

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
        self.action_protection = self._action(
            "actionProtection",
            _("Protection at &unlock…"),
            self.open_protection,
            tip=_("Erase after failed unlocks, and a duress passphrase (both off unless set)"),
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
        profile_menu.addAction(self.action_protection)
        profile_menu.addSeparator()
        profile_menu.addAction(self.action_erase_profile)

        help_menu = bar.addMenu(_("&Help"))
        help_menu.setObjectName("menuHelp")
        help_menu.addAction(self.action_about)
        from fieldkit.ui.guide import install_guide_action

        install_guide_action(self, help_menu, before=self.action_about)

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

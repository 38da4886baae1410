"""The windows and dialogs the main window opens: review, reports, bundles, trust, profile tools."""

from __future__ import annotations

from typing import Any

from fieldkit.domain.profile import Role
from fieldkit.i18n import _
from fieldkit.ui import dialogs
from fieldkit.ui.main_base import MainWindowBase
from fieldkit.ui.messages import show_error
from fieldkit.ui.settings import AppSettings


class OtherWindows(MainWindowBase):
    """Opening the other windows from the menus."""

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

    def open_protection(self) -> Any:
        """Profile → Protection at unlock: erase after failed unlocks, the duress passphrase."""
        from fieldkit.ui.protection import ProtectionDialog

        dialog = ProtectionDialog(self.vault, self.runner, self)
        self.protection_dialog = dialog
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

        dialog = TrustDialog(self.vault, self.runner, self.clipboard, self)
        dialog.finished.connect(lambda _r: self.update_welcome())
        dialogs.show_dialog(dialog)

    def open_enrolment(self) -> None:
        from fieldkit.ui.bundles import EnrolDialog

        dialog = EnrolDialog(self.vault, self.runner, self.clipboard, self)
        dialog.finished.connect(lambda _r: self.update_enrolment())
        dialogs.show_dialog(dialog)

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

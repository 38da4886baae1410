"""Bundles in the desktop program: export (monitor), import with a verification report
(coordinator), organisation keys and trusted devices with the comparison code, enrolment,
receipts.

Every slow step runs as a :class:`Task` with progress and cancel; every file and message dialog
goes through ``ui/dialogs.py``. Text from a bundle (file names, labels) is shown as plain text.
"""

from __future__ import annotations

from fieldkit.ui.bundles.common import alarm_text, code_label, held_text
from fieldkit.ui.bundles.enrol import EnrolDialog, ReceiptsDialog, apply_receipt_interactively
from fieldkit.ui.bundles.export import ExportWizard
from fieldkit.ui.bundles.importing import BundleReportTable, ImportWizard, report_details
from fieldkit.ui.bundles.trust import TrustDialog

__all__ = [
    "BundleReportTable",
    "EnrolDialog",
    "ExportWizard",
    "ImportWizard",
    "ReceiptsDialog",
    "TrustDialog",
    "alarm_text",
    "apply_receipt_interactively",
    "code_label",
    "held_text",
    "report_details",
]

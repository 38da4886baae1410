"""What the bundle windows share: texts for stages, statuses and alarms, and small widgets."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from fieldkit.i18n import N_, _
from fieldkit.ui.common import plain_label, short_id
from fieldkit.ui.fonts import monospace_font

log = logging.getLogger(__name__)


BUNDLE_FILTER = N_("fieldkit bundles (*.fkb *.age);;All files (*)")
STAGE_TEXTS = {
    "records": N_("Collecting records…"),
    "evidence": N_("Adding evidence originals…"),
    "encrypting": N_("Encrypting…"),
    "writing": N_("Writing the bundle…"),
    "decrypting": N_("Decrypting…"),
    "verifying": N_("Checking signatures and checksums…"),
    "importing": N_("Importing…"),
}
STATUS_TEXTS = {
    "imported": N_("imported"),
    "flagged": N_("imported, flagged"),
    "already_imported": N_("already imported"),
    "verified": N_("verified"),
    "refused": N_("REFUSED"),
}
# One text per alarm kind (``list_alarms`` items carry ``kind``): an equivocation is two different
# bundles with one number; a fork is a bundle that does not continue the chain already imported.
ALARM_TEXTS = {
    "equivocation": N_(
        "ALARM: device {label} sent two different bundles numbered {seq}. Its key may be "
        "cloned or stolen: revoke it and talk to the monitor in person."
    ),
    "fork": N_(
        "ALARM: bundle {seq} of device {label} does not continue the chain of bundles already "
        "imported from it, so two different histories exist. Its key may be cloned or stolen: "
        "revoke it and talk to the monitor in person."
    ),
    "foreign_claim": N_(
        "ALARM: bundle {seq} of device {label} claims records of another device and was "
        "refused. The device may be in the wrong hands: revoke it and talk to the monitor in "
        "person."
    ),
}
ALARM_UNKNOWN_KIND = N_(
    "ALARM ({kind}): device {label}, bundle {seq}. Its key may be cloned or stolen: revoke it "
    "and talk to the monitor in person."
)
CHAIN_TEXTS = {
    "first": N_("first bundle of this device"),
    "linked": N_("follows the previous bundle"),
    "pending": N_("an earlier bundle is missing"),
}


def mono(widget: QWidget, scale: float = 1.0) -> None:
    font = monospace_font()
    if scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    widget.setFont(font)


def stage_text(stage: str) -> str:
    text = STAGE_TEXTS.get(stage)
    return _(text) if text else _("Working…")


def progress_value(bar: QProgressBar, done: int, total: int) -> None:
    if total <= 0:
        bar.setRange(0, 0)
        return
    bar.setRange(0, 1000)
    bar.setValue(int(1000 * min(done, total) / total))


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def alarm_text(alarm: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """One alarm from ``list_alarms`` in words, by its kind; the device by its label if known."""
    device_id = str(alarm.get("device_id") or "")
    label = (labels or {}).get(device_id) or short_id(device_id) or "?"
    kind = str(alarm.get("kind") or "")
    template = ALARM_TEXTS.get(kind)
    if template is None:
        return _(ALARM_UNKNOWN_KIND).format(kind=kind or "?", label=label, seq=alarm.get("seq"))
    return _(template).format(label=label, seq=alarm.get("seq"))


def held_text(held: dict[str, Any]) -> str:
    """One held bundle from ``list_quarantined`` in words; the reason comes from the service."""
    from fieldkit.services.bundles import held_reason_text

    return _("No. {id} · {name}: {reason} (received {when})").format(
        id=held.get("id"),
        name=held.get("file_name") or "?",
        reason=held_reason_text(str(held.get("reason") or "")),
        when=str(held.get("received_at") or "")[:16].replace("T", " "),
    )


def code_label(code: str, object_name: str) -> QLineEdit:
    """The comparison code, large, monospaced and selectable."""
    edit = QLineEdit(code)
    edit.setObjectName(object_name)
    edit.setReadOnly(True)
    edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
    mono(edit, 1.6)
    edit.setMinimumWidth(420)
    return edit


class RunPage(QWizardPage):
    """Runs one task when shown; complete when the task has finished."""

    def __init__(self, wizard: QWizard, title: str) -> None:
        super().__init__(wizard)
        self.setTitle(title)
        self.setCommitPage(True)
        layout = QVBoxLayout(self)
        self.stage_label = plain_label("", "runStageLabel")
        layout.addWidget(self.stage_label)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("runProgressBar")
        self.bar.setRange(0, 1000)
        layout.addWidget(self.bar)
        self.cancel_button = QPushButton(_("Cancel"), self)
        self.cancel_button.setObjectName("runCancelButton")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(1)
        self.done = False

    def isComplete(self) -> bool:
        return self.done

    def mark_done(self) -> None:
        self.done = True
        self.cancel_button.setEnabled(False)
        self.completeChanged.emit()


def mono_item(item: QTableWidgetItem) -> None:
    font = monospace_font()
    item.setFont(QFont(font))


def qcolor(name: str) -> Any:
    from PySide6.QtGui import QColor

    return QColor(name)

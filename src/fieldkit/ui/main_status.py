"""The main window's status bar: role, enrolment state and the busy indicator."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
)

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import _
from fieldkit.ui.main_base import MainWindowBase


class StatusIndicators(MainWindowBase):
    """What the status bar says permanently."""

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

"""Small helpers shared by the form widgets: labels in the current language, badges, reasons."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from fieldkit.domain.common import Labels
from fieldkit.domain.forms import FieldDef, Sensitivity
from fieldkit.i18n import N_, _, current, ngettext

ERROR_STYLE = "color: #b00020;"
ERROR_BORDER_STYLE = "border: 1px solid #b00020;"

_BADGE_TIPS: dict[Sensitivity, str] = {
    Sensitivity.ID: N_("Identifying: this can identify a person, directly or indirectly."),
    Sensitivity.SENS: N_("Sensitive: health, sexual violence, beliefs, whereabouts and the like."),
    Sensitivity.R: N_("Restricted: names of alleged perpetrators and similar legal risks."),
}
_BADGE_COLOURS: dict[Sensitivity, str] = {
    Sensitivity.ID: "#8a4b00",
    Sensitivity.SENS: "#8a0050",
    Sensitivity.R: "#4b3a8a",
}


def language() -> str:
    """The interface language (en, uk or ru)."""
    return current().language


def text_of(labels: Labels | None) -> str:
    return labels.get(language()) if labels is not None else ""


def label_of(field: FieldDef) -> str:
    return field.label.get(language())


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that never interprets its text as rich text (record content may be hostile)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def sensitivity_badges(field: FieldDef, parent: QWidget | None = None) -> QWidget | None:
    """A row of small ID/SENS/R badges, or None when the field is not marked."""
    if not field.sensitivity:
        return None
    box = QWidget(parent)
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(3)
    for tag in field.sensitivity:
        badge = plain_label(tag.value, box)
        badge.setObjectName(f"badge_{tag.value}")
        badge.setToolTip(_(_BADGE_TIPS[tag]))
        badge.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        badge.setStyleSheet(
            f"QLabel {{ color: white; background: {_BADGE_COLOURS[tag]}; border-radius: 3px;"
            " padding: 0px 3px; font-size: 8pt; font-weight: bold; }"
        )
        layout.addWidget(badge)
    return box


# Validation reasons come from the domain in English; the common ones are translated here so a
# monitor sees them in the interface language. Anything else is shown as it is.
_REASONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^required$"), lambda m: _("This field is required.")),
    (re.compile(r"^must be a number$"), lambda m: _("Enter a number.")),
    (re.compile(r"^must be a whole number$"), lambda m: _("Enter a whole number.")),
    (
        re.compile(r"^must be a number between (\S+) and (\S+)$"),
        lambda m: _("Enter a number between {low} and {high}.").format(
            low=m.group(1), high=m.group(2)
        ),
    ),
    (
        re.compile(r"^must be at least (\S+)$"),
        lambda m: _("Enter at least {low}.").format(low=m.group(1)),
    ),
    (
        re.compile(r"^must be at most (\d+) characters$"),
        lambda m: _("Use at most {count} characters.").format(count=m.group(1)),
    ),
    (
        re.compile(r"^must be at most (\S+)$"),
        lambda m: _("Enter at most {high}.").format(high=m.group(1)),
    ),
    (
        re.compile(r"^date must be (.+) for precision (\S+)$"),
        lambda m: _("For this precision write the date as {shape}.").format(shape=m.group(1)),
    ),
    (
        re.compile(r"^date must be YYYY-MM-DD, YYYY-MM or YYYY$"),
        lambda m: _("Write the date as YYYY-MM-DD, YYYY-MM or YYYY."),
    ),
    (re.compile(r"^date is in the future$"), lambda m: _("The date is in the future.")),
    (
        re.compile(r"^date and time is in the future$"),
        lambda m: _("The date and time are in the future."),
    ),
    (re.compile(r"^year must be 1800 or later$"), lambda m: _("The year must be 1800 or later.")),
    (re.compile(r"^'.*' is not a real date.*$"), lambda m: _("This is not a real date.")),
    (re.compile(r"^must be a time like 14:30$"), lambda m: _("Write the time as HH:MM.")),
    (
        re.compile(r"^must be a pseudonym code like W-017.*$"),
        lambda m: _(
            "Use a pseudonym code like W-017 (capital letters, hyphen, digits), not a name."
        ),
    ),
    (re.compile(r"^must be a single line$"), lambda m: _("Use a single line.")),
    (
        re.compile(r"^contains control characters$"),
        lambda m: _("Contains invisible control characters."),
    ),
    (
        re.compile(r"^'.*' is not in vocabulary \S+$"),
        lambda m: _("Choose one of the listed values."),
    ),
    (re.compile(r"^'.*' is chosen twice$"), lambda m: _("A value is chosen twice.")),
    (
        re.compile(r"^needs at least (\d+) entries$"),
        lambda m: ngettext(
            "Add at least {count} entry.", "Add at least {count} entries.", int(m.group(1))
        ).format(count=m.group(1)),
    ),
    (
        re.compile(r"^allows at most (\d+) entries$"),
        lambda m: ngettext(
            "At most {count} entry is allowed.",
            "At most {count} entries are allowed.",
            int(m.group(1)),
        ).format(count=m.group(1)),
    ),
    (
        re.compile(r"^must be a date and time like .*$"),
        lambda m: _("Enter a date and time."),
    ),
    (
        re.compile(r"^scope '.*' is listed twice$"),
        lambda m: _("This scope is listed twice."),
    ),
    (
        re.compile(r"^scope '.*' has no consent entry to withdraw or change$"),
        lambda m: _("This scope has no consent decision to withdraw or change."),
    ),
    (re.compile(r"^must be a record id \(UUID\)$"), lambda m: _("Choose a record from the list.")),
    (re.compile(r"^is listed twice$"), lambda m: _("This record is listed twice.")),
]


def translate_reason(reason: str) -> str:
    """The validation reason in the interface language (common reasons), else as given."""
    for pattern, render in _REASONS:
        match = pattern.match(reason)
        if match:
            return render(match)
    return reason[:1].upper() + reason[1:]

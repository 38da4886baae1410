"""The read-only editor of a computed value (areas, CPT flags, delays), updated as fields change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QWidget,
)

from fieldkit.domain import living_space
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.domain.formulas import FORMULAS, describe_computed
from fieldkit.i18n import _, current
from fieldkit.ui.forms.base import (
    FieldWidget,
    FormContext,
    editor_for,
)
from fieldkit.ui.forms.common import (
    plain_label,
)
from fieldkit.ui.forms.inputs import format_number

# --- computed ---------------------------------------------------------------------------------


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)
    return _("{minutes} min").format(minutes=rest)


def format_day(iso: str) -> str:
    """An ISO day as the interface language writes it (19.11.2026 in uk and ru)."""
    parts = iso.split("-")
    if current().language in ("uk", "ru") and len(parts) == 3:
        return ".".join(reversed(parts))
    return iso


TONE_STYLES = {
    "bad": "color: #b00020; font-weight: bold;",
    "warn": "color: #8a4b00; font-weight: bold;",
    "good": "color: #1b5e20;",
}


class ComputedField(FieldWidget):
    """A read-only value worked out from other fields of the same scope, updated as they change."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.display = plain_label("—", self)
        self.display.setObjectName(f"computed_{fdef.id}")
        # A verdict with its reasons is a sentence: it wraps instead of widening the form.
        self.display.setWordWrap(True)
        self.display.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.display, 1)
        self.result: Any = None
        self.flagged = False
        self.inputs: dict[str, Any] = {}

    def value(self) -> Any:
        return None  # never part of the entered data

    def set_value(self, value: Any) -> None:
        pass

    def update_from(self, lookup: Callable[[str], Any]) -> None:
        """Work the value out from the fields of the same scope (``lookup`` gives raw values)."""
        formula = FORMULAS.get(self.fdef.formula or "")
        if formula is None:
            return
        kwargs = {name: lookup(source) for name, source in (self.fdef.inputs or {}).items()}
        try:
            result = formula.function(**kwargs)
        except Exception:  # a formula must not break the form; show "not available"
            result = None
        self.inputs = kwargs
        self.show_result(result)

    def show_result(self, result: Any) -> None:
        """Display a computed value (None: cannot be computed from what is entered)."""
        formula = FORMULAS.get(self.fdef.formula or "")
        self.result = result
        self.flagged = False
        style = ""
        words = (
            describe_computed(formula.name, result, self.inputs, current(), format_number)
            if formula is not None
            else None
        )
        if result is None or formula is None:
            text = "—"
        elif words is not None:
            text, tone = words
            # "flagged": the value shows a failed standard (a CPT check, occupants over places).
            self.flagged = tone == "bad"
            style = TONE_STYLES.get(tone or "", "")
        elif formula.result == "date":
            text = format_day(str(result))
        elif formula.result == "int" and formula.name.endswith("_minutes"):
            text = format_minutes(int(result))
        else:
            text = format_number(result)
            if self.fdef.unit:
                text = f"{text} {_(self.fdef.unit)}"
            if formula.name == "space_per_person":
                # The floor area was not entered: say it was worked out from the walls.
                note = living_space.explain_derived_area(self.inputs, current(), format_number)
                if note:
                    text = f"{text} ({note})"
        self.display.setText(text)
        if self.display.styleSheet() != style:  # restyling on every keystroke is costly
            self.display.setStyleSheet(style)


editor_for(FieldType.COMPUTED)(ComputedField)

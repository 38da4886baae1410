"""Shared building blocks: labels, dates with precision, body-map marks, consent.

Dates carry a precision qualifier after HURIDOCS micro-thesaurus 48 ("Types of dates":
Estimate / Unknown day / Unknown month and day). A date is stored as
``{"value": ..., "precision": ...}`` where the shape of ``value`` follows the precision:

=============== ============================ ================================
precision        value                        meaning
=============== ============================ ================================
exact            ``YYYY-MM-DD``               known to the day
estimated        ``YYYY-MM-DD``/``YYYY-MM``/  approximate (MT48 "Estimate")
                 ``YYYY``
day_unknown      ``YYYY-MM``                  MT48 "Unknown day"
month_unknown    ``YYYY``                     MT48 "Unknown month and day"
=============== ============================ ================================
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fieldkit.i18n import _

LANGUAGES: tuple[str, ...] = ("en", "uk", "ru")


class Labels(BaseModel):
    """A text in each interface language; all three are required and non-empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Annotated[str, Field(min_length=1)]
    uk: Annotated[str, Field(min_length=1)]
    ru: Annotated[str, Field(min_length=1)]

    def get(self, language: str) -> str:
        """The text in ``language``; English when the language is not one of ours."""
        if language == "uk":
            return self.uk
        if language == "ru":
            return self.ru
        return self.en

    @model_validator(mode="after")
    def _not_blank(self) -> Labels:
        for language in LANGUAGES:
            if not getattr(self, language).strip():
                raise ValueError(f"label in '{language}' is blank")
        return self


class DatePrecision(StrEnum):
    EXACT = "exact"
    ESTIMATED = "estimated"
    DAY_UNKNOWN = "day_unknown"
    MONTH_UNKNOWN = "month_unknown"


# HURIDOCS MT48 "Types of dates" codes for the three qualified precisions.
DATE_PRECISION_HURIDOCS: dict[DatePrecision, str] = {
    DatePrecision.ESTIMATED: "010000000000",
    DatePrecision.DAY_UNKNOWN: "020000000000",
    DatePrecision.MONTH_UNKNOWN: "030000000000",
}

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")

_SHAPES: dict[DatePrecision, tuple[str, ...]] = {
    DatePrecision.EXACT: ("day",),
    DatePrecision.ESTIMATED: ("day", "month", "year"),
    DatePrecision.DAY_UNKNOWN: ("month",),
    DatePrecision.MONTH_UNKNOWN: ("year",),
}
_SHAPE_TEXT = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}


def _shape_of(value: str) -> str | None:
    if _DAY.match(value):
        return "day"
    if _MONTH.match(value):
        return "month"
    if _YEAR.match(value):
        return "year"
    return None


def date_bounds(value: str) -> tuple[date, date]:
    """The first and last calendar day covered by a date value of any shape.

    Raises ValueError with a monitor-readable reason when the value is not a real date.
    """
    shape = _shape_of(value)
    if shape is None:
        raise ValueError(_("date must be YYYY-MM-DD, YYYY-MM or YYYY"))
    parts = [int(p) for p in value.split("-")]
    year = parts[0]
    if year < 1800:
        raise ValueError(_("year must be 1800 or later"))
    if shape == "year":
        return date(year, 1, 1), date(year, 12, 31)
    month = parts[1]
    if not 1 <= month <= 12:
        raise ValueError(
            _("'{value}' is not a real date (month {month})").format(value=value, month=month)
        )
    last = calendar.monthrange(year, month)[1]
    if shape == "month":
        return date(year, month, 1), date(year, month, last)
    day = parts[2]
    if not 1 <= day <= last:
        raise ValueError(_("'{value}' is not a real date").format(value=value))
    exact = date(year, month, day)
    return exact, exact


def infer_precision(value: str) -> DatePrecision | None:
    """The precision a bare date string implies (``2024-03`` -> day unknown)."""
    shape = _shape_of(value)
    if shape == "day":
        return DatePrecision.EXACT
    if shape == "month":
        return DatePrecision.DAY_UNKNOWN
    if shape == "year":
        return DatePrecision.MONTH_UNKNOWN
    return None


def check_date_shape(value: str, precision: DatePrecision) -> None:
    """Raise ValueError when ``value`` does not have the shape its precision requires."""
    shape = _shape_of(value)
    allowed = _SHAPES[precision]
    if shape not in allowed:
        shapes = " / ".join(_SHAPE_TEXT[s] for s in allowed)
        raise ValueError(
            _("date must be {shapes} for precision {precision}").format(
                shapes=shapes, precision=precision.value
            )
        )
    date_bounds(value)


class PreciseDate(BaseModel):
    """A date with its precision qualifier (HURIDOCS MT48)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    precision: DatePrecision

    @model_validator(mode="after")
    def _shape(self) -> PreciseDate:
        check_date_shape(self.value, self.precision)
        return self

    @property
    def earliest(self) -> date:
        return date_bounds(self.value)[0]

    @property
    def latest(self) -> date:
        return date_bounds(self.value)[1]


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"
    CONDITIONAL = "conditional"


class ConsentScopeEntry(BaseModel):
    """Consent for one scope (vocabulary ``consent_scopes``)."""

    model_config = ConfigDict(extra="forbid")

    scope: str
    status: ConsentStatus
    conditions: str | None = None
    date: PreciseDate | None = None


class ConsentWithdrawal(BaseModel):
    """A withdrawal or change of consent, as the person communicated it."""

    model_config = ConfigDict(extra="forbid")

    date: PreciseDate
    scope: str
    new_status: ConsentStatus | None = None
    how_received: str | None = None
    actions_taken: str | None = None


class ConsentRecord(BaseModel):
    """Consent per scope with its withdrawal log (records.md §3.2, §10.5)."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[ConsentScopeEntry] = Field(default_factory=list)
    withdrawals: list[ConsentWithdrawal] = Field(default_factory=list)

    def effective_status(self, scope: str) -> ConsentStatus | None:
        """The status of ``scope`` after applying the withdrawal log in date order.

        A withdrawal without a new status means the consent is now declined.
        """
        status: ConsentStatus | None = None
        for entry in self.scopes:
            if entry.scope == scope:
                status = entry.status
        for change in sorted(self.withdrawals, key=lambda w: w.date.earliest):
            if change.scope == scope:
                status = change.new_status or ConsentStatus.DECLINED
        return status


class InjuryMark(BaseModel):
    """One injury marked on a body diagram (Istanbul Protocol 2022 annex III; records.md §3.5).

    ``x`` and ``y`` are relative positions on the diagram view, 0..1 from the top-left corner.
    Findings by non-clinicians are observations, not medical opinions.
    """

    model_config = ConfigDict(extra="forbid")

    view: str
    x: Annotated[float, Field(ge=0, le=1)]
    y: Annotated[float, Field(ge=0, le=1)]
    injury_type: str
    region: str | None = None
    side: str | None = None
    size_cm: Annotated[float, Field(ge=0, le=300)] | None = None
    shape: str | None = None
    colour: str | None = None
    reported_cause: str | None = None
    reported_date: PreciseDate | None = None
    photos: list[str] = Field(default_factory=list)
    scale_used: bool | None = None
    examined_by: str | None = None
    consistency: str | None = None  # Istanbul Protocol level, health professionals only
    notes: str | None = None


def is_empty(value: Any) -> bool:
    """True for values that mean "not filled in": None, blank strings, empty lists and objects."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return len(value) == 0
    return False

"""Record types, computed values and the index fields storage keeps for search and filters.

- :data:`RECORD_MODELS` maps each record type to its pydantic model.
- :func:`compute` evaluates the template's computed fields on (validated) data.
- :func:`with_computed` returns a copy of the data with the computed values filled in, for display,
  reports and :func:`to_model`.
- :func:`index_fields` gives the title, full-text and filter columns.
- :func:`redact` drops the fields carrying given sensitivity tags (ID, SENS, R).

Computed values are never stored as entered data: :func:`fieldkit.domain.validation.validate_record`
rejects them, and they are recomputed whenever they are needed.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from fieldkit.domain import living_space
from fieldkit.domain.case import Case
from fieldkit.domain.common import date_bounds
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText, ValidationIssue
from fieldkit.domain.facility import Facility
from fieldkit.domain.forms import (
    RECORD_TYPES,
    FieldDef,
    FieldType,
    FormTemplate,
    Sensitivity,
    children,
    load_template,
)
from fieldkit.domain.formulas import FORMULAS
from fieldkit.domain.interview import Interview
from fieldkit.domain.person import Person
from fieldkit.domain.recommendation import Recommendation
from fieldkit.domain.visit import Visit
from fieldkit.i18n import N_, _, current

RECORD_MODELS: Mapping[str, type[BaseModel]] = {
    "case": Case,
    "person": Person,
    "interview": Interview,
    "facility": Facility,
    "visit": Visit,
    "recommendation": Recommendation,
}
assert set(RECORD_MODELS) == set(RECORD_TYPES)


# Record type names for messages (the forms' own labels are longer: "Detention facility visit").
RECORD_TYPE_NAMES = {
    "case": N_("case"),
    "person": N_("person"),
    "interview": N_("interview"),
    "facility": N_("facility"),
    "visit": N_("visit"),
    "recommendation": N_("recommendation"),
}


def record_type_name(record_type: str) -> TranslatableText:
    """The record type as a word for messages, translated when the message is shown."""
    return TranslatableText(RECORD_TYPE_NAMES.get(record_type, record_type))


def model_for(record_type: str) -> type[BaseModel]:
    try:
        return RECORD_MODELS[record_type]
    except KeyError:
        raise FieldkitError(ErrorCode.TEMPLATE_UNKNOWN, template=record_type) from None


@dataclass(frozen=True)
class IndexFields:
    """What storage indexes for a record version.

    ``date_from``/``date_to`` are ISO dates (``YYYY-MM-DD``): the first and last day the record's
    dates cover, so a date known only to the month spans that month.
    """

    title: str
    text: str
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    status: str | None


def _template(form_id: str, template: FormTemplate | None) -> FormTemplate:
    return template or load_template(form_id)


def _computed_in(
    fields: list[FieldDef], data: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, Any]]:
    for f in fields:
        path = f"{prefix}{f.id}"
        if f.type == FieldType.COMPUTED and f.formula:
            formula = FORMULAS[f.formula]
            inputs = {name: data.get(source) for name, source in (f.inputs or {}).items()}
            try:
                value = formula.function(**inputs)
            except (TypeError, ValueError, ArithmeticError):
                value = None
            yield path, value
        elif f.type == FieldType.GROUP:
            value = data.get(f.id)
            if f.is_repeatable and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Mapping):
                        yield from _computed_in(f.sub_fields, item, f"{path}[{i}].")
            elif isinstance(value, Mapping):
                yield from _computed_in(f.sub_fields, value, f"{path}.")


def compute(
    form_id: str, data: Mapping[str, Any], *, template: FormTemplate | None = None
) -> dict[str, Any]:
    """Every computed value of the record, keyed by path (``areas[0].area_per_person``).

    A value is None when its inputs are missing, zero or inconsistent.
    """
    tpl = _template(form_id, template)
    return dict(_computed_in(tpl.fields, data, ""))


def _fill(fields: list[FieldDef], data: dict[str, Any]) -> None:
    for f in fields:
        if f.type == FieldType.COMPUTED and f.formula:
            inputs = {name: data.get(source) for name, source in (f.inputs or {}).items()}
            value = FORMULAS[f.formula].function(**inputs)
            if value is not None:
                data[f.id] = value
        elif f.type == FieldType.GROUP:
            value = data.get(f.id)
            if f.is_repeatable and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        _fill(f.sub_fields, item)
            elif isinstance(value, dict):
                _fill(f.sub_fields, value)


def with_computed(
    form_id: str, data: Mapping[str, Any], *, template: FormTemplate | None = None
) -> dict[str, Any]:
    """A deep copy of ``data`` with the computed values that could be computed filled in."""
    tpl = _template(form_id, template)
    result = copy.deepcopy(dict(data))
    _fill(tpl.fields, result)
    return result


def to_model(
    form_id: str, data: Mapping[str, Any], *, template: FormTemplate | None = None
) -> BaseModel:
    """Validated data (plus computed values) as the record type's pydantic model."""
    tpl = _template(form_id, template)
    return model_for(tpl.record_type).model_validate(with_computed(form_id, data, template=tpl))


def _texts(fields: list[FieldDef], data: Mapping[str, Any]) -> Iterator[str]:
    for f in fields:
        value = data.get(f.id)
        if value is None:
            continue
        if f.type in (FieldType.TEXT, FieldType.LONGTEXT) and isinstance(value, str):
            yield value
        elif f.type == FieldType.GROUP:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Mapping):
                    yield from _texts(f.sub_fields, item)
        elif f.type == FieldType.BODY_MAP and isinstance(value, list):
            for mark in value:
                if isinstance(mark, Mapping):
                    for key in ("shape", "colour", "reported_cause", "notes"):
                        if isinstance(mark.get(key), str):
                            yield mark[key]


def _day(value: Any, *, last: bool) -> str | None:
    """The first (or last) ISO day covered by a date-with-precision or a date-time value."""
    if isinstance(value, Mapping):
        raw = value.get("value")
        if not isinstance(raw, str):
            return None
        try:
            bounds = date_bounds(raw)
        except ValueError:
            return None
        return (bounds[1] if last else bounds[0]).isoformat()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date().isoformat()
        except ValueError:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                return None
    return None


def index_fields(
    form_id: str, data: Mapping[str, Any], *, template: FormTemplate | None = None
) -> IndexFields:
    """Title, full-text and filter values of one record (validated data)."""
    tpl = _template(form_id, template)
    title_value = data.get(tpl.title_field)
    title = title_value if isinstance(title_value, str) else ""
    text = "\n".join(unicodedata.normalize("NFC", t) for t in _texts(tpl.fields, data) if t)
    spec = tpl.index
    facility = data.get(spec.facility_id) if spec.facility_id else None
    status = data.get(spec.status) if spec.status else None
    return IndexFields(
        title=title,
        text=text,
        facility_id=facility if isinstance(facility, str) else None,
        date_from=_day(data.get(spec.date_from), last=False) if spec.date_from else None,
        # A visit of one day has no last day of its own: its date is the last day too.
        date_to=(_day(data.get(spec.date_to), last=True) if spec.date_to else None)
        or (_day(data.get(spec.date_to_default), last=True) if spec.date_to_default else None),
        status=status if isinstance(status, str) else None,
    )


def _redacted(
    fields: list[FieldDef], data: Mapping[str, Any], hide: frozenset[Sensitivity]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    by_id = {f.id: f for f in fields}
    for key, value in data.items():
        f = by_id.get(key)
        if f is None or hide.intersection(f.sensitivity):
            continue  # unknown keys never leak either
        subs = children(f)
        if subs and f.type != FieldType.CONSENT:
            if isinstance(value, list):
                out[key] = [
                    _redacted(subs, item, hide) for item in value if isinstance(item, Mapping)
                ]
            elif isinstance(value, Mapping):
                out[key] = _redacted(subs, value, hide)
        else:
            out[key] = copy.deepcopy(value)
    return out


def redact(
    form_id: str,
    data: Mapping[str, Any],
    hide: set[Sensitivity] | frozenset[Sensitivity] = frozenset(Sensitivity),
    *,
    template: FormTemplate | None = None,
) -> dict[str, Any]:
    """A copy of ``data`` without the fields tagged with any of ``hide`` (default: all tags).

    A tagged group or body map is dropped whole; inside groups the sub-fields' own tags apply.
    Keys the template does not know are dropped too. Pseudonym codes carry no tag and stay.
    """
    tpl = _template(form_id, template)
    return _redacted(tpl.fields, data, frozenset(hide))


def _warnings_in(
    fields: list[FieldDef], data: Mapping[str, Any], prefix: str
) -> Iterator[ValidationIssue]:
    for f in fields:
        path = f"{prefix}{f.id}"
        if f.type == FieldType.COMPUTED and f.formula == "space_per_person":
            feeds = f.inputs or {}
            floor_id = feeds.get("floor_area", "")
            values = [data.get(feeds.get(name, "")) for name in ("floor_area", "length", "width")]
            if living_space.area_mismatch(*values) is not None:
                product = float(values[1] or 0) * float(values[2] or 0)
                yield ValidationIssue(
                    f"{prefix}{floor_id}",
                    _(
                        "the floor area differs from length × width ({product} m²) by more "
                        "than 10 %; check the measurements"
                    ).format(product=_decimal(product)),
                )
        elif f.type == FieldType.GROUP:
            value = data.get(f.id)
            if f.is_repeatable and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Mapping):
                        yield from _warnings_in(f.sub_fields, item, f"{path}[{i}].")
            elif isinstance(value, Mapping):
                yield from _warnings_in(f.sub_fields, value, f"{path}.")


def _decimal(value: float) -> str:
    from babel.numbers import format_decimal

    return str(format_decimal(round(value, 2), format="0.##", locale=current().language))


def record_warnings(
    form_id: str, data: Mapping[str, Any], *, template: FormTemplate | None = None
) -> list[ValidationIssue]:
    """Entered values that are allowed but look wrong (saving is not refused for them): a floor
    area more than 10 % away from length × width."""
    tpl = _template(form_id, template)
    return list(_warnings_in(tpl.fields, data, ""))

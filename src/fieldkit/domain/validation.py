"""Validation of entered data against its form template.

:func:`validate_record` walks the template and the data together, collects every problem as
a :class:`ValidationIssue` with a dotted path (``areas[2].floor_area_m2``) and a reason a monitor
can act on, and returns the normalised data: strings in NFC without surrounding whitespace, dates
as ``{"value", "precision"}``, date-times in ISO 8601 with their offset, ids in canonical UUID
form, empty values dropped. Computed fields are never accepted from input (see
:mod:`fieldkit.domain.records`).
"""

from __future__ import annotations

import math
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, NamedTuple

from fieldkit.domain.common import (
    DatePrecision,
    check_date_shape,
    date_bounds,
    infer_precision,
    is_empty,
)
from fieldkit.domain.errors import RecordValidationError, ValidationIssue
from fieldkit.domain.forms import (
    BODY_MAP_FIELDS,
    CODE_FORMAT,
    Condition,
    FieldDef,
    FieldType,
    FormTemplate,
    consent_fields,
    load_template,
)
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import _, ngettext

_BAD: Final = object()
_PRECISIONS = ", ".join(p.value for p in DatePrecision)


class FoundRef(NamedTuple):
    """A well-formed reference met while validating: where it is (as in the entered data),
    the field, and the canonical id it names. Whether the id exists is for storage to say."""

    path: str
    field: FieldDef
    target: str


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_record` found: the normalised data (the valid parts only when there are
    issues), every issue, and every well-formed reference, even those inside parts with issues."""

    data: dict[str, Any]
    issues: list[ValidationIssue]
    refs: list[FoundRef]


@dataclass
class _Context:
    today: date
    now: datetime
    issues: list[ValidationIssue] = field(default_factory=list)
    refs: list[FoundRef] = field(default_factory=list)

    def add(self, path: str, reason: str) -> None:
        self.issues.append(ValidationIssue(path or "record", reason))


@dataclass(frozen=True)
class _Scope:
    ids: frozenset[str]
    values: Mapping[str, Any]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def validate_record(
    form_id: str,
    data: Any,
    *,
    version: int | None = None,
    template: FormTemplate | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Check ``data`` against template ``form_id`` and return it normalised.

    Raises RecordValidationError listing every issue found. ``template`` overrides the shipped
    template (an organisation's own form); ``version`` selects an archived shipped version.
    """
    result = check_record(form_id, data, version=version, template=template, today=today)
    if result.issues:
        raise RecordValidationError(result.issues)
    return result.data


def check_record(
    form_id: str,
    data: Any,
    *,
    version: int | None = None,
    template: FormTemplate | None = None,
    today: date | None = None,
) -> CheckResult:
    """Like :func:`validate_record` but never raises for entered data: returns the issues and the
    references found, so a caller can check the references too and report everything at once."""
    tpl = template or load_template(form_id, version)
    now = datetime.now(UTC)
    ctx = _Context(today=today or now.date(), now=now)
    if today is not None:
        ctx.now = datetime.combine(today, time(12, 0), tzinfo=UTC)
    section_conditions: dict[str, list[Condition]] = {}
    for section in tpl.sections:
        if section.show_if is not None:
            for f in section.fields:
                section_conditions[f.id] = [section.show_if]
    result = _validate_object(tpl.fields, data, "", [], ctx, section_conditions)
    return CheckResult(data=result, issues=ctx.issues, refs=ctx.refs)


def issues_for(form_id: str, data: Any, **kwargs: Any) -> list[ValidationIssue]:
    """Every issue in ``data`` (empty when it is valid); for forms that show all problems."""
    try:
        validate_record(form_id, data, **kwargs)
    except RecordValidationError as exc:
        return exc.issues
    return []


def _lookup(name: str, chain: list[_Scope]) -> Any:
    for scope in reversed(chain):
        if name in scope.ids:
            return scope.values.get(name)
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return unicodedata.normalize("NFC", a.strip()) == b
    return bool(a == b)


def condition_holds(cond: Condition, value: Any) -> bool:
    """Whether ``value`` (the controlling field's value) satisfies ``cond``."""
    wanted = cond.values()
    if isinstance(value, list):
        return any(_same(v, w) for v in value for w in wanted)
    return any(_same(value, w) for w in wanted)


def _describe(cond: Condition) -> str:
    values = ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in cond.values())
    return f"{cond.field} is {values}"


def _validate_object(
    fields: list[FieldDef],
    raw: Any,
    prefix: str,
    outer: list[_Scope],
    ctx: _Context,
    extra_conditions: Mapping[str, list[Condition]] | None = None,
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        ctx.add(prefix, _("must be an object"))
        return {}
    known = {f.id: f for f in fields}
    for key in raw:
        if key not in known:
            ctx.add(_join(prefix, str(key)), _("unknown field '{name}'").format(name=key))
    chain = [*outer, _Scope(frozenset(known), raw)]
    out: dict[str, Any] = {}
    extra = extra_conditions or {}
    for f in fields:
        # an optional field that is absent or empty has nothing to check: its path and
        # conditions are not built
        if not f.required and f.id not in raw:
            continue
        value = raw.get(f.id)
        if f.type == FieldType.COMPUTED:
            if f.id in raw:
                ctx.add(_join(prefix, f.id), _("is computed and cannot be entered"))
            continue
        empty = is_empty(value)
        if empty and not f.required:
            continue
        path = _join(prefix, f.id)
        conditions = list(extra.get(f.id, ()))
        if f.show_if is not None:
            conditions.append(f.show_if)
        hidden_by = next(
            (c for c in conditions if not condition_holds(c, _lookup(c.field, chain))), None
        )
        if empty:
            if hidden_by is None:
                ctx.add(path, _("required"))
            continue
        if hidden_by is not None:
            ctx.add(
                path,
                _("must be empty: it only applies when {condition}").format(
                    condition=_describe(hidden_by)
                ),
            )
            continue
        normalised = _validate_value(f, value, path, chain, ctx)
        if normalised is not _BAD and not is_empty(normalised):
            out[f.id] = normalised
    for f in fields:
        earlier = f.not_before
        if earlier and f.id in out and earlier in out and _before(out[f.id], out[earlier]):
            ctx.add(_join(prefix, f.id), _("must not be before {field}").format(field=earlier))
    return out


def _before(later: Any, earlier: Any) -> bool:
    """True when ``later`` certainly lies before ``earlier`` (normalised dates or date-times).

    Dates with a precision cover a range; they conflict only when the whole of ``later`` lies
    before the whole of ``earlier``.
    """
    if isinstance(later, dict) and isinstance(earlier, dict):
        return date_bounds(later["value"])[1] < date_bounds(earlier["value"])[0]
    if isinstance(later, str) and isinstance(earlier, str):
        return datetime.fromisoformat(later) < datetime.fromisoformat(earlier)
    return False


def _validate_value(f: FieldDef, value: Any, path: str, chain: list[_Scope], ctx: _Context) -> Any:
    t = f.type
    if t in (FieldType.TEXT, FieldType.LONGTEXT):
        return _text(f, value, path, ctx)
    if t == FieldType.NUMBER:
        return _number(f, value, path, ctx)
    if t == FieldType.DATE:
        return _date(f, value, path, ctx)
    if t == FieldType.DATETIME:
        return _datetime(f, value, path, ctx)
    if t == FieldType.TIME:
        return _time(value, path, ctx)
    if t == FieldType.CHOICE:
        return _choice(f.vocabulary or "", value, path, ctx)
    if t == FieldType.MULTICHOICE:
        return _multichoice(f, value, path, ctx)
    if t == FieldType.YESNO:
        if isinstance(value, bool):
            return value
        ctx.add(path, _("must be yes or no (true or false)"))
        return _BAD
    if t in (
        FieldType.PERSON_REF,
        FieldType.FACILITY_REF,
        FieldType.RECORD_REF,
        FieldType.EVIDENCE_LINK,
    ):
        return _ref(f, value, path, ctx)
    if t == FieldType.GROUP:
        if f.is_repeatable:
            return _list_of(f.sub_fields, f, value, path, chain, ctx)
        return _validate_object(f.sub_fields, value, path, chain, ctx)
    if t == FieldType.BODY_MAP:
        return _list_of(BODY_MAP_FIELDS, f, value, path, chain, ctx)
    if t == FieldType.CONSENT:
        return _consent(f, value, path, chain, ctx)
    ctx.add(
        path, _("cannot be entered (type {type})").format(type=t.value)
    )  # pragma: no cover - all types handled
    return _BAD


def _text(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    if not isinstance(value, str):
        ctx.add(path, _("must be text"))
        return _BAD
    text = unicodedata.normalize("NFC", value).strip()
    if f.type == FieldType.LONGTEXT:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        allowed = {"\n", "\t"}
    else:
        if "\n" in text or "\r" in text:
            ctx.add(path, _("must be a single line"))
            return _BAD
        allowed = {"\t"}
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        ctx.add(path, _("contains control characters"))
        return _BAD
    if len(text) > f.effective_max_length:
        ctx.add(
            path,
            _("must be at most {count} characters").format(count=f.effective_max_length),
        )
        return _BAD
    if f.format == "code" and not CODE_FORMAT.match(text):
        ctx.add(
            path,
            _("must be a pseudonym code like W-017 (capital letters, hyphen, digits), not a name"),
        )
        return _BAD
    return text


def _number(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        ctx.add(path, _("must be a number"))
        return _BAD
    number: int | float = value
    if f.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                ctx.add(path, _("must be a whole number"))
                return _BAD
            number = int(value)
    elif isinstance(value, int):
        number = value
    low, high = f.min, f.max
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            ctx.add(
                path,
                _("must be a number between {low} and {high}").format(
                    low=_fmt(low), high=_fmt(high)
                ),
            )
        elif low is not None:
            ctx.add(path, _("must be at least {low}").format(low=_fmt(low)))
        else:
            assert high is not None
            ctx.add(path, _("must be at most {high}").format(high=_fmt(high)))
        return _BAD
    if abs(number) > 1e15:
        ctx.add(path, _("is too large"))
        return _BAD
    return number


def _date(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    if isinstance(value, str):
        text = value.strip()
        precision = infer_precision(text)
        if precision is None:
            ctx.add(path, _("date must be YYYY-MM-DD, YYYY-MM or YYYY"))
            return _BAD
    elif isinstance(value, dict):
        unknown = sorted(set(value) - {"value", "precision"})
        if unknown:
            ctx.add(
                _join(path, str(unknown[0])),
                _("unknown field '{name}'").format(name=unknown[0]),
            )
            return _BAD
        raw_value, raw_precision = value.get("value"), value.get("precision")
        if not isinstance(raw_value, str) or not raw_value.strip():
            ctx.add(_join(path, "value"), _("required"))
            return _BAD
        text = raw_value.strip()
        if raw_precision is None:
            precision = infer_precision(text)
            if precision is None:
                ctx.add(path, _("date must be YYYY-MM-DD, YYYY-MM or YYYY"))
                return _BAD
        elif isinstance(raw_precision, str) and raw_precision in DatePrecision._value2member_map_:
            precision = DatePrecision(raw_precision)
        else:
            ctx.add(
                _join(path, "precision"),
                _("precision must be one of {values}").format(values=_PRECISIONS),
            )
            return _BAD
    else:
        ctx.add(path, _("must be a date"))
        return _BAD
    try:
        check_date_shape(text, precision)
        earliest = date_bounds(text)[0]
    except ValueError as exc:
        ctx.add(path, str(exc))
        return _BAD
    if not f.allow_future and earliest > ctx.today + timedelta(days=1):
        ctx.add(path, _("date is in the future"))
        return _BAD
    return {"value": text, "precision": precision.value}


def _datetime(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    example = "2024-03-05T10:15+02:00"
    if not isinstance(value, str):
        ctx.add(path, _("must be a date and time like {example}").format(example=example))
        return _BAD
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        ctx.add(path, _("must be a date and time like {example}").format(example=example))
        return _BAD
    if moment.tzinfo is None or moment.utcoffset() is None:
        ctx.add(path, _("must include the UTC offset, like {example}").format(example=example))
        return _BAD
    if moment.year < 1800:
        ctx.add(path, _("year must be 1800 or later"))
        return _BAD
    if not f.allow_future and moment > ctx.now + timedelta(days=1):
        ctx.add(path, _("date and time is in the future"))
        return _BAD
    spec = "seconds" if moment.second or moment.microsecond else "minutes"
    return moment.replace(microsecond=0).isoformat(timespec=spec)


def _time(value: Any, path: str, ctx: _Context) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if len(text) in (5, 8) and text[2] == ":":
            try:
                moment = time.fromisoformat(text)
            except ValueError:
                moment = None
            if moment is not None:
                return moment.isoformat(timespec="seconds" if moment.second else "minutes")
    ctx.add(path, _("must be a time like 14:30"))
    return _BAD


def _choice(vocab_id: str, value: Any, path: str, ctx: _Context) -> Any:
    if not isinstance(value, str):
        ctx.add(path, _("must be a code from vocabulary {vocabulary}").format(vocabulary=vocab_id))
        return _BAD
    code = value.strip()
    if code not in load_vocabulary(vocab_id):
        ctx.add(
            path,
            _("'{value}' is not in vocabulary {vocabulary}").format(
                value=code, vocabulary=vocab_id
            ),
        )
        return _BAD
    return code


def _items_count(f: FieldDef, count: int, path: str, ctx: _Context) -> bool:
    if f.min_items is not None and count < f.min_items:
        ctx.add(
            path,
            ngettext(
                "needs at least {count} entry", "needs at least {count} entries", f.min_items
            ).format(count=f.min_items),
        )
        return False
    if f.max_items is not None and count > f.max_items:
        ctx.add(
            path,
            ngettext(
                "allows at most {count} entry", "allows at most {count} entries", f.max_items
            ).format(count=f.max_items),
        )
        return False
    return True


def _multichoice(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    vocab_id = f.vocabulary or ""
    if not isinstance(value, list):
        ctx.add(
            path,
            _("must be a list of codes from vocabulary {vocabulary}").format(vocabulary=vocab_id),
        )
        return _BAD
    vocab = load_vocabulary(vocab_id)
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        code = item.strip() if isinstance(item, str) else item
        if not isinstance(code, str) or code not in vocab:
            ctx.add(
                f"{path}[{i}]",
                _("'{value}' is not in vocabulary {vocabulary}").format(
                    value=item, vocabulary=vocab_id
                ),
            )
            ok = False
        elif code in out:
            ctx.add(f"{path}[{i}]", _("'{value}' is chosen twice").format(value=code))
            ok = False
        else:
            out.append(code)
    if not ok or not _items_count(f, len(out), path, ctx):
        return _BAD
    return out


def _one_id(value: Any, path: str, ctx: _Context, evidence: bool = False) -> str | None:
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    if evidence:
        ctx.add(path, _("must be an evidence item id (UUID)"))
    else:
        ctx.add(path, _("must be a record id (UUID)"))
    return None


def _ref(f: FieldDef, value: Any, path: str, ctx: _Context) -> Any:
    if not f.is_multiple:
        if isinstance(value, list):
            ctx.add(path, _("must be a single record id, not a list"))
            return _BAD
        found = _one_id(value, path, ctx, f.type == FieldType.EVIDENCE_LINK)
        if found is None:
            return _BAD
        ctx.refs.append(FoundRef(path, f, found))
        return found
    if not isinstance(value, list):
        ctx.add(path, _("must be a list of record ids"))
        return _BAD
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        found = _one_id(item, f"{path}[{i}]", ctx, f.type == FieldType.EVIDENCE_LINK)
        if found is None:
            ok = False
        elif found in out:
            ctx.add(f"{path}[{i}]", _("is listed twice"))
            ok = False
        else:
            out.append(found)
            ctx.refs.append(FoundRef(f"{path}[{i}]", f, found))
    return out if ok else _BAD


def _list_of(
    fields: list[FieldDef],
    f: FieldDef,
    value: Any,
    path: str,
    chain: list[_Scope],
    ctx: _Context,
) -> Any:
    if not isinstance(value, list):
        ctx.add(path, _("must be a list"))
        return _BAD
    before = len(ctx.issues)
    items: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and all(is_empty(v) for v in item.values()):
            continue  # an added row left blank
        items.append(_validate_object(fields, item, f"{path}[{i}]", chain, ctx))
    if len(ctx.issues) > before:
        return _BAD
    if not items:
        # Only blank rows: the same as no entries at all.
        if f.required:
            ctx.add(path, _("required"))
            return _BAD
        return []
    if not _items_count(f, len(items), path, ctx):
        return _BAD
    return items


def _consent(f: FieldDef, value: Any, path: str, chain: list[_Scope], ctx: _Context) -> Any:
    before = len(ctx.issues)
    result = _validate_object(
        consent_fields(f.vocabulary or "consent_scopes"), value, path, chain, ctx
    )
    if len(ctx.issues) > before:
        return _BAD
    seen: list[str] = []
    for i, entry in enumerate(result.get("scopes", [])):
        scope = entry.get("scope")
        if scope in seen:
            ctx.add(
                f"{path}.scopes[{i}].scope",
                _("scope '{scope}' is listed twice").format(scope=scope),
            )
        seen.append(scope)
    for i, change in enumerate(result.get("withdrawals", [])):
        if change.get("scope") not in seen:
            ctx.add(
                f"{path}.withdrawals[{i}].scope",
                _("scope '{scope}' has no consent entry to withdraw or change").format(
                    scope=change.get("scope")
                ),
            )
    if len(ctx.issues) > before:
        return _BAD
    return result

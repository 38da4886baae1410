"""Hostile or malformed input (e.g. from an imported bundle) only ever yields validation issues."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.domain.errors import RecordValidationError
from fieldkit.domain.forms import FieldType, load_template
from fieldkit.domain.records import compute, index_fields
from fieldkit.domain.validation import validate_record

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TODAY = date(2024, 12, 31)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Values shaped like the structured ones (dates, consent entries) but with hostile members.
shaped_values = st.one_of(
    json_values,
    st.fixed_dictionaries({"value": json_values, "precision": json_values}),
    st.fixed_dictionaries({"value": st.sampled_from(["2024", "2024-02", "2024-02-30"])}),
    st.lists(st.fixed_dictionaries({"scope": json_values, "status": json_values}), max_size=3),
)


def _paths(form: str) -> list[str]:
    return [p for p, f in load_template(form).walk() if f.type != FieldType.COMPUTED]


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Put ``value`` at a template path, descending into the first item of repeatable groups."""
    node: Any = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        nxt = node.get(part) if isinstance(node, dict) else None
        if isinstance(nxt, list):
            if not nxt or not isinstance(nxt[0], dict):
                nxt[:] = [{}]
            node = nxt[0]
        elif isinstance(nxt, dict):
            node = nxt
        else:
            node[part] = [{}]
            node = node[part][0]
    if isinstance(node, dict):
        node[parts[-1]] = value


def _check(form: str, data: Any) -> None:
    try:
        out = validate_record(form, data, today=TODAY)
    except RecordValidationError as exc:
        issues = exc.issues
    else:
        issues = []
    if issues:
        for issue in issues:
            assert isinstance(issue.field, str)
            assert isinstance(issue.reason, str)
            assert issue.reason
        return
    # Whatever passes must be stable, computable and indexable.
    assert validate_record(form, out, today=TODAY) == out
    compute(form, out)
    index_fields(form, out)


@pytest.mark.parametrize(
    ("name", "form"),
    [("visit_uk.json", "visit"), ("interview_uk.json", "interview"), ("case_uk.json", "case")],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_in_any_field_never_crashes(name: str, form: str, data: st.DataObject) -> None:
    base = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    record = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        path = data.draw(st.sampled_from(_paths(form)))
        _set(record, path, data.draw(shaped_values))
    _check(form, record)


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_any_document_never_crashes(value: Any) -> None:
    _check("person", value)


@pytest.mark.parametrize(
    "value",
    [
        {"value": "2024-03-05", "precision": ["exact"]},
        {"value": "2024-03-05", "precision": {}},
        {"value": ["2024"], "precision": "exact"},
        {"value": 2024, "precision": "month_unknown"},
    ],
)
def test_malformed_dates_are_issues_not_crashes(value: Any) -> None:
    data = json.loads((SAMPLES / "recommendation.json").read_text(encoding="utf-8"))
    data["issued_on"] = value
    with pytest.raises(RecordValidationError) as info:
        validate_record("recommendation", data, today=TODAY)
    assert info.value.issues[0].field.startswith("issued_on")

"""The pydantic domain models and the form templates agree, and validated data parses into them."""

from __future__ import annotations

import json
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from fieldkit.domain.case import Case
from fieldkit.domain.common import ConsentRecord, ConsentStatus, InjuryMark, PreciseDate
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType, children, load_template
from fieldkit.domain.interview import Interview
from fieldkit.domain.records import RECORD_MODELS, model_for, to_model
from fieldkit.domain.validation import validate_record
from fieldkit.domain.visit import Visit

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TODAY = date(2024, 12, 31)
SAMPLE_FORMS = [
    ("facility.json", "facility"),
    ("person.json", "person"),
    ("recommendation.json", "recommendation"),
    ("case_uk.json", "case"),
    ("case_ru.json", "case"),
    ("interview_uk.json", "interview"),
    ("interview_ru.json", "interview"),
    ("visit_uk.json", "visit"),
    ("visit_ru.json", "visit"),
]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _check_scope(
    fields: list[FieldDef],
    model: type[BaseModel],
    path: str,
    conditional: frozenset[str] = frozenset(),
) -> None:
    model_fields = model.model_fields
    template_ids = {f.id for f in fields}
    assert set(model_fields) == template_ids, (
        f"{path or model.__name__}: only in model {set(model_fields) - template_ids}, "
        f"only in template {template_ids - set(model_fields)}"
    )
    for f in fields:
        info = model_fields[f.id]
        where = f"{path}{f.id}"
        annotation = info.annotation
        repeated = f.type in (FieldType.MULTICHOICE, FieldType.BODY_MAP) or (
            f.type == FieldType.GROUP and f.is_repeatable
        )
        references = (
            FieldType.RECORD_REF,
            FieldType.EVIDENCE_LINK,
            FieldType.PERSON_REF,
            FieldType.FACILITY_REF,
        )
        repeated = repeated or (f.type in references and f.is_multiple)
        assert _is_list(annotation) == repeated, where
        if f.type == FieldType.GROUP:
            sub = _model_in(annotation)
            assert sub is not None, where
            _check_scope(f.sub_fields, sub, f"{where}.")
        elif f.type == FieldType.BODY_MAP:
            assert _model_in(annotation) is InjuryMark, where
            _check_scope(children(f), InjuryMark, f"{where}.")
        elif f.type == FieldType.CONSENT:
            assert _model_in(annotation) is ConsentRecord, where
        elif f.type == FieldType.DATE:
            assert _model_in(annotation) is PreciseDate, where
        # A field the form requires unconditionally is required by the model too.
        unconditional = f.show_if is None and f.id not in conditional
        if f.required and unconditional and f.type != FieldType.GROUP:
            assert info.is_required() or repeated, where


@pytest.mark.parametrize("form_id", sorted(RECORD_MODELS))
def test_every_template_field_exists_in_the_model_and_back(form_id: str) -> None:
    tpl = load_template(form_id)
    in_conditional_sections = frozenset(
        f.id for section in tpl.sections if section.show_if is not None for f in section.fields
    )
    _check_scope(tpl.fields, model_for(tpl.record_type), "", in_conditional_sections)


def test_consent_model_matches_the_built_in_structure() -> None:
    tpl = load_template("interview")
    scopes, withdrawals = children(tpl.field("consent"))
    from fieldkit.domain.common import ConsentScopeEntry, ConsentWithdrawal

    assert set(ConsentRecord.model_fields) == {scopes.id, withdrawals.id}
    assert set(ConsentScopeEntry.model_fields) == {f.id for f in scopes.sub_fields}
    assert set(ConsentWithdrawal.model_fields) == {f.id for f in withdrawals.sub_fields}


@pytest.mark.parametrize(("name", "form"), SAMPLE_FORMS)
def test_validated_samples_parse_into_the_models(name: str, form: str) -> None:
    raw = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    data = validate_record(form, raw, today=TODAY)
    model = RECORD_MODELS[form].model_validate(data)
    assert form == type(model).TEMPLATE_ID  # type: ignore[attr-defined]
    assert to_model(form, data) is not None


def test_visit_model_carries_computed_values_and_typed_fields() -> None:
    raw = json.loads((SAMPLES / "visit_uk.json").read_text(encoding="utf-8"))
    visit = to_model("visit", validate_record("visit", raw, today=TODAY))
    assert isinstance(visit, Visit)
    assert visit.visit_date.precision == "exact"
    assert visit.admitted_at is not None
    assert visit.admitted_at.utcoffset() is not None
    assert visit.occupancy_percent == 121.9
    assert visit.areas[0].cpt_minimum == "below"
    assert visit.areas[0].cpt_minimum_reasons is not None
    assert visit.areas[0].area_per_person == 1.87
    assert [m.role for m in visit.team] == ["head", "civic_monitor", "health_professional"]
    assert visit.interviewees[0].code == "D-101"


def test_case_model_nests_involvements_under_acts() -> None:
    raw = json.loads((SAMPLES / "case_uk.json").read_text(encoding="utf-8"))
    case = to_model("case", validate_record("case", raw, today=TODAY))
    assert isinstance(case, Case)
    assert [a.act_type for a in case.acts] == ["unlawful_arrest", "torture"]
    assert case.acts[1].involvements[0].degree == "direct"
    ru = to_model(
        "case",
        validate_record(
            "case", json.loads((SAMPLES / "case_ru.json").read_text(encoding="utf-8")), today=TODAY
        ),
    )
    assert isinstance(ru, Case)
    assert ru.pp_criterion_a is not None
    assert ru.pp_criterion_a.result == "met"


def test_interview_consent_effective_status_applies_withdrawals() -> None:
    raw = json.loads((SAMPLES / "interview_uk.json").read_text(encoding="utf-8"))
    interview = to_model("interview", validate_record("interview", raw, today=TODAY))
    assert isinstance(interview, Interview)
    consent = interview.consent
    assert consent.effective_status("interview") == ConsentStatus.GRANTED
    assert consent.effective_status("audio_recording") == ConsentStatus.DECLINED  # withdrawn
    assert consent.effective_status("share_prosecution") == ConsentStatus.CONDITIONAL
    assert consent.effective_status("contact_family") is None
    assert interview.injuries[0].view == "back"
    assert interview.injuries[0].scale_used


def test_models_reject_unknown_keys_and_bad_precision() -> None:
    with pytest.raises(ValidationError):
        Visit.model_validate({"reference": "x", "colour": "red"})
    with pytest.raises(ValidationError):
        PreciseDate(value="2024-03", precision="exact")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        InjuryMark(view="front", x=1.2, y=0.5, injury_type="bruise")


def test_precise_date_bounds() -> None:
    d = PreciseDate(value="2024-02", precision="day_unknown")  # type: ignore[arg-type]
    assert (d.earliest, d.latest) == (date(2024, 2, 1), date(2024, 2, 29))
    y = PreciseDate(value="2023", precision="estimated")  # type: ignore[arg-type]
    assert (y.earliest, y.latest) == (date(2023, 1, 1), date(2023, 12, 31))


def test_unknown_record_type() -> None:
    with pytest.raises(FieldkitError):
        model_for("invoice")


def test_withdrawal_log_can_also_grant_later() -> None:
    raw = json.loads((SAMPLES / "interview_ru.json").read_text(encoding="utf-8"))
    interview = to_model("interview", validate_record("interview", raw, today=TODAY))
    assert isinstance(interview, Interview)
    assert interview.consent.effective_status("contact_family") == ConsentStatus.GRANTED
    assert interview.interpreter is not None
    assert interview.interpreter.languages == ["crh", "ru"]

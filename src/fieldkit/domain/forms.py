"""Form templates: the data that describes each record form, and its loader.

A template (``resources/forms/<id>.json``) has sections; a section has fields; a ``group``
field holds sub-fields and may repeat. Entered data is a JSON object keyed by field id, flat
across sections: sections are for display only, groups nest (``areas[2].floor_area_m2``).
See docs/forms.md.

A template is checked completely when it is loaded; the first problem raises
``FieldkitError(ErrorCode.TEMPLATE_INVALID, file=..., field=..., reason=...)``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fieldkit.domain.common import Labels
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.formulas import FORMULAS
from fieldkit.domain.vocabularies import vocabulary_exists
from fieldkit.resource_files import resource_path

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
RECORD_TYPES: tuple[str, ...] = (
    "case",
    "person",
    "interview",
    "facility",
    "visit",
    "recommendation",
)


class FieldType(StrEnum):
    TEXT = "text"
    LONGTEXT = "longtext"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    YESNO = "yesno"
    PERSON_REF = "person_ref"
    FACILITY_REF = "facility_ref"
    RECORD_REF = "record_ref"
    EVIDENCE_LINK = "evidence_link"
    BODY_MAP = "body_map"
    CONSENT = "consent"
    COMPUTED = "computed"
    GROUP = "group"


REF_TYPES = frozenset(
    {FieldType.PERSON_REF, FieldType.FACILITY_REF, FieldType.RECORD_REF, FieldType.EVIDENCE_LINK}
)
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONGTEXT})


class Sensitivity(StrEnum):
    """records.md §0: ID identifies a person; SENS special category; R restricted (perpetrators)."""

    ID = "ID"
    SENS = "SENS"
    R = "R"


Scalar = str | bool | int | float


class Condition(BaseModel):
    """``show_if``: the field is shown when ``field`` equals ``equals`` or is one of ``in``.

    ``field`` names a field in the same group or, failing that, in an enclosing scope. For a
    multichoice field the condition holds when any chosen value matches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: Annotated[str, Field(pattern=ID_PATTERN)]
    equals: Scalar | None = None
    in_: Annotated[list[Scalar] | None, Field(alias="in")] = None

    def values(self) -> list[Scalar]:
        if self.in_ is not None:
            return list(self.in_)
        return [self.equals] if self.equals is not None else []


# Which optional attributes each type may carry (beyond id, type, label, help, required, show_if,
# sensitivity, placeholder).
_ALLOWED_ATTRS: dict[FieldType, frozenset[str]] = {
    FieldType.TEXT: frozenset({"max_length", "format"}),
    FieldType.LONGTEXT: frozenset({"max_length"}),
    FieldType.NUMBER: frozenset({"number_kind", "min", "max", "unit"}),
    FieldType.DATE: frozenset({"allow_future", "not_before"}),
    FieldType.DATETIME: frozenset({"allow_future", "not_before"}),
    FieldType.TIME: frozenset(),
    FieldType.CHOICE: frozenset({"vocabulary"}),
    FieldType.MULTICHOICE: frozenset({"vocabulary", "min_items", "max_items"}),
    FieldType.YESNO: frozenset(),
    FieldType.PERSON_REF: frozenset({"multiple"}),
    FieldType.FACILITY_REF: frozenset({"multiple"}),
    FieldType.RECORD_REF: frozenset({"multiple", "targets"}),
    FieldType.EVIDENCE_LINK: frozenset({"multiple"}),
    FieldType.BODY_MAP: frozenset({"max_items"}),
    FieldType.CONSENT: frozenset({"vocabulary"}),
    FieldType.COMPUTED: frozenset({"formula", "inputs", "unit"}),
    FieldType.GROUP: frozenset({"fields", "repeatable", "min_items", "max_items", "item_label"}),
}
_OPTIONAL_ATTRS = (
    "max_length",
    "format",
    "number_kind",
    "min",
    "max",
    "unit",
    "allow_future",
    "not_before",
    "vocabulary",
    "min_items",
    "max_items",
    "multiple",
    "targets",
    "formula",
    "inputs",
    "fields",
    "repeatable",
    "item_label",
)

TEXT_FORMATS = ("code",)
CODE_FORMAT = re.compile(r"^[A-Z]{1,4}-[0-9]{1,6}$")
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 1000, FieldType.LONGTEXT: 100_000}


class FieldDef(BaseModel):
    """One field of a form. Only the attributes that apply to its type may be set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
    type: FieldType
    label: Labels
    help: Labels | None = None
    placeholder: Labels | None = None
    required: bool = False
    show_if: Condition | None = None
    sensitivity: list[Sensitivity] = Field(default_factory=list)

    max_length: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    format: Literal["code"] | None = None
    number_kind: Literal["int", "decimal"] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    allow_future: bool | None = None
    not_before: Annotated[str, Field(pattern=ID_PATTERN)] | None = None
    vocabulary: str | None = None
    min_items: Annotated[int, Field(ge=0)] | None = None
    max_items: Annotated[int, Field(ge=1)] | None = None
    multiple: bool | None = None
    targets: list[str] | None = None
    formula: str | None = None
    inputs: dict[str, str] | None = None
    fields: list[FieldDef] | None = None
    repeatable: bool | None = None
    # A repeatable group's one item, for headings ("Register 1", not "Registers 1").
    item_label: Labels | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in FieldType._value2member_map_:
            raise ValueError(f"unknown field type '{value}'")
        return value

    # Convenience accessors with the defaults applied.
    @property
    def is_repeatable(self) -> bool:
        return bool(self.repeatable)

    @property
    def is_multiple(self) -> bool:
        return bool(self.multiple)

    @property
    def effective_max_length(self) -> int:
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type, 1000)

    @property
    def kind(self) -> str:
        return self.number_kind or "decimal"

    @property
    def sub_fields(self) -> list[FieldDef]:
        return list(self.fields or [])


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
    label: Labels
    help: Labels | None = None
    show_if: Condition | None = None
    fields: Annotated[list[FieldDef], Field(min_length=1)]


class IndexSpec(BaseModel):
    """Which fields feed the storage index (filters and list columns)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    facility_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    # The field whose last day stands for date_to when date_to is empty (a one-day visit).
    date_to_default: str | None = None
    status: str | None = None


class FormTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
    version: Annotated[int, Field(ge=1)]
    record_type: str
    title_field: str
    label: Labels
    description: Labels | None = None
    index: IndexSpec = Field(default_factory=IndexSpec)
    sections: Annotated[list[Section], Field(min_length=1)]

    @property
    def fields(self) -> list[FieldDef]:
        """The top-level fields of every section, in order."""
        return [f for section in self.sections for f in section.fields]

    def field(self, path: str) -> FieldDef:
        """The field at a dotted path of ids (``areas.floor_area_m2``); KeyError if absent."""
        scope = self.fields
        found: FieldDef | None = None
        for part in path.split("."):
            found = next((f for f in scope if f.id == part), None)
            if found is None:
                raise KeyError(path)
            scope = _children(found)
        assert found is not None
        return found

    def section_of(self, field_id: str) -> Section:
        for section in self.sections:
            if any(f.id == field_id for f in section.fields):
                return section
        raise KeyError(field_id)

    def walk(self) -> Iterator[tuple[str, FieldDef]]:
        """Every field with its dotted id path, depth first (group children after the group)."""
        yield from _walk(self.fields, "")


def _walk(fields: list[FieldDef], prefix: str) -> Iterator[tuple[str, FieldDef]]:
    for f in fields:
        path = f"{prefix}{f.id}"
        yield path, f
        if f.type in (FieldType.GROUP, FieldType.BODY_MAP, FieldType.CONSENT):
            yield from _walk(_children(f), f"{path}.")


def _children(f: FieldDef) -> list[FieldDef]:
    if f.type == FieldType.GROUP:
        return f.sub_fields
    if f.type == FieldType.BODY_MAP:
        return BODY_MAP_FIELDS
    if f.type == FieldType.CONSENT:
        return consent_fields(f.vocabulary or "consent_scopes")
    return []


def children(f: FieldDef) -> list[FieldDef]:
    """The sub-fields of a group, or the built-in entry fields of a body map or consent field."""
    return _children(f)


# --- built-in structures --------------------------------------------------------------------------


def _l(en: str, uk: str, ru: str) -> Labels:
    return Labels(en=en, uk=uk, ru=ru)


def _f(id_: str, type_: FieldType, label: Labels, **attrs: Any) -> FieldDef:
    return FieldDef(id=id_, type=type_, label=label, **attrs)


BODY_MAP_FIELDS: list[FieldDef] = [
    _f(
        "view",
        FieldType.CHOICE,
        _l("Diagram view", "Вид схеми", "Вид схемы"),
        vocabulary="body_views",
        required=True,
    ),
    _f(
        "x",
        FieldType.NUMBER,
        _l(
            "Mark position across (0–1)",
            "Позиція позначки по горизонталі (0–1)",
            "Положение отметки по горизонтали (0–1)",
        ),
        number_kind="decimal",
        min=0,
        max=1,
        required=True,
    ),
    _f(
        "y",
        FieldType.NUMBER,
        _l(
            "Mark position down (0–1)",
            "Позиція позначки по вертикалі (0–1)",
            "Положение отметки по вертикали (0–1)",
        ),
        number_kind="decimal",
        min=0,
        max=1,
        required=True,
    ),
    _f(
        "injury_type",
        FieldType.CHOICE,
        _l("Injury type", "Тип ушкодження", "Тип повреждения"),
        vocabulary="injury_types",
        required=True,
    ),
    _f(
        "region",
        FieldType.CHOICE,
        _l("Body region", "Ділянка тіла", "Область тела"),
        vocabulary="body_regions",
    ),
    _f("side", FieldType.CHOICE, _l("Side", "Сторона", "Сторона"), vocabulary="body_sides"),
    _f(
        "size_cm",
        FieldType.NUMBER,
        _l("Size", "Розмір", "Размер"),
        number_kind="decimal",
        min=0,
        max=300,
        unit="cm",
    ),
    _f(
        "shape",
        FieldType.TEXT,
        _l("Shape or pattern", "Форма або візерунок", "Форма или рисунок"),
        max_length=500,
    ),
    _f("colour", FieldType.TEXT, _l("Colour", "Колір", "Цвет"), max_length=200),
    _f(
        "reported_cause",
        FieldType.TEXT,
        _l("Cause as reported by the person", "Причина зі слів особи", "Причина со слов человека"),
        max_length=2000,
        sensitivity=[Sensitivity.SENS],
    ),
    _f(
        "reported_date",
        FieldType.DATE,
        _l(
            "Date of the injury as reported",
            "Дата ушкодження зі слів особи",
            "Дата повреждения со слов человека",
        ),
    ),
    _f(
        "photos",
        FieldType.EVIDENCE_LINK,
        _l("Photographs", "Фотографії", "Фотографии"),
        multiple=True,
        sensitivity=[Sensitivity.SENS],
    ),
    _f(
        "scale_used",
        FieldType.YESNO,
        _l(
            "Scale or ruler in the photograph",
            "На фото є масштаб або лінійка",
            "На фото есть масштаб или линейка",
        ),
    ),
    _f(
        "examined_by",
        FieldType.CHOICE,
        _l("Observed by", "Ким зафіксовано", "Кем зафиксировано"),
        vocabulary="examiner_types",
    ),
    _f(
        "consistency",
        FieldType.CHOICE,
        _l(
            "Examiner's opinion on this lesion (Istanbul Protocol)",
            "Висновок лікаря щодо цього ушкодження (Стамбульський протокол)",
            "Заключение врача по этому повреждению (Стамбульский протокол)",
        ),
        vocabulary="ip_consistency",
        # An opinion on consistency is a medical opinion: only from a health professional.
        show_if=Condition(field="examined_by", in_=["health_professional", "forensic_doctor"]),
    ),
    _f(
        "notes",
        FieldType.LONGTEXT,
        _l("Observation notes", "Нотатки спостереження", "Заметки наблюдения"),
        max_length=5000,
        sensitivity=[Sensitivity.SENS],
    ),
]


@functools.cache
def consent_fields(scope_vocabulary: str) -> list[FieldDef]:
    """The two lists inside a consent field: scopes, and the withdrawal/change log."""
    status = _f(
        "status",
        FieldType.CHOICE,
        _l("Decision", "Рішення", "Решение"),
        vocabulary="consent_statuses",
        required=True,
    )
    return [
        _f(
            "scopes",
            FieldType.GROUP,
            _l(
                "Consent per scope",
                "Згода за напрямами використання",
                "Согласие по направлениям использования",
            ),
            repeatable=True,
            fields=[
                _f(
                    "scope",
                    FieldType.CHOICE,
                    _l("Scope", "Напрям", "Направление"),
                    vocabulary=scope_vocabulary,
                    required=True,
                ),
                status,
                _f(
                    "conditions",
                    FieldType.LONGTEXT,
                    _l("Conditions", "Умови", "Условия"),
                    max_length=5000,
                    show_if=Condition(field="status", equals="conditional"),
                    required=True,
                ),
                _f("date", FieldType.DATE, _l("Date", "Дата", "Дата")),
            ],
        ),
        _f(
            "withdrawals",
            FieldType.GROUP,
            _l(
                "Withdrawals and changes",
                "Відкликання та зміни згоди",
                "Отзыв и изменения согласия",
            ),
            repeatable=True,
            fields=[
                _f("date", FieldType.DATE, _l("Date", "Дата", "Дата"), required=True),
                _f(
                    "scope",
                    FieldType.CHOICE,
                    _l("Scope", "Напрям", "Направление"),
                    vocabulary=scope_vocabulary,
                    required=True,
                ),
                _f(
                    "new_status",
                    FieldType.CHOICE,
                    _l(
                        "New decision (empty: withdrawn)",
                        "Нове рішення (порожньо — відкликано)",
                        "Новое решение (пусто — отозвано)",
                    ),
                    vocabulary="consent_statuses",
                ),
                _f(
                    "how_received",
                    FieldType.TEXT,
                    _l("How it was received", "Як отримано", "Как получено"),
                    max_length=1000,
                ),
                _f(
                    "actions_taken",
                    FieldType.LONGTEXT,
                    _l("Actions taken", "Вжиті заходи", "Принятые меры"),
                    max_length=5000,
                ),
            ],
        ),
    ]


# --- loading and checking -------------------------------------------------------------------------


@dataclass
class _Invalid(Exception):
    field: str
    reason: str


def _pydantic_location(raw: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            element = node[item] if isinstance(node, list) and item < len(node) else None
            name = element.get("id") if isinstance(element, dict) else None
            if parts and parts[-1] in ("sections", "fields"):
                parts.pop()
            parts.append(name if isinstance(name, str) else f"[{item}]")
            node = element
        else:
            parts.append(item)
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "template"


def _pydantic_reason(error: Any) -> str:
    loc = tuple(error["loc"])
    if (
        error["type"] == "missing"
        and len(loc) >= 2
        and loc[-2] in ("label", "help", "title", "placeholder")
    ):
        return f"missing label language '{loc[-1]}'"
    if error["type"] == "missing":
        return f"'{loc[-1]}' is required"
    if error["type"] == "extra_forbidden":
        return f"unknown attribute '{loc[-1]}'"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _check_fields(fields: list[FieldDef], path: str, scopes: list[dict[str, FieldDef]]) -> None:
    """Check one scope of fields (top level or a group) after pydantic has parsed them."""
    here: dict[str, FieldDef] = {}
    for f in fields:
        fpath = f"{path}{f.id}"
        if f.id in here:
            raise _Invalid(fpath, f"duplicate field id '{f.id}'")
        here[f.id] = f
    chain = [*scopes, here]
    for f in fields:
        _check_field(f, f"{path}{f.id}", chain)


def _resolve(name: str, chain: list[dict[str, FieldDef]]) -> FieldDef | None:
    for scope in reversed(chain):
        if name in scope:
            return scope[name]
    return None


def _check_condition(cond: Condition, fpath: str, chain: list[dict[str, FieldDef]]) -> None:
    target = _resolve(cond.field, chain)
    if target is None:
        raise _Invalid(f"{fpath}.show_if", f"show_if refers to missing field '{cond.field}'")
    if (cond.equals is None) == (cond.in_ is None):
        raise _Invalid(f"{fpath}.show_if", "show_if needs exactly one of 'equals' or 'in'")
    if target.type not in (
        FieldType.CHOICE,
        FieldType.MULTICHOICE,
        FieldType.YESNO,
        FieldType.TEXT,
        FieldType.NUMBER,
    ):
        raise _Invalid(
            f"{fpath}.show_if",
            f"show_if cannot test field '{cond.field}' of type {target.type.value}",
        )
    if target.type in (FieldType.CHOICE, FieldType.MULTICHOICE) and target.vocabulary:
        from fieldkit.domain.vocabularies import load_vocabulary

        vocab = load_vocabulary(target.vocabulary)
        for value in cond.values():
            if value not in vocab:
                raise _Invalid(
                    f"{fpath}.show_if", f"'{value}' is not in vocabulary {target.vocabulary}"
                )
    if target.type == FieldType.YESNO and not all(isinstance(v, bool) for v in cond.values()):
        raise _Invalid(f"{fpath}.show_if", "a yes/no field can only be compared with true or false")


def _check_field(f: FieldDef, fpath: str, chain: list[dict[str, FieldDef]]) -> None:
    allowed = _ALLOWED_ATTRS[f.type]
    for attr in _OPTIONAL_ATTRS:
        if getattr(f, attr) is not None and attr not in allowed:
            raise _Invalid(fpath, f"attribute '{attr}' does not apply to type {f.type.value}")
    if f.show_if is not None:
        _check_condition(f.show_if, fpath, chain)
    if f.not_before is not None:
        earlier = chain[-1].get(f.not_before)
        if earlier is None:
            raise _Invalid(
                f"{fpath}.not_before",
                f"not_before refers to missing field "
                f"'{f.not_before}' (it must be in the same group)",
            )
        if earlier.type != f.type or earlier.id == f.id:
            raise _Invalid(
                f"{fpath}.not_before", f"not_before must name another {f.type.value} field"
            )
    if f.type == FieldType.COMPUTED and f.required:
        raise _Invalid(fpath, "a computed field cannot be required")
    if f.type in (FieldType.CHOICE, FieldType.MULTICHOICE):
        if not f.vocabulary:
            raise _Invalid(fpath, f"a {f.type.value} field needs a vocabulary")
        if not vocabulary_exists(f.vocabulary):
            raise _Invalid(f"{fpath}.vocabulary", f"vocabulary '{f.vocabulary}' not found")
        _check_vocabulary_file(f.vocabulary, fpath)
    if f.type == FieldType.CONSENT and f.vocabulary:
        if not vocabulary_exists(f.vocabulary):
            raise _Invalid(f"{fpath}.vocabulary", f"vocabulary '{f.vocabulary}' not found")
        _check_vocabulary_file(f.vocabulary, fpath)
    if f.min_items is not None and f.max_items is not None and f.min_items > f.max_items:
        raise _Invalid(fpath, "min_items is greater than max_items")
    if f.type == FieldType.NUMBER and f.min is not None and f.max is not None and f.min > f.max:
        raise _Invalid(fpath, "min is greater than max")
    if f.type == FieldType.RECORD_REF:
        if not f.targets:
            raise _Invalid(fpath, "a record_ref field needs 'targets'")
        for target in f.targets:
            if target not in RECORD_TYPES:
                raise _Invalid(f"{fpath}.targets", f"unknown record type '{target}'")
    if f.type == FieldType.GROUP:
        if not f.fields:
            raise _Invalid(fpath, "a group needs at least one field")
        if not f.repeatable and (f.min_items is not None or f.max_items is not None):
            raise _Invalid(fpath, "min_items/max_items need a repeatable group")
        _check_fields(f.fields, f"{fpath}.", chain)
    if f.type == FieldType.COMPUTED:
        _check_computed(f, fpath, chain[-1])


def _check_vocabulary_file(vocab_id: str, fpath: str) -> None:
    """Load (and so fully check) the vocabulary now, not when someone first fills the form."""
    from fieldkit.domain.vocabularies import load_vocabulary

    try:
        load_vocabulary(vocab_id)
    except FieldkitError as exc:
        raise _Invalid(f"{fpath}.vocabulary", exc.message()) from exc


_INPUT_FIELD_TYPES = {
    "number": FieldType.NUMBER,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "choice": FieldType.CHOICE,
    "yesno": FieldType.YESNO,
}


def _check_computed(f: FieldDef, fpath: str, scope: dict[str, FieldDef]) -> None:
    if not f.formula:
        raise _Invalid(fpath, "a computed field needs a formula")
    formula = FORMULAS.get(f.formula)
    if formula is None:
        raise _Invalid(f"{fpath}.formula", f"unknown formula '{f.formula}'")
    inputs = f.inputs or {}
    for name in inputs:
        if name not in formula.inputs:
            raise _Invalid(f"{fpath}.inputs", f"formula {f.formula} has no input '{name}'")
    for name in formula.required_inputs:
        if name not in inputs:
            raise _Invalid(f"{fpath}.inputs", f"formula {f.formula} needs input '{name}'")
    for name, source in inputs.items():
        wanted = _INPUT_FIELD_TYPES[formula.kind_of(name)]
        target = scope.get(source)
        if target is None:
            raise _Invalid(f"{fpath}.inputs.{name}", f"input refers to missing field '{source}'")
        if target.type != wanted:
            raise _Invalid(
                f"{fpath}.inputs.{name}",
                f"input field '{source}' must be of type {wanted.value}",
            )


def _check_template(tpl: FormTemplate, expected_id: str | None) -> None:
    if expected_id is not None and tpl.id != expected_id:
        raise _Invalid("id", f"id '{tpl.id}' does not match the file name")
    if tpl.record_type not in RECORD_TYPES:
        raise _Invalid("record_type", f"unknown record type '{tpl.record_type}'")
    section_ids: set[str] = set()
    for section in tpl.sections:
        if section.id in section_ids:
            raise _Invalid(section.id, f"duplicate section id '{section.id}'")
        section_ids.add(section.id)
    _check_fields(tpl.fields, "", [])
    top = {f.id: f for f in tpl.fields}
    for section in tpl.sections:
        if section.show_if is not None:
            _check_condition(section.show_if, section.id, [top])
    title = top.get(tpl.title_field)
    if title is None:
        raise _Invalid("title_field", f"title_field refers to missing field '{tpl.title_field}'")
    if title.type not in (FieldType.TEXT, FieldType.CHOICE):
        raise _Invalid("title_field", "title_field must be a text or choice field")
    kinds = {
        "facility_id": (FieldType.FACILITY_REF,),
        "date_from": (FieldType.DATE, FieldType.DATETIME),
        "date_to": (FieldType.DATE, FieldType.DATETIME),
        "date_to_default": (FieldType.DATE, FieldType.DATETIME),
        "status": (FieldType.CHOICE,),
    }
    for key, types in kinds.items():
        source = getattr(tpl.index, key)
        if source is None:
            continue
        target = top.get(source)
        if target is None:
            raise _Invalid(f"index.{key}", f"index refers to missing field '{source}'")
        if target.type not in types or target.is_multiple:
            raise _Invalid(f"index.{key}", f"field '{source}' has the wrong type for {key}")


def parse_template(raw: bytes, file: str, *, expected_id: str | None = None) -> FormTemplate:
    """Parse and fully check a template; a problem raises TEMPLATE_INVALID naming file and field."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FieldkitError(ErrorCode.JSON_INVALID, path=file, reason=str(exc)) from exc
    try:
        tpl = FormTemplate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID,
            file=file,
            field=_pydantic_location(data, tuple(first["loc"])),
            reason=_pydantic_reason(first),
        ) from exc
    try:
        _check_template(tpl, expected_id)
    except _Invalid as exc:
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID, file=file, field=exc.field, reason=exc.reason
        ) from exc
    except FieldkitError as exc:  # a vocabulary file itself is broken
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID, file=file, field="vocabulary", reason=exc.message()
        ) from exc
    return tpl


def load_template_file(path: Path) -> FormTemplate:
    """Load a template from any file (an organisation's own form); the id must match the name."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    return parse_template(raw, path.name, expected_id=path.stem.split("@")[0])


def _forms_folder() -> Path:
    return resource_path("forms")


@functools.cache
def load_template(form_id: str, version: int | None = None) -> FormTemplate:
    """The shipped template ``form_id`` (current, or an archived ``version``).

    Archived versions live beside the current one as ``<id>@<version>.json`` so that records filled
    with an older template still validate and render.
    """
    if not re.match(ID_PATTERN, form_id):
        raise FieldkitError(ErrorCode.TEMPLATE_UNKNOWN, template=form_id)
    folder = _forms_folder()
    current = folder / f"{form_id}.json"
    if not current.is_file():
        raise FieldkitError(ErrorCode.TEMPLATE_UNKNOWN, template=form_id)
    tpl = parse_template(current.read_bytes(), f"forms/{form_id}.json", expected_id=form_id)
    if version is None or version == tpl.version:
        return tpl
    archived = folder / f"{form_id}@{version}.json"
    if not archived.is_file():
        raise FieldkitError(ErrorCode.TEMPLATE_UNKNOWN, template=f"{form_id} version {version}")
    old = parse_template(
        archived.read_bytes(), f"forms/{form_id}@{version}.json", expected_id=form_id
    )
    if old.version != version:
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID,
            file=f"forms/{form_id}@{version}.json",
            field="version",
            reason=f"version {old.version} does not match the file name",
        )
    return old


def template_ids() -> list[str]:
    return sorted(
        e.name[: -len(".json")]
        for e in _forms_folder().iterdir()
        if e.name.endswith(".json") and "@" not in e.name
    )


def all_templates() -> list[FormTemplate]:
    """Every shipped template (current versions), sorted by id."""
    return [load_template(form_id) for form_id in template_ids()]

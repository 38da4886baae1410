"""Persons in reports: pseudonyms by default, real names only with consent to publication by name.

OPCAT Art. 21(2): "No personal data shall be published without the express consent of the person
concerned." A person is shown by pseudonym code unless the report asks for names *and* the person's
interview consent grants publication with name (and no interview declines or withdraws it). Every
person whose name stays withheld gets a stated reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldkit.domain.common import ConsentStatus, is_empty
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType, FormTemplate, children, load_template
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.export.reports.data import RecordView
from fieldkit.export.reports.render import consent_record, is_identifying
from fieldkit.i18n import N_

REASON_NOT_REQUESTED = N_("names were not requested for this report")
REASON_NO_INTERVIEW = N_("no interview records this person's consent")
REASON_NOT_GRANTED = N_("consent to publication with name was not given")
REASON_CONDITIONAL = N_("consent to publication with name is conditional")
REASON_WITHDRAWN = N_("consent to publication with name was declined or withdrawn")


def template_for(record: RecordView) -> FormTemplate:
    """The template a record was filled with, or the current one when that version is gone."""
    version = int(record.template_version) if record.template_version.isdigit() else None
    try:
        return load_template(record.type, version)
    except FieldkitError:
        return load_template(record.type)


def code_field(template: FormTemplate) -> FieldDef | None:
    """The pseudonym/code field of a template: a text field with format "code", else by name."""
    for f in template.fields:
        if f.type == FieldType.TEXT and f.format == "code" and not is_identifying(f):
            return f
    for f in template.fields:
        if f.id in ("pseudonym", "code", "reference") and not is_identifying(f):
            return f
    return None


def record_code(record: RecordView) -> str:
    """A record's printable code (``W-017``), else a short form of its id."""
    try:
        f = code_field(template_for(record))
    except FieldkitError:
        f = None
    if f is not None:
        value = record.data.get(f.id)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return short_id(record.id)


def short_id(record_id: str) -> str:
    return record_id.split("-")[0][:8] if record_id else "?"


def name_fields(template: FormTemplate) -> list[FieldDef]:
    """Top-level text fields tagged ID whose id speaks of a name: what a "real name" is."""
    return [
        f
        for f in template.fields
        if f.type == FieldType.TEXT and is_identifying(f) and "name" in f.id
    ]


def person_refs(template: FormTemplate, data: Mapping[str, Any]) -> Iterator[tuple[str, FieldDef]]:
    """Every person reference in a record's data with the field that makes it."""
    yield from _refs(template.fields, data)


def _refs(fields: Sequence[FieldDef], data: Mapping[str, Any]) -> Iterator[tuple[str, FieldDef]]:
    for f in fields:
        value = data.get(f.id)
        if is_empty(value):
            continue
        if f.type == FieldType.PERSON_REF:
            for item in value if isinstance(value, list) else [value]:
                ref = item.get("id") if isinstance(item, Mapping) else item
                if ref:
                    yield str(ref), f
        elif f.type == FieldType.GROUP:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping):
                    yield from _refs(children(f), item)


def interviewee_field(template: FormTemplate) -> FieldDef | None:
    refs = [f for f in template.fields if f.type == FieldType.PERSON_REF]
    for f in refs:
        if "interviewee" in f.id or f.id in ("person", "source", "subject"):
            return f
    return refs[0] if refs else None


def publication_scopes(vocabulary: str) -> set[str]:
    """Consent scope codes that mean "publication with name" in a consent vocabulary."""
    try:
        vocab = load_vocabulary(vocabulary)
    except FieldkitError:
        return set()
    return {
        term.code
        for term in vocab
        if "name" in term.code and ("publi" in term.code or "identif" in term.code)
    }


@dataclass(frozen=True)
class NameDecision:
    show: bool
    reason: str  # untranslated (N_) when not shown


def decide_names(
    persons: Sequence[RecordView], interviews: Sequence[RecordView], include_names: bool
) -> dict[str, NameDecision]:
    """For each person: may the report print identifying data, and if not, why not."""
    statuses: dict[str, list[ConsentStatus | None]] = {}
    for interview in interviews:
        try:
            template = template_for(interview)
        except FieldkitError:
            continue
        who = interviewee_field(template)
        if who is None:
            continue
        ref = interview.data.get(who.id)
        person_id = ref.get("id") if isinstance(ref, Mapping) else ref
        if not person_id:
            continue
        for f in template.fields:
            if f.type != FieldType.CONSENT:
                continue
            record = consent_record(interview.data.get(f.id))
            scopes = publication_scopes(f.vocabulary or "consent_scopes")
            found = [record.effective_status(s) for s in scopes] if record else []
            statuses.setdefault(str(person_id), []).extend(found or [None])
    decisions: dict[str, NameDecision] = {}
    for person in persons:
        if not include_names:
            decisions[person.id] = NameDecision(False, REASON_NOT_REQUESTED)
            continue
        seen = statuses.get(person.id)
        if not seen:
            decisions[person.id] = NameDecision(False, REASON_NO_INTERVIEW)
        elif ConsentStatus.DECLINED in seen:
            decisions[person.id] = NameDecision(False, REASON_WITHDRAWN)
        elif ConsentStatus.GRANTED in seen:
            decisions[person.id] = NameDecision(True, "")
        elif ConsentStatus.CONDITIONAL in seen:
            decisions[person.id] = NameDecision(False, REASON_CONDITIONAL)
        else:
            decisions[person.id] = NameDecision(False, REASON_NOT_GRANTED)
    return decisions


def real_name(person: RecordView) -> str:
    try:
        fields = name_fields(template_for(person))
    except FieldkitError:
        return ""
    for f in fields:
        value = person.data.get(f.id)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def all_names(person: RecordView) -> list[str]:
    """Every identifying name-like text of a person (name, other names) as entered."""
    try:
        fields = name_fields(template_for(person))
    except FieldkitError:
        return []
    out = []
    for f in fields:
        value = person.data.get(f.id)
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out


_TOKEN_SPLIT = re.compile(r"[\s,;/()«»\"“”„]+")
_TAIL = r"[\w'’\-]*"


def _stem(token: str) -> str:
    """Enough of a name to catch its inflected forms (Олександр → Олександра, Олександром)."""
    if len(token) >= 7:
        return token[:-2]
    if len(token) >= 4:
        return token[:-1]
    return token


class NameRedactor:
    """Replaces known names of pseudonymous persons in entered text with ``[CODE]``.

    Narratives are printed as entered, but a monitor may have written a name into one; every
    word that starts like a part of a withheld person's name (three letters or more, inflected
    endings included) becomes that person's code. Over-redaction is preferred to a leak.
    """

    def __init__(self, people: Sequence[tuple[str, Sequence[str]]]) -> None:
        stems: dict[str, str] = {}
        for code, names in people:
            for name in names:
                for token in _TOKEN_SPLIT.split(name):
                    parts = [token, *token.split("-")] if "-" in token else [token]
                    for part in parts:
                        part = part.strip(".'’-")
                        if len(part) >= 3:
                            stems.setdefault(_stem(part).casefold(), code)
        self._codes = sorted(stems.items(), key=lambda pair: len(pair[0]), reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![\w])(?:"
                + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
                + ")"
                + _TAIL,
                re.IGNORECASE,
            )
            if stems
            else None
        )

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        pattern = self._pattern

        def replace(match: re.Match[str]) -> str:
            word = match.group(0).casefold()
            for stem, code in self._codes:
                if word.startswith(stem):
                    return f"[{code}]"
            return "[…]"  # pragma: no cover - the pattern only matches known stems

        replaced = pattern.sub(replace, text)
        return re.sub(r"(\[[^\]\s]+\])(?:[\s\-]+\1)+", r"\1", replaced)

"""Controlled vocabularies (code lists) with English, Ukrainian and Russian labels.

Each vocabulary is one JSON file in ``resources/vocabularies/<id>.json``::

    {"id": "facility_types", "version": 1,
     "title": {"en": ..., "uk": ..., "ru": ...},
     "source": "records.md §10.1; HURIDOCS MT17",
     "terms": [{"code": "sizo", "huridocs_code": null, "parent": null,
                "labels": {"en": ..., "uk": ..., "ru": ...}}, ...]}

``code`` is the project's stable slug; it is what records store. ``huridocs_code`` is the 12-digit
HURIDOCS micro-thesaurus code where one exists, kept for export to ESF-style systems. Labels are
written for this project; the OpenEvSys Russian micro-thesauri were not reused.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fieldkit.domain.common import Labels
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.resource_files import resource_path

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
_VOCAB_ID = re.compile(CODE_PATTERN)


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
    huridocs_code: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    parent: str | None = None
    deprecated: bool = False
    labels: Labels
    description: Labels | None = None

    def label(self, language: str) -> str:
        """The label in ``language`` (en, uk or ru)."""
        return self.labels.get(language)


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=CODE_PATTERN)]
    version: Annotated[int, Field(ge=1)]
    title: Labels
    source: str | None = None
    terms: Annotated[list[Term], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_codes(self) -> Vocabulary:
        seen: set[str] = set()
        for term in self.terms:
            if term.code in seen:
                raise ValueError(f"duplicate code '{term.code}'")
            seen.add(term.code)
        for term in self.terms:
            if term.parent is not None and term.parent not in seen:
                raise ValueError(f"term '{term.code}' has unknown parent '{term.parent}'")
        return self

    @functools.cached_property
    def _by_code(self) -> dict[str, Term]:
        return {term.code: term for term in self.terms}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __iter__(self) -> Iterator[Term]:  # type: ignore[override]
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, code: str) -> Term | None:
        return self._by_code.get(code)

    def term(self, code: str) -> Term:
        found = self._by_code.get(code)
        if found is None:
            raise FieldkitError(ErrorCode.NOT_FOUND, what=f"term '{code}' in vocabulary {self.id}")
        return found

    def codes(self) -> list[str]:
        return [term.code for term in self.terms]

    def label(self, code: str, language: str) -> str:
        """The label of ``code`` in ``language``; the code itself when it is unknown."""
        found = self._by_code.get(code)
        return found.labels.get(language) if found else code


def _folder() -> Path:
    return resource_path("vocabularies")


def _error_field(raw: Any, loc: tuple[int | str, ...]) -> str:
    """A readable location for a pydantic error: ``terms[3] (sizo).label.uk``."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            code = node[item].get("code") if isinstance(node, list) and item < len(node) else None
            parts[-1] = f"{parts[-1]}[{item}]" + (f" ({code})" if isinstance(code, str) else "")
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(item)
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "vocabulary"


def parse_vocabulary(raw: bytes, file: str) -> Vocabulary:
    """Parse and validate one vocabulary file; errors name the file and the field."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FieldkitError(ErrorCode.JSON_INVALID, path=file, reason=str(exc)) from exc
    try:
        vocab = Vocabulary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID,
            file=file,
            field=_error_field(data, tuple(first["loc"])),
            reason=first["msg"],
        ) from exc
    expected = Path(file).stem
    if vocab.id != expected:
        raise FieldkitError(
            ErrorCode.TEMPLATE_INVALID,
            file=file,
            field="id",
            reason=f"id '{vocab.id}' does not match the file name",
        )
    return vocab


@functools.cache
def load_vocabulary(vocab_id: str) -> Vocabulary:
    """The shipped vocabulary ``vocab_id``; FieldkitError(NOT_FOUND) if there is none."""
    if not _VOCAB_ID.match(vocab_id):
        raise FieldkitError(ErrorCode.NOT_FOUND, what=f"vocabulary {vocab_id!r}")
    entry = _folder() / f"{vocab_id}.json"
    if not entry.is_file():
        raise FieldkitError(ErrorCode.NOT_FOUND, what=f"vocabulary {vocab_id}")
    return parse_vocabulary(entry.read_bytes(), f"vocabularies/{vocab_id}.json")


def vocabulary_exists(vocab_id: str) -> bool:
    return bool(_VOCAB_ID.match(vocab_id)) and (_folder() / f"{vocab_id}.json").is_file()


def all_vocabulary_ids() -> list[str]:
    return sorted(
        entry.name[: -len(".json")] for entry in _folder().iterdir() if entry.name.endswith(".json")
    )


def all_vocabularies() -> list[Vocabulary]:
    return [load_vocabulary(vocab_id) for vocab_id in all_vocabulary_ids()]

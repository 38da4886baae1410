"""Catalogues, form templates and vocabularies read for the errors the domain review found
(docs/forms.md, "Wording"): one Ukrainian apostrophe (’), no known wrong abbreviations or terms,
no label that merely repeats its value. Archived template versions are frozen and not read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from fieldkit.domain import living_space
from fieldkit.domain.forms import FieldType, all_templates
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import get_translator
from fieldkit.resource_files import resource_path

CYRILLIC = "А-Яа-яЁёІіЇїЄєҐґ"
ASCII_APOSTROPHE = re.compile(rf"[{CYRILLIC}]['ʼ`][{CYRILLIC}]")
# (pattern, language or None for both, why)
WRONG = [
    (re.compile(r"ЄКЗК"), "uk", "the Ukrainian abbreviation of the CPT is ЄКПТ (T-5)"),
    (
        re.compile(r"ФП\s*(до\s*)?КПК"),
        "uk",
        "КПК is the Criminal Procedure Code; write OPCAT (T-3)",
    ),
    (re.compile(r"ФП\s*(к\s*)?КПП"), "ru", "КПП reads as a checkpoint; write OPCAT (T-4)"),
    (
        re.compile(r"(?<!не)виновн", re.IGNORECASE),
        "ru",
        "guilt is for a court: предполагаемый исполнитель (T-2)",
    ),
    (re.compile(r"Неподільн"), "uk", "спільне тримання (T-1)"),
    (re.compile(r"Подписание заявлений|Підписання заяв\b"), None, "показання, not заяви (T-6)"),
    (
        re.compile(r"доказательн(ый|ая|ое)"),
        "ru",
        "the procedural adjective is доказательственный (T-7)",
    ),
    (re.compile(r"засоб(и|ів) обмеження"), "uk", "спеціальні засоби / фізичне стримування (T-20)"),
    (
        re.compile(r"средств(а)? ограничения"),
        "ru",
        "специальные средства / средства фиксации (T-20)",
    ),
    (re.compile(r"ідентифікуюч"), "uk", "a Russianism: ідентифікаційні дані (T-12)"),
    (
        re.compile(r"під вартою до суду|под стражей до суда", re.IGNORECASE),
        None,
        "remand lasts until the judgment is final (T-36)",
    ),
    (re.compile(r"ОРСАТ"), None, "OPCAT in Latin letters"),
]


def _po_strings(language: str) -> Iterator[tuple[str, str]]:
    folder = resource_path("locale", language, "LC_MESSAGES")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                if text:
                    yield f"{entry.name}: {message.id!r}", str(text)


def _label_strings(node: Any, where: str, language: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == language and isinstance(value, str):
                yield where, value
            else:
                yield from _label_strings(value, f"{where}.{key}", language)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            ident = value.get("id") or value.get("code") if isinstance(value, dict) else None
            yield from _label_strings(value, f"{where}.{ident or i}", language)


def _resource_strings(language: str) -> Iterator[tuple[str, str]]:
    for folder in ("forms", "vocabularies"):
        for path in sorted(Path(resource_path(folder)).glob("*.json")):
            if "@" in path.name:
                continue  # an archived template version: frozen as released
            doc = json.loads(path.read_text(encoding="utf-8"))
            yield from _label_strings(doc, f"{folder}/{path.name}", language)


def _all_strings(language: str) -> list[tuple[str, str]]:
    return [*_po_strings(language), *_resource_strings(language)]


def test_one_ukrainian_apostrophe() -> None:
    found = [
        f"{where}: {text}" for where, text in _all_strings("uk") if ASCII_APOSTROPHE.search(text)
    ]
    assert found == [], "use ’ (U+2019):\n" + "\n".join(found[:30])


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_no_known_wrong_terms(language: str) -> None:
    found = []
    for where, text in _all_strings(language):
        for pattern, only, why in WRONG:
            if only in (None, language) and pattern.search(text):
                found.append(f"{where}: {text!r} — {why}")
    assert found == [], "\n".join(found[:30])


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_no_label_equals_its_value(language: str) -> None:
    """A label that repeats the value ("Below the CPT minimum: Below the CPT minimum", T-17)."""
    tr = get_translator(language)
    computed_words = {
        tr.gettext(text)
        for labels in (
            living_space.RESULT_LABELS,
            living_space.DESIRABLE_LABELS,
            living_space.TIER_LABELS,
            living_space.VEHICLE_LABELS,
        )
        for text in labels.values()
    }
    computed_words |= {tr.gettext("Below the CPT minimum"), tr.gettext("Meets the CPT minimum")}
    found = []
    for template in all_templates():
        for path, f in template.walk():
            label = f.label.get(language)
            if f.type == FieldType.COMPUTED and label in computed_words:
                found.append(f"{template.id}.{path}: {label}")
            if f.type in (FieldType.CHOICE, FieldType.MULTICHOICE) and f.vocabulary:
                terms = {t.label(language) for t in load_vocabulary(f.vocabulary)}
                if label in terms:
                    found.append(f"{template.id}.{path}: {label}")
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Нижче мінімуму ЄКЗК", "uk"),
        ("ст. 4 ФП КПК", "uk"),
        ("(ФП КПП)", "ru"),
        ("Причастные виновные", "ru"),
        ("Подписание заявлений", "ru"),
        ("доказательный оригинал", "ru"),
        ("Ведеться журнал засобів обмеження", "uk"),
        ("{count} ідентифікуючих полів", "uk"),
        ("Под стражей до суда", "ru"),
    ],
)
def test_the_lint_catches_what_the_review_found(text: str, language: str) -> None:
    assert any(only in (None, language) and pattern.search(text) for pattern, only, _why in WRONG)
    assert ASCII_APOSTROPHE.search("Мови інтерв'ю")
    assert not ASCII_APOSTROPHE.search("Мови інтерв’ю")
    assert not any(p.search("Нарушение презумпции невиновности") for p, _o, _w in WRONG)

"""No "1 minutes": a message that puts a count before a noun goes through ngettext, so each
language picks its own form (Ukrainian and Russian have three)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from fieldkit import i18n

SOURCE = Path(__file__).resolve().parents[2] / "src" / "fieldkit"
# a placeholder that holds a count, followed by an English plural noun
COUNT_NOUN = re.compile(
    r"\{(n|count|pages|entries|minutes|seconds|hours|days|versions|records|files|items)\}"
    r"( received| saved record)? (minutes|seconds|hours|days|pages|entries|bytes|problems|"
    r"records|files|items|versions|bundles|devices)\b"
)
# counts that are never one, or labels that read the same for every number
ALLOWED = {
    "Wrong passphrase. After {count} failed unlocks in a row",  # 3, 5, 10 or 20
}


def _singular_messages(folder: Path) -> list[tuple[str, int, str]]:
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(folder),
        method_map=[("**.py", "python")],
        keywords={"_": None, "N_": None, "ngettext": (1, 2)},
    ):
        if isinstance(message, str) and message:
            found.append((filename, lineno, message))
    return found


@pytest.mark.parametrize("area", ["ui", "cli", "services/bundles"])
def test_counted_nouns_use_plural_forms(area: str) -> None:
    slips = [
        f"{area}/{name}:{line}: {text!r}"
        for name, line, text in _singular_messages(SOURCE / area)
        if COUNT_NOUN.search(text) and not any(text.startswith(a) for a in ALLOWED)
    ]
    assert slips == []


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("ru", ["Размер: 1 байт", "Размер: 2 байта", "Размер: 5 байт", "Размер: 21 байт"]),
        ("uk", ["Розмір: 1 байт", "Розмір: 2 байти", "Розмір: 5 байтів", "Розмір: 21 байт"]),
    ],
)
def test_three_forms_in_ukrainian_and_russian(language: str, forms: list[str]) -> None:
    i18n.set_language(language)
    try:
        got = [
            i18n.ngettext("Size: {n} byte", "Size: {n} bytes", n).format(n=n) for n in (1, 2, 5, 21)
        ]
        pages = i18n.ngettext(
            "Saved {path} ({pages} page) and its signature {signature}.",
            "Saved {path} ({pages} pages) and its signature {signature}.",
            3,
        ).format(path="a.pdf", pages=3, signature="a.pdf.minisig")
    finally:
        i18n.set_language("en")
    assert got == forms
    assert ("3 страницы" if language == "ru" else "3 сторінки") in pages
    assert i18n.ngettext("Size: {n} byte", "Size: {n} bytes", 1).format(n=1) == "Size: 1 byte"

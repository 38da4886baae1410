"""Every evidence message a person can see has a Ukrainian and a Russian translation."""

from __future__ import annotations

import pytest

from fieldkit.domain.evidence import CUSTODY_ACTION_LABELS
from fieldkit.i18n import Translator
from fieldkit.services import media_worker

REASONS = [value for name, value in vars(media_worker).items() if name.startswith("REASON_")]


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_labels_and_reasons_translated(language: str) -> None:
    translator = Translator(language)
    for text in [*CUSTODY_ACTION_LABELS.values(), *REASONS]:
        translated = translator.gettext(text)
        assert translated != text, f"{language}: no translation for {text!r}"


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("uk", 1, "1 доказ"),
        ("uk", 3, "3 докази"),
        ("uk", 11, "11 доказів"),
        ("ru", 21, "21 доказательство"),
        ("ru", 4, "4 доказательства"),
        ("ru", 25, "25 доказательств"),
    ],
)
def test_item_count_plurals(language: str, n: int, expected: str) -> None:
    text = Translator(language).ngettext("{n} item", "{n} items", n).format(n=n)
    assert text == expected

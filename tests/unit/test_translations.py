"""Every user-facing string has a Ukrainian and a Russian translation with the same placeholders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fieldkit.domain.errors import MESSAGES, ErrorCode, FieldkitError
from fieldkit.i18n import Translator, get_translator
from fieldkit.resource_files import resource_path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from i18n_check import problems


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_string_is_translated(language: str) -> None:
    missing = problems(language)
    assert missing == [], "\n".join(missing[:50])


def test_every_error_code_has_a_message() -> None:
    assert set(MESSAGES) == set(ErrorCode)


def test_error_message_in_each_language() -> None:
    error = FieldkitError(ErrorCode.WRONG_PASSPHRASE)
    assert error.message() == "Wrong passphrase for this profile."
    assert error.message(get_translator("uk")) == "Неправильна парольна фраза для цього профілю."
    assert error.message(get_translator("ru")) == "Неверная парольная фраза для этого профиля."


def test_missing_parameter_never_hides_the_error() -> None:
    text = FieldkitError(ErrorCode.PROFILE_NOT_FOUND).message()
    assert "No profile at" in text


@pytest.mark.parametrize(
    ("n", "index"),
    [(1, 0), (2, 1), (4, 1), (5, 2), (11, 2), (12, 2), (21, 0), (22, 1), (25, 2), (111, 2)],
)
def test_east_slavic_plural_rule(n: int, index: int) -> None:
    from fieldkit.i18n import _east_slavic_plural

    assert _east_slavic_plural(n) == index


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        Translator("de")


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_one_translation_per_message_across_catalogues(language: str) -> None:
    """Catalogues are merged at load: a message translated two ways would depend on file order."""
    from babel.messages.pofile import read_po

    folder = resource_path("locale", language, "LC_MESSAGES")
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id or isinstance(message.id, tuple) or not message.string:
                continue
            first = seen.setdefault(str(message.id), (entry.name, str(message.string)))
            if first[1] != message.string:
                clashes.append(f"{message.id!r}: {first} vs {(entry.name, message.string)}")
    assert clashes == [], "\n".join(clashes)

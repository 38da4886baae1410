"""The strength check knows how people here type: Ukrainian and Russian words, ЙЦУКЕН rows,
Cyrillic words typed on a Latin layout and back; the generator gives uncommon words it accepts."""

from __future__ import annotations

import pytest

from fieldkit.crypto import passphrase
from fieldkit.crypto.passphrase import estimate, generate, on_latin_layout, word_list
from fieldkit.i18n import get_translator


@pytest.mark.parametrize(
    ("weak", "warning"),
    [
        ("йцукенгшщзхъ", passphrase.WARNING_CYRILLIC_ROW),
        ("фывапролджэ", passphrase.WARNING_CYRILLIC_ROW),
        ("пароль пароль", passphrase.WARNING_COMMON_WORD),
        ("слава україні", passphrase.WARNING_COMMON_WORD),
        ("Kyiv2024Kyiv!", passphrase.WARNING_REPEATED_WORD),
        ("зфыыцщкв1234", passphrase.WARNING_WRONG_LAYOUT),
    ],
)
def test_cyrillic_patterns_are_weak_with_a_reason(weak: str, warning: str) -> None:
    strength = estimate(weak)
    assert not strength.acceptable
    assert strength.warning == warning


def test_a_cyrillic_word_typed_on_the_latin_layout_is_recognised() -> None:
    assert on_latin_layout("пароль", passphrase._RU_KEYS) == "gfhjkm"
    assert on_latin_layout("їжак", passphrase._UK_KEYS) == "];fr"
    strength = estimate("gfhjkmgfhjkm")
    assert not strength.acceptable


def test_the_word_lists_come_from_wordfreq_with_their_licence() -> None:
    from fieldkit.resource_files import resource_path

    assert {"пароль", "україні"} <= set(word_list("uk")) | set(word_list("ru"))
    assert len(word_list("uk")) == len(word_list("ru")) == 20_000
    licence = resource_path("wordlists", "LICENSE-wordfreq.txt").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in licence or "Attribution-ShareAlike 4.0" in licence


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_generated_passphrases_are_uncommon_words_and_strong(language: str) -> None:
    seen = set()
    for _ in range(5):
        text = generate(language)
        words = text.split()
        assert len(words) == passphrase.GENERATOR_WORDS
        assert estimate(text).acceptable, text
        seen.add(text)
    assert len(seen) == 5, "drawn at random"
    if language != "en":
        ranks = {w: i for i, w in enumerate(word_list(language))}
        low, _high = passphrase.GENERATOR_RANKS
        assert all(ranks[w] >= low for w in generate(language).split())


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_the_reasons_are_translated(language: str) -> None:
    translator = get_translator(language)
    for reason in (
        passphrase.WARNING_COMMON_WORD,
        passphrase.WARNING_WRONG_LAYOUT,
        passphrase.WARNING_REPEATED_WORD,
        passphrase.WARNING_CYRILLIC_ROW,
    ):
        assert translator.gettext(reason) != reason

"""Folding and query building for full-text search (no database needed)."""

from __future__ import annotations

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.search import RecordFilters, fold_text, match_expression


def test_fold_text_unifies_yo_and_apostrophes() -> None:
    assert fold_text("Пётр ЁЖИК") == "Петр ЕЖИК"
    for typed in ("м'ясо", "м’ясо", "мʼясо", "м`ясо"):
        assert fold_text(typed) == "мʼясо"
    # An apostrophe that is not inside a word is left alone.
    assert fold_text("'цитата'") == "'цитата'"
    assert fold_text("a\x00b\x1bc") == "a b c"


def test_fold_text_is_nfc() -> None:
    decomposed = "Ї".replace("Ї", "І\u0308")  # І + combining diaeresis
    assert fold_text(decomposed) == "Ї"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("катування", '"катування"*'),
        ("Катування  в ІТТ", '"Катування"* AND "в"* AND "ІТТ"*'),
        ('say "hi', '"say"* AND """hi"*'),
        ("NEAR(a b)", '"NEAR(a"* AND "b)"*'),
        ("ёлка", '"елка"*'),
    ],
)
def test_match_expression_quotes_every_word(typed: str, expected: str) -> None:
    assert match_expression(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", '"', "* - ( )", "\x00"])
def test_match_expression_without_words_is_a_clear_error(typed: str) -> None:
    with pytest.raises(FieldkitError) as info:
        match_expression(typed)
    assert info.value.code == ErrorCode.SEARCH_QUERY_INVALID
    assert "at least one word" in info.value.message()


def test_match_expression_limits() -> None:
    with pytest.raises(FieldkitError, match="search_query_invalid"):
        match_expression("a " * 300)
    with pytest.raises(FieldkitError, match="search_query_invalid"):
        match_expression(" ".join(f"w{i}" for i in range(20)))


def test_filters_check_dates() -> None:
    with pytest.raises(FieldkitError) as info:
        RecordFilters(date_from="21.11.2026")
    assert info.value.code == ErrorCode.INVALID_ARGUMENT
    with pytest.raises(FieldkitError):
        RecordFilters(date_from="2026-02-01", date_to="2026-01-01")
    assert RecordFilters(date_from="2026-01-01", date_to="2026-01-31").conditions()


def test_snippet_marks_words_around_the_first_match() -> None:
    from fieldkit.storage.search_text import MARK_END, MARK_START, make_snippet, search_terms

    words = [f"слово{i}" for i in range(40)]
    words[20] = "Катування"
    words[22] = "катуваннями"
    snippet = make_snippet(" ".join(words), search_terms("катув"))
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert f"{MARK_START}Катування{MARK_END}" in snippet
    assert f"{MARK_START}катуваннями{MARK_END}" in snippet
    assert len(snippet.split()) == 16
    assert make_snippet("нічого схожого", search_terms("катув")) == ""
    # Latin accents and the folded Russian ё match as the index does.
    assert MARK_START in make_snippet("Visite de l'établissement", search_terms("etabl"))
    assert MARK_START in make_snippet("Задержан Петр", search_terms("Пётр"))
    short = make_snippet("Катування в ІТТ", search_terms("ІТТ"))
    assert short == f"Катування в {MARK_START}ІТТ{MARK_END}"

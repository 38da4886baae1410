"""How search text is folded and cut: the one form in which text is indexed and searched, and the
snippets shown with a hit. No database here; ``storage/search.py`` and the hub's tokens use it.

Text is folded the same way when it is indexed and when it is searched: Unicode NFC, Russian ё to е,
and the apostrophe variants inside Cyrillic words (м'ясо, м’ясо, мʼясо) to one letter, so that a
monitor finds a word however it was typed.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Sequence

MARK_START = "\x02"
MARK_END = "\x03"

_APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4"
# Only between Cyrillic letters (Ukrainian сім'я); a Latin l'établissement stays two words.
_APOSTROPHE_IN_WORD = re.compile(rf"(?<=[\u0400-\u04ff])[{_APOSTROPHES}](?=[\u0400-\u04ff])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fold_text(value: str) -> str:
    """The form of a text that is indexed and searched (see the module docstring)."""
    value = unicodedata.normalize("NFC", value)
    value = value.replace("ё", "е").replace("Ё", "Е")
    value = _APOSTROPHE_IN_WORD.sub("\u02bc", value)
    return _CONTROL.sub(" ", value)


def highlight(snippet: str, start: str, end: str) -> str:
    """Replace the match markers of a snippet with the caller's own."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


_TOKEN = re.compile(r"\w[\w\u02bc]*")
_COMBINING = re.compile("[\u0300-\u036f]")
SNIPPET_WORDS = 16


def _plain(value: str) -> str:
    """Lower case without combining marks, for comparing words with search terms."""
    return _COMBINING.sub("", unicodedata.normalize("NFD", value.lower()))


def search_terms(query: str) -> list[str]:
    """The words of a query as the snippet compares them (each is a prefix)."""
    return [_plain(t) for t in _TOKEN.findall(fold_text(query))]


@functools.lru_cache(maxsize=64)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    # A term where a word starts: no word character just before it (ʼ is one: a modifier letter).
    return re.compile("(?<!\\w)(?:" + "|".join(map(re.escape, terms)) + ")")


def _first_hit(plain: str, spans: Sequence[tuple[int, int]], terms: Sequence[str]) -> int | None:
    """Index in ``spans`` (the words, ``_TOKEN``) of the first word that starts with a term,
    found by one regular-expression search instead of a test of each word."""
    if not terms:
        return None
    found = _term_pattern(tuple(terms)).search(plain)
    if found is None:
        return None
    index = bisect.bisect_left(spans, (found.start(), -1))
    return index if index < len(spans) and spans[index][0] == found.start() else None


def make_snippet(text_: str, terms: Sequence[str], words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of ``text_`` around the first matching word, matches marked.

    Empty when no word of the text starts with a term. The text is the folded index text.
    """
    plain = _plain(text_)
    if len(plain) != len(text_):  # offsets must agree with the text; compare case-folded only
        plain = text_.lower()
        if len(plain) != len(text_):
            plain = text_
    spans = [m.span() for m in _TOKEN.finditer(plain)]

    def hit(index: int) -> bool:
        begin, finish = spans[index]
        word = plain[begin:finish]
        return any(word.startswith(term) for term in terms)

    first = _first_hit(plain, spans, terms)
    if first is None:
        return ""
    start = max(0, min(first - words // 4, len(spans) - words))
    end = min(len(spans), start + words)
    pieces: list[str] = []
    cursor = spans[start][0]
    for index in range(start, end):
        begin, finish = spans[index]
        pieces.append(text_[cursor:begin])
        word = text_[begin:finish]
        pieces.append(f"{MARK_START}{word}{MARK_END}" if hit(index) else word)
        cursor = finish
    body = " ".join("".join(pieces).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(spans) else "")

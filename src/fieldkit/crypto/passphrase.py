"""Passphrase strength, estimated with zxcvbn (pattern-aware, not character-class rules), taught
how this program's people type: Ukrainian and Russian words, the ЙЦУКЕН keyboard rows, Cyrillic
words typed on a Latin layout ("gfhjkm" is "пароль") and Latin ones typed on a Cyrillic layout.

The Ukrainian and Russian word lists (``resources/wordlists/``, derived from wordfreq's data by
``scripts/make_wordlists.py``) also feed :func:`generate`, which draws uncommon words of the chosen
language.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from fieldkit.i18n import N_

REQUIRED_SCORE = 4
MIN_LENGTH = 12
MAX_CHECKED = 72

# Reasons we add to zxcvbn's own (which know English only); the UI translates all of them.
WARNING_COMMON_WORD = N_("Common words and place names are easy to guess, in any language.")
WARNING_WRONG_LAYOUT = N_(
    "A word typed with the keyboard switched to the other alphabet is as easy to guess as the "
    "word itself."
)
WARNING_CYRILLIC_ROW = N_("Straight rows of keys are easy to guess.")
WARNING_REPEATED_WORD = N_("A word used twice adds almost nothing; use different words.")

# The key each Cyrillic letter is on, in the standard Russian and Ukrainian layouts.
_RU_KEYS = dict(
    zip(
        "йцукенгшщзхъфывапролджэячсмитьбюё",
        "qwertyuiop[]asdfghjkl;'zxcvbnm,.`",
        strict=True,
    )
)
_UK_KEYS = {**_RU_KEYS, "і": "s", "ї": "]", "є": "'", "ґ": "\\", "ʼ": "`"}
for _letter in "ыъэё":
    _UK_KEYS.pop(_letter, None)
_SHIFTED = {"[": "{", "]": "}", ";": ":", "'": '"', ",": "<", ".": ">", "`": "~", "\\": "|"}

_LISTS = {"uk": "ukrainian_words", "ru": "russian_words"}
# Places people here put in passwords, in the Latin spellings (the Cyrillic ones are in the lists).
PLACES_LATIN = (
    "ukraine",
    "ukraina",
    "kyiv",
    "kiev",
    "kharkiv",
    "kharkov",
    "odesa",
    "odessa",
    "lviv",
    "lvov",
    "dnipro",
    "dnepr",
    "zaporizhzhia",
    "zaporozhye",
    "kherson",
    "mykolaiv",
    "nikolaev",
    "mariupol",
    "donetsk",
    "luhansk",
    "lugansk",
    "crimea",
    "krym",
    "sevastopol",
    "chernihiv",
    "sumy",
    "poltava",
    "vinnytsia",
    "zhytomyr",
    "rivne",
    "lutsk",
    "ternopil",
    "uzhhorod",
    "chernivtsi",
    "bucha",
    "irpin",
    "bakhmut",
    "izium",
    "kramatorsk",
    "russia",
    "rossiya",
    "moskva",
    "moscow",
    "belarus",
    "minsk",
)
_LAYOUT_LISTS = ("ukrainian_on_latin_layout", "russian_on_latin_layout", "english_on_cyrillic")
_setup_lock = threading.Lock()


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    acceptable: bool
    warning: str
    suggestions: tuple[str, ...]
    crack_time: str


@functools.cache
def word_list(language: str) -> tuple[str, ...]:
    """The shipped words of ``language`` ("uk" or "ru"), most frequent first."""
    from fieldkit.resource_files import resource_path

    text = resource_path("wordlists", f"{language}.txt").read_text(encoding="utf-8")
    return tuple(w for w in text.split("\n") if w)


def on_latin_layout(word: str, keys: dict[str, str]) -> str | None:
    """What a Cyrillic word gives when typed with the keyboard on the Latin layout."""
    out = []
    for letter in word:
        key = keys.get(letter)
        if key is None:
            return None
        out.append(key)
    return "".join(out)


def _cyrillic_graph(graph: dict[str, list[str | None]], keys: dict[str, str]) -> dict[str, Any]:
    """zxcvbn's QWERTY adjacency graph with each key's Latin letter replaced by its Cyrillic one."""
    latin_to_cyrillic: dict[str, str] = {}
    for letter, key in keys.items():
        latin_to_cyrillic[key] = letter
        shifted = _SHIFTED.get(key, key.upper())
        if shifted != key:
            latin_to_cyrillic[shifted] = letter.upper()

    def convert(chars: str) -> str:
        return "".join(latin_to_cyrillic.get(c, c) for c in chars)

    return {
        convert(key): [convert(n) if n is not None else None for n in neighbours]
        for key, neighbours in graph.items()
    }


_ready = False


def _teach_zxcvbn() -> None:
    """Add our word lists and the ЙЦУКЕН keyboards to zxcvbn's matchers (once per process)."""
    global _ready
    with _setup_lock:
        if _ready:
            return
        from zxcvbn import adjacency_graphs, matching
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        lists: dict[str, list[str]] = {}
        for language, name in _LISTS.items():
            lists[name] = list(word_list(language))
        for language, name, keys in (
            ("uk", "ukrainian_on_latin_layout", _UK_KEYS),
            ("ru", "russian_on_latin_layout", _RU_KEYS),
        ):
            typed = (on_latin_layout(w, keys) for w in word_list(language))
            lists[name] = [t for t in typed if t is not None and len(t) >= 3]
        latin_to_ru = {key: letter for letter, key in _RU_KEYS.items()}
        lists["english_on_cyrillic"] = [
            "".join(latin_to_ru.get(c, c) for c in word)
            for name in ("passwords", "english_wikipedia")
            for word in FREQUENCY_LISTS[name][:20000]
        ]
        lists["places_latin"] = list(PLACES_LATIN)
        matching.add_frequency_lists(lists)
        qwerty = adjacency_graphs.ADJACENCY_GRAPHS["qwerty"]
        matching.GRAPHS["jcuken_ru"] = _cyrillic_graph(qwerty, _RU_KEYS)
        matching.GRAPHS["jcuken_uk"] = _cyrillic_graph(qwerty, _UK_KEYS)
        _ready = True


def _our_warning(sequence: list[dict[str, Any]]) -> str:
    """A reason for the weakest part zxcvbn found when it is one of the patterns we added."""
    for match in sequence:
        if match.get("pattern") == "spatial" and str(match.get("graph", "")).startswith("jcuken"):
            return WARNING_CYRILLIC_ROW
    common = set(word_list("uk")) | set(word_list("ru")) | set(PLACES_LATIN)
    for match in sequence:
        if match.get("pattern") != "dictionary":
            continue
        if str(match.get("matched_word", "")) in common:
            return WARNING_COMMON_WORD
        if match.get("dictionary_name") in _LAYOUT_LISTS:
            return WARNING_WRONG_LAYOUT
    return ""


def estimate(passphrase: str) -> Strength:
    # Imported here: loading zxcvbn's dictionaries and ours costs about half a second, needed
    # only when a passphrase is being chosen.
    from zxcvbn import zxcvbn

    _teach_zxcvbn()
    # zxcvbn refuses input over 72 characters; the first 72 give a lower bound of the strength.
    checked = passphrase[:MAX_CHECKED].replace("ё", "е").replace("Ё", "Е")
    result = zxcvbn(checked)
    feedback = result.get("feedback", {})
    warning = str(feedback.get("warning") or "")
    suggestions = tuple(str(s) for s in feedback.get("suggestions", []))
    score = int(result["score"])
    # zxcvbn counts each part of a passphrase on its own, so "Kyiv2024Kyiv!" scores as if its
    # two "Kyiv" were unrelated; a word used twice caps the score.
    words = re.findall(r"[^\W\d_]{3,}", checked.lower())
    if len(words) != len(set(words)) and score >= REQUIRED_SCORE:
        score = REQUIRED_SCORE - 1
        warning = WARNING_REPEATED_WORD
    if score < REQUIRED_SCORE and not warning:
        warning = _our_warning(list(result.get("sequence", [])))
    if len(passphrase) < MIN_LENGTH:
        score = min(score, 2)
        warning = warning or "too short"
    crack = str(result["crack_times_display"]["offline_slow_hashing_1e4_per_second"])
    return Strength(
        score=score,
        acceptable=score >= REQUIRED_SCORE,
        warning=warning,
        suggestions=suggestions,
        crack_time=crack,
    )


# Uncommon, but still words a person knows: ranks past the everyday vocabulary.
GENERATOR_RANKS = (3000, 20000)
GENERATOR_WORDS = 5


def generate(language: str, words: int = GENERATOR_WORDS) -> str:
    """A passphrase of uncommon words of ``language`` (uk, ru; English uses zxcvbn's own list),
    drawn with :mod:`secrets`, separated by spaces."""
    if language in _LISTS:
        pool = word_list(language)
    else:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        pool = tuple(FREQUENCY_LISTS["english_wikipedia"])
    low, high = GENERATOR_RANKS
    candidates = [w for w in pool[low:high] if 4 <= len(w) <= 10 and w.isalpha()]
    return " ".join(secrets.choice(candidates) for _ in range(words))

"""Derive the passphrase word lists in resources/wordlists/ from the wordfreq package's data.

    .venv/bin/pip install -c constraints.txt wordfreq   # a build-time tool, not a run-time need
    .venv/bin/python scripts/make_wordlists.py

Writes ``uk.txt`` and ``ru.txt``: the most frequent words of each language, most frequent first,
lower case, letters only (and the Ukrainian apostrophe), one a line. The strength check ranks a
passphrase's words by these lists; the generator draws uncommon words from their far end. The data
is wordfreq's (CC BY-SA 4.0, see LICENSE-wordfreq.txt beside the lists), so the lists are shared
alike under that licence.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

WORDS_PER_LANGUAGE = 20_000
LETTERS = {
    "uk": re.compile(
        r"^[абвгґдеєжзиіїйклмнопрстуфхцчшщьюя]+(?:ʼ[абвгґдеєжзиіїйклмнопрстуфхцчшщьюя]+)?$"
    ),
    "ru": re.compile(r"^[абвгдеёжзийклмнопрстуфхцчшщъыьэюя]+$"),
}
FOLDER = Path(__file__).resolve().parents[1] / "resources" / "wordlists"


def words(language: str) -> list[str]:
    from wordfreq import top_n_list

    pattern = LETTERS[language]
    out: list[str] = []
    seen: set[str] = set()
    for word in top_n_list(language, WORDS_PER_LANGUAGE * 3):
        word = word.lower().replace("'", "ʼ").replace("’", "ʼ").replace("ё", "е")
        if len(word) >= 2 and pattern.match(word) and word not in seen:
            seen.add(word)
            out.append(word)
        if len(out) >= WORDS_PER_LANGUAGE:
            break
    return out


def main() -> int:
    from importlib.metadata import version

    FOLDER.mkdir(parents=True, exist_ok=True)
    for language in ("uk", "ru"):
        found = words(language)
        (FOLDER / f"{language}.txt").write_text("\n".join(found) + "\n", encoding="utf-8")
        print(f"{language}: {len(found)} words (wordfreq {version('wordfreq')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

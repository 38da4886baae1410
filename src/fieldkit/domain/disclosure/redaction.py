"""Free text with the names (and, where codes are not shown, the codes) of persons replaced.

A monitor may write a name into any text field. Every word that starts like a part of a hidden
person's name (three letters or more, so inflected forms such as Олександра, Олександром are
caught) becomes the person's replacement: ``[D-204]`` where codes may be shown, else the
translated "[withheld]". Codes that may not be shown are replaced the same way. Over-redaction is
preferred to a leak.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fieldkit.domain.disclosure.policy import ConcernedPerson, DisclosurePolicy

_NAME_SPLIT = re.compile(r"[\s,;/()«»\"“”„.\-]+")
# A word: letters and digits, with apostrophes inside (Мар'яна, Мар’яна, Марʼяна).
_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*")
MIN_NAME_PART = 3


def _stem(token: str) -> str:
    """Enough of a name to catch its inflected forms."""
    if len(token) >= 7:
        return token[:-2]
    if len(token) >= 4:
        return token[:-1]
    return token


@dataclass(frozen=True)
class HiddenPerson:
    """What to hide of one person in free text, and what to put in its place."""

    names: tuple[str, ...]
    codes: tuple[str, ...]
    replacement: str


class Redactor:
    """Callable: text in, text with hidden names and codes replaced out."""

    def __init__(self, people: Sequence[HiddenPerson]) -> None:
        stems: dict[str, str] = {}
        for person in people:
            for name in person.names:
                for part in _NAME_SPLIT.split(name):
                    part = part.strip("'’ʼ")
                    if len(part) >= MIN_NAME_PART:
                        stems.setdefault(_stem(part).casefold(), person.replacement)
        self._stems = stems
        self._shortest = min((len(s) for s in stems), default=0)
        codes: dict[str, str] = {}
        for person in people:
            for code in person.codes:
                if code.strip():
                    codes.setdefault(code.strip().casefold(), person.replacement)
        self._codes = codes
        self._code_pattern = (
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if codes
            else None
        )

    def __bool__(self) -> bool:
        return bool(self._stems or self._codes)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._code_pattern is not None:
            text = self._code_pattern.sub(lambda m: self._codes[m.group(0).casefold()], text)
        if self._stems:
            text = _WORD.sub(self._replace_word, text)
            # "[D-204] [D-204]" (first and last name) reads as one mention.
            text = re.sub(r"(\[[^\]]+\])(?:[\s\-]+\1)+", r"\1", text)
        return text

    def _replace_word(self, match: re.Match[str]) -> str:
        word = match.group(0)
        folded = word.casefold()
        for length in range(len(folded), self._shortest - 1, -1):
            replacement = self._stems.get(folded[:length])
            if replacement is not None:
                return replacement
        return word


def redactor_for(
    policy: DisclosurePolicy, persons: Sequence[ConcernedPerson], withheld_mark: str
) -> Redactor:
    """The redactor an output addressed under ``policy`` uses for text about ``persons``.

    ``withheld_mark`` is the translated text of ``policy.WITHHELD_MARK``.
    """
    hidden: list[HiddenPerson] = []
    for person in persons:
        show_name = policy.name(person).included
        show_code = policy.code(person).included
        if show_name and show_code:
            continue
        hidden.append(
            HiddenPerson(
                names=() if show_name else person.names,
                codes=() if show_code else person.codes,
                replacement=policy.replacement(person, withheld_mark),
            )
        )
    return Redactor(hidden)

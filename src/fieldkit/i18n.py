"""One translation mechanism for every layer: gettext catalogues (.po) read through Babel.

Why gettext and not Qt Linguist: reports, bundle messages and command-line output are produced
in Qt-free layers and may need a language other than the interface's, so every layer takes an
explicit :class:`Translator`. Catalogues are kept as ``.po`` text under
``resources/locale/<lang>/LC_MESSAGES`` (one file per area, merged at load) and parsed at start-up,
so no compiled binaries live in the repository and a translator can edit them with any PO editor.
"""

from __future__ import annotations

import functools
import os
from typing import Final

from fieldkit.resource_files import resource_path

SUPPORTED_LANGUAGES: Final = ("en", "uk", "ru")
LANGUAGE_NAMES: Final = {"en": "English", "uk": "Українська", "ru": "Русский"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


class Translator:
    """Translations for one language; English is the source language and needs no catalogue."""

    def __init__(self, language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self.language = language
        self._singular: dict[str, str] = {}
        self._plural: dict[tuple[str, str], tuple[str, ...]] = {}
        self._plural_rule = _english_plural
        if language != "en":
            self._load()

    def _load(self) -> None:
        from babel.messages.pofile import read_po

        folder = resource_path("locale", self.language, "LC_MESSAGES")
        if not folder.is_dir():
            return
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".po"):
                continue
            with entry.open("rb") as handle:
                catalog = read_po(handle, locale=self.language)
            self._plural_rule = _plural_rule_for(self.language)
            for message in catalog:
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple):
                    forms = tuple(message.string) if isinstance(message.string, tuple) else ()
                    if forms and all(forms):
                        self._plural[(message.id[0], message.id[1])] = forms
                elif isinstance(message.string, str) and message.string:
                    self._singular[str(message.id)] = message.string

    def gettext(self, message: str) -> str:
        return self._singular.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self._plural.get((singular, plural))
        if forms:
            index = self._plural_rule(n)
            return forms[min(index, len(forms) - 1)]
        return singular if n == 1 else plural

    def __call__(self, message: str) -> str:
        return self.gettext(message)


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


def _east_slavic_plural(n: int) -> int:
    # The standard gettext rule for Ukrainian and Russian: one, few, many.
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def _plural_rule_for(language: str):  # type: ignore[no-untyped-def]
    return _east_slavic_plural if language in ("uk", "ru") else _english_plural


@functools.cache
def get_translator(language: str) -> Translator:
    return Translator(language)


def language_from_environment() -> str:
    """The language asked for by FIELDKIT_LANG, then the POSIX locale variables; else English."""
    for variable in ("FIELDKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        code = value.split(".")[0].split("_")[0].lower()
        if code in SUPPORTED_LANGUAGES:
            return code
    return "en"


class _Current:
    translator: Translator = Translator("en")


def set_language(language: str) -> Translator:
    """Switch the process-wide language used by the interface and the command line."""
    _Current.translator = get_translator(language)
    return _Current.translator


def current() -> Translator:
    return _Current.translator


def _(message: str) -> str:
    """Translate into the current interface language."""
    return _Current.translator.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _Current.translator.ngettext(singular, plural, n)

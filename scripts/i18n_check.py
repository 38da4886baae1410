#!/usr/bin/env python3
"""List user-facing strings that lack a Ukrainian or Russian translation.

    python scripts/i18n_check.py            # report per language; exit 1 if anything is missing
    python scripts/i18n_check.py --pot FILE # also write a template of every string

Strings are found with Babel's Python extractor (keywords `_`, `N_`, `ngettext`) in src/fieldkit.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "fieldkit"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}")


def extract() -> Iterator[tuple[str, str | tuple[str, str], int]]:
    """(relative file, message id or (singular, plural), line)."""
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        if not message:
            continue
        if isinstance(message, tuple):
            singular, plural = message[0], message[1]
            if singular and plural:
                yield filename, (singular, plural), lineno
        else:
            yield filename, message, lineno


def problems(language: str) -> list[str]:
    from fieldkit.i18n import Translator

    translator = Translator(language)
    found: list[str] = []
    for filename, message, lineno in extract():
        if isinstance(message, tuple):
            if (message[0], message[1]) not in translator._plural:
                found.append(f"{filename}:{lineno}: untranslated plural {message[0]!r}")
            continue
        translated = translator._singular.get(message)
        if translated is None:
            found.append(f"{filename}:{lineno}: untranslated {message!r}")
        elif set(PLACEHOLDER.findall(translated)) != set(PLACEHOLDER.findall(message)):
            found.append(f"{filename}:{lineno}: placeholders differ in {message!r}")
    return found


def write_template(path: Path) -> None:
    catalog = Catalog(project="fieldkit")
    for filename, message, lineno in extract():
        catalog.add(message, locations=[(filename, lineno)])
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pot", type=Path)
    args = parser.parse_args()
    if args.pot:
        write_template(args.pot)
    status = 0
    for language in ("uk", "ru"):
        found = problems(language)
        for line in found:
            print(f"[{language}] {line}")
        status |= bool(found)
    return status


if __name__ == "__main__":
    sys.exit(main())

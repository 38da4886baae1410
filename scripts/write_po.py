#!/usr/bin/env python3
"""Write or update an area's .po catalogues from a table of translations.

    python scripts/write_po.py AREA TABLE.py

TABLE.py defines T = {msgid: (ukrainian, russian)}. Existing entries of the area's catalogues are
kept unless the table gives a new translation for them.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parent.parent / "resources" / "locale"


def update(area: str, table: dict[str, tuple[str, str]]) -> None:
    for index, language in enumerate(("uk", "ru")):
        path = LOCALE / language / "LC_MESSAGES" / f"{area}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="fieldkit", fuzzy=False)
        for msgid, translations in table.items():
            existing = catalog.get(msgid)
            if existing is not None:
                existing.string = translations[index]
            else:
                catalog.add(msgid, translations[index])
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True)


def main() -> int:
    area, table_file = sys.argv[1], sys.argv[2]
    table = runpy.run_path(table_file)["T"]
    update(area, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the user guide is, in which language, and the anchors of its headings (no Qt here).

The guide is ``docs/user-guide.md`` (English) with ``docs/user-guide.uk.md`` and
``docs/user-guide.ru.md`` beside it, and the screenshots in ``docs/screenshots``. The whole
``docs/`` folder is shipped, so the guide's links to the other documents open offline too:

* a frozen build and an installed wheel carry it as ``docs`` inside the resources folder
  (``fieldkit/_resources/docs``, see :mod:`fieldkit.resource_files`);
* a source checkout reads its own ``docs/`` beside ``resources/``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fieldkit.resource_files import resources_root

GUIDE_NAME = "user-guide"
# The file name of the guide in each language; English is the original.
GUIDE_FILES = {"en": "user-guide.md", "uk": "user-guide.uk.md", "ru": "user-guide.ru.md"}


def docs_folder() -> Path:
    """The documentation folder of this installation (shipped copy first, then the checkout's)."""
    root = resources_root()
    shipped = root / "docs"
    if shipped.is_dir():
        return shipped
    return root.parent / "docs"


@dataclass(frozen=True)
class GuideFile:
    """The guide to show for a language: the file, its language, and whether it is a stand-in."""

    path: Path
    language: str
    wanted: str

    @property
    def is_fallback(self) -> bool:
        """True when the guide is not (yet) written in the wanted language and English is shown."""
        return self.language != self.wanted


def guide_file(language: str) -> GuideFile | None:
    """The guide in ``language``, else the English one; None when no guide is installed."""
    folder = docs_folder()
    for candidate in (language, "en"):
        name = GUIDE_FILES.get(candidate)
        if name and (folder / name).is_file():
            return GuideFile(folder / name, candidate, language)
    return None


def heading_anchor(text: str) -> str:
    """The anchor a heading gets on GitHub (and in links of the guide's table of contents):
    lower case, punctuation dropped, spaces as hyphens; letters of any script stay."""
    text = unicodedata.normalize("NFC", text.strip().lower())
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LNM")
    return re.sub(" ", "-", kept)


def unique_anchors(texts: list[str]) -> list[str]:
    """Anchors for headings in order; repeated ones get ``-1``, ``-2``... as on GitHub."""
    seen: dict[str, int] = {}
    anchors = []
    for text in texts:
        base = heading_anchor(text)
        count = seen.get(base, 0)
        anchors.append(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return anchors


def local_document(folder: Path, target: str) -> Path | None:
    """A link's target as a file inside ``folder`` (a relative link to another document), or
    None: an address elsewhere, or a path that leaves the folder."""
    if not target or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("/"):
        return None
    path = (folder / target).resolve()
    base = folder.resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path

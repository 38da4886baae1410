"""The one loader of fieldkit's shipped files: forms, vocabularies, translations, fonts, icons.

They live in the top-level ``resources/`` folder of the source tree and are shipped in three ways;
:func:`resources_root` tries them in this order:

* a frozen build (PyInstaller) unpacks them to ``<sys._MEIPASS>/fieldkit/_resources``;
* an installed wheel carries them beside the package as ``fieldkit/_resources``;
* a source checkout has them at ``<checkout>/resources``, found from the imported package's own
  file (``<checkout>/src/fieldkit/__init__.py``), so each checkout or worktree uses its own files
  whatever an installed distribution points at.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import fieldkit
from fieldkit.domain.errors import ErrorCode, FieldkitError

WHEEL_FOLDER = "_resources"
# A file every complete resources folder has; it tells a real folder from a stray empty one.
_MARKER = Path("fonts") / "DejaVuSans.ttf"


def candidate_roots() -> list[Path]:
    """Where the resources may be, most specific first."""
    package = Path(fieldkit.__file__).resolve().parent
    roots: list[Path] = []
    frozen_base = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_base:
        roots.append(Path(frozen_base) / "fieldkit" / WHEEL_FOLDER)
    roots.append(package / WHEEL_FOLDER)
    roots.append(package.parent.parent / "resources")
    return roots


@functools.cache
def resources_root() -> Path:
    """The resources folder of this installation; a clear error when the installation lacks it."""
    roots = candidate_roots()
    for root in roots:
        if (root / _MARKER).is_file():
            return root
    raise FieldkitError(ErrorCode.RESOURCES_MISSING, path=str(roots[-1]))


def resource_path(*parts: str) -> Path:
    """A file or folder inside the resources, e.g. ``resource_path("forms", "case.json")``."""
    return resources_root().joinpath(*parts)

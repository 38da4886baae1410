"""``fieldkit guide``: where the user guide is, in the chosen language (to read it in any viewer).

The desktop program opens the same file from Help → User guide (F1).
"""

from __future__ import annotations

import argparse
from typing import Any

from fieldkit import i18n, user_guide
from fieldkit.cli.common import emit
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    guide = subparsers.add_parser(
        "guide",
        parents=parents,
        help=_("show where the user guide is, in the chosen language (--lang)"),
    )
    guide.set_defaults(handler=cmd_guide)


def cmd_guide(args: argparse.Namespace) -> int:
    language = i18n.current().language
    found = user_guide.guide_file(language)
    if found is None:
        raise FieldkitError(
            ErrorCode.RESOURCES_MISSING,
            path=str(user_guide.docs_folder() / user_guide.GUIDE_FILES["en"]),
        )
    lines = [str(found.path)]
    if found.is_fallback:
        lines.append(
            _("The user guide is not yet translated into your language; it is shown in English.")
        )
    emit(
        args,
        {
            "ok": True,
            "path": str(found.path),
            "language": found.language,
            "wanted": found.wanted,
            "fallback": found.is_fallback,
            "screenshots": str(found.path.parent / "screenshots"),
        },
        lines,
    )
    return 0

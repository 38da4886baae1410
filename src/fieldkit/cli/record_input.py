"""Reading a record's data from a JSON file for `record add` and `record update`, and reporting
data that does not pass validation."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from fieldkit import i18n
from fieldkit.domain.errors import (
    ErrorCode,
    FieldkitError,
    RecordValidationError,
    TranslatableText,
)
from fieldkit.domain.oserrors import NOT_REGULAR_FILE, os_reason
from fieldkit.i18n import N_, _, ngettext

MAX_JSON_FILE_BYTES = 16 * 1024 * 1024

# The reasons Python's JSON parser gives, in words a person can act on (translated when shown).
JSON_REASONS = {
    "Expecting value": N_("a value is missing or is not valid JSON"),
    "Expecting property name enclosed in double quotes": N_(
        "a field name in double quotes is expected (is there a comma too many?)"
    ),
    "Expecting ',' delimiter": N_("a comma is missing"),
    "Expecting ':' delimiter": N_("a colon is missing after a field name"),
    "Unterminated string starting at": N_("a text in quotes is not closed"),
    "Invalid control character at": N_("a line break or control character inside quotes"),
    "Extra data": N_("there is more after the end of the JSON document"),
    "Invalid \\escape": N_("an invalid backslash escape"),
    "Invalid \\uXXXX escape": N_("an invalid \\u escape"),
}


def read_json_file(path: Path) -> Any:
    """A JSON document from a file; JSON_INVALID names the file and where it breaks."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise FieldkitError(
                    ErrorCode.FILE_NOT_READABLE,
                    path=str(path),
                    reason=TranslatableText(NOT_REGULAR_FILE),
                )
            raw = handle.read(MAX_JSON_FILE_BYTES + 1)
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=str(path), reason=os_reason(exc)
        ) from exc
    if len(raw) > MAX_JSON_FILE_BYTES:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("larger than {size} MiB").format(size=MAX_JSON_FILE_BYTES // 2**20),
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("not UTF-8 text (byte {pos})").format(pos=exc.start),
        ) from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(_('the key "{key}" appears twice').format(key=key[:60]))
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise ValueError(_("{name} is not allowed").format(name=name))

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("line {line}, column {column}: {problem}").format(
                line=exc.lineno, column=exc.colno, problem=_json_reason(exc.msg)
            ),
        ) from None
    except RecursionError:
        raise FieldkitError(
            ErrorCode.JSON_INVALID, path=str(path), reason=_("it is nested too deeply")
        ) from None
    except ValueError as exc:
        raise FieldkitError(ErrorCode.JSON_INVALID, path=str(path), reason=str(exc)[:200]) from None


def _json_reason(message: str) -> str:
    """The parser's English reason as a short translated one (unknown reasons stay as they are)."""
    for known, reason in JSON_REASONS.items():
        if message.startswith(known):
            return _(reason)
    return message


def read_form_data(path: Path) -> dict[str, Any]:
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("the file must hold one JSON object with the form's fields"),
        )
    return data


def report_invalid(args: argparse.Namespace, exc: RecordValidationError) -> int:
    translator = i18n.current()
    issues = [
        {"field": issue.field, "reason": translator.gettext(issue.reason)} for issue in exc.issues
    ]
    if getattr(args, "json", False):
        error = exc.to_dict(translator)
        error["issues"] = issues
        print(json.dumps({"ok": False, "error": error}, ensure_ascii=False, indent=2))
    count = len(issues)
    print(
        "fieldkit: "
        + ngettext(
            "The data is not valid ({n} problem); nothing was saved:",
            "The data is not valid ({n} problems); nothing was saved:",
            count,
        ).format(n=count),
        file=sys.stderr,
    )
    for issue in issues:
        print(f"  {issue['field']}: {issue['reason']}", file=sys.stderr)
    return 1

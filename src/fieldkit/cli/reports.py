"""Report commands: `report case ID --out FILE.pdf` and `report visit ID --out FILE.pdf`.

The global ``--lang`` chooses the report's language as well as the messages' (en, uk, ru); without
it the interface language is used. ``--audience`` says who the report is for (docs/disclosure.md);
``--names`` prints real names only for persons who consented to publication with name (and to the
audience); everyone else stays pseudonymous.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit import i18n
from fieldkit.cli.common import emit, open_vault
from fieldkit.domain.disclosure import Audience
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.services.reports import ReportResult

# reportlab is imported only when a report is made, so every other command starts faster.


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report",
        parents=parents,
        help=_("print a case file or a visit report as a signed PDF"),
        description=_(
            "Write a PDF report and, beside it, FILE.pdf.minisig: its signature by this "
            "device's key. The report's language is the one chosen with --lang."
        ),
    )
    sub = report.add_subparsers(dest="report_command", metavar="KIND", required=True)

    case = sub.add_parser(
        "case", parents=parents, help=_("the case file for lawyers (persons by pseudonym)")
    )
    case.add_argument("id", help=_("the case id"))
    _add_output(case)
    case.add_argument(
        "--names",
        action="store_true",
        help=_(
            "show real names of persons who consented to publication with name; "
            "all others stay pseudonymous"
        ),
    )
    _add_audience(
        case,
        _(
            "who the case file is for (default: organisation); what they may not have is listed "
            "as withheld"
        ),
    )
    case.set_defaults(handler=cmd_report_case)

    visit = sub.add_parser(
        "visit", parents=parents, help=_("the NPM visit report with the facility's history")
    )
    visit.add_argument("id", help=_("the visit id"))
    _add_output(visit)
    _add_audience(visit, _("who the report is for (default: the visit's report confidentiality)"))
    visit.set_defaults(handler=cmd_report_visit)


AUDIENCE_CODES = ", ".join(a.value for a in Audience)


def _add_audience(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--audience",
        default=None,
        metavar="AUDIENCE",
        help=_("{text}; one of: {choices}").format(text=text, choices=AUDIENCE_CODES),
    )


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.pdf", help=_("where to write the PDF")
    )
    parser.add_argument(
        "--force", action="store_true", help=_("replace FILE.pdf and its signature if they exist")
    )
    parser.add_argument(
        "--prepared-by", default="", metavar="TEXT", help=_("who prepared the report (printed)")
    )


class _Progress:
    """A line on stderr at most twice a second while a report is laid out."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if now - self._last < 0.5 or total <= 0:
            return
        self._last = now
        print(
            _("report: {percent}% laid out").format(percent=int(100 * done / total)),
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def _force_hint(out: Path) -> Iterator[None]:
    """FILE_EXISTS comes from the service shared with the desktop program; on the command line
    the way out is --force, so a hint line follows the error."""
    try:
        yield
    except FieldkitError as exc:
        if exc.code == ErrorCode.FILE_EXISTS:
            setattr(  # noqa: B010 - read by cli.main with getattr
                exc,
                "cli_hint",
                _("to replace {path} and its signature, run the command again with --force").format(
                    path=out
                ),
            )
        if exc.code == ErrorCode.AUDIENCE_BLOCKED:
            setattr(  # noqa: B010 - read by cli.main with getattr
                exc,
                "cli_hint",
                _(
                    "to write the report for the organisation itself, run the command again with "
                    "--audience organisation"
                ),
            )
        raise


def _language(args: argparse.Namespace) -> str:
    return str(getattr(args, "lang", None) or i18n.current().language)


def cmd_report_case(args: argparse.Namespace) -> int:
    from fieldkit.services.reports import ReportService

    vault = open_vault(args)
    try:
        with _force_hint(args.out):
            result = ReportService(vault).case_file(
                args.id,
                args.out,
                _language(args),
                include_names=args.names,
                progress=None if args.json else _Progress(),
                overwrite=args.force,
                prepared_by=args.prepared_by,
                audience=args.audience or Audience.ORGANISATION,
            )
    finally:
        vault.lock()
    _emit_result(args, result)
    return 0


def cmd_report_visit(args: argparse.Namespace) -> int:
    from fieldkit.services.reports import ReportService

    vault = open_vault(args)
    try:
        with _force_hint(args.out):
            result = ReportService(vault).visit_report(
                args.id,
                args.out,
                _language(args),
                progress=None if args.json else _Progress(),
                overwrite=args.force,
                prepared_by=args.prepared_by,
                audience=args.audience,
            )
    finally:
        vault.lock()
    _emit_result(args, result)
    return 0


def _emit_result(args: argparse.Namespace, result: ReportResult) -> None:
    data = {
        "ok": True,
        "path": str(result.path),
        "signature": str(result.signature_path),
        "pages": result.pages,
        "sha256": result.sha256,
        "size": result.size,
        "withheld_since": result.withheld_since,
    }
    emit(
        args,
        data,
        [
            i18n.ngettext(
                "Wrote {path} ({pages} page) and its signature {signature}.",
                "Wrote {path} ({pages} pages) and its signature {signature}.",
                result.pages,
            ).format(path=result.path, pages=result.pages, signature=result.signature_path),
            _("SHA-256 of the PDF: {sha256}").format(sha256=result.sha256),
        ],
    )
    if result.withheld_since and not args.json:
        print(
            "fieldkit: "
            + i18n.ngettext(
                "warning: {count} item an earlier file for this audience disclosed is now "
                "withheld (a consent changed); the earlier file cannot be recalled: tell its "
                "recipient.",
                "warning: {count} items an earlier file for this audience disclosed are now "
                "withheld (a consent changed); the earlier file cannot be recalled: tell its "
                "recipient.",
                result.withheld_since,
            ).format(count=result.withheld_since),
            file=sys.stderr,
        )

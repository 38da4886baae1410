"""Command-line arguments shared by the record commands: paging, filters and checked values."""

from __future__ import annotations

import argparse
from datetime import date

from fieldkit.i18n import _
from fieldkit.services.records import RecordFilters

MAX_PAGE = 1000


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("'{value}' is not a whole number").format(value=text[:40])
        ) from None


def offset_value(text: str) -> int:
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(_("must be 0 or more (got {value})").format(value=value))
    return value


def limit_value(text: str) -> int:
    value = whole_number(text)
    if not 1 <= value <= MAX_PAGE:
        raise argparse.ArgumentTypeError(
            _("must be between 1 and {most} (got {value})").format(most=MAX_PAGE, value=value)
        )
    return value


def revision_value(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            _("a revision is 1 or more (got {value}); see it with: fieldkit record show ID").format(
                value=value
            )
        )
    return value


def checked_date(text: str) -> str:
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        _("'{value}' is not a date like 2026-03-14 (YYYY-MM-DD)").format(value=text[:40])
    )


def add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=limit_value,
        default=50,
        metavar="N",
        help=_("how many to show, 1 to {most} (default 50)").format(most=MAX_PAGE),
    )
    parser.add_argument(
        "--offset",
        type=offset_value,
        default=0,
        metavar="N",
        help=_("how many to skip first (default 0)"),
    )


def add_filters(parser: argparse.ArgumentParser, with_form: bool = True) -> None:
    if with_form:
        parser.add_argument(
            "--form", action="append", metavar="TYPE", help=_("only this record type (repeatable)")
        )
    parser.add_argument("--facility", metavar="ID", help=_("only records about this facility"))
    parser.add_argument(
        "--status", metavar="CODE", help=_("only records with this status (a vocabulary code)")
    )
    parser.add_argument(
        "--from",
        dest="date_from",
        type=checked_date,
        metavar="YYYY-MM-DD",
        help=_("only records on or after this date"),
    )
    parser.add_argument(
        "--to",
        dest="date_to",
        type=checked_date,
        metavar="YYYY-MM-DD",
        help=_("only records on or before this date"),
    )


def record_filters(args: argparse.Namespace) -> RecordFilters:
    return RecordFilters(
        types=tuple(getattr(args, "form", None) or ()),
        facility_id=args.facility,
        status=args.status,
        date_from=args.date_from,
        date_to=args.date_to,
    )

"""``fieldkit reprisal due``: the reprisal checks coming due, for the coordinator."""

from __future__ import annotations

import argparse
from typing import Any

from fieldkit.cli.common import emit, open_vault
from fieldkit.i18n import _, ngettext
from fieldkit.services.reprisals import checks_due


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 3650:
        raise argparse.ArgumentTypeError(
            _("'{value}' is not a number of days from 0 to 3650").format(value=text[:40])
        )
    return value


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    reprisal = subparsers.add_parser(
        "reprisal", parents=parents, help=_("follow up on possible reprisals against interviewees")
    )
    sub = reprisal.add_subparsers(dest="reprisal_command", metavar="ACTION", required=True)
    due = sub.add_parser(
        "due", parents=parents, help=_("list the reprisal checks coming due or overdue")
    )
    due.add_argument(
        "--days",
        type=_days,
        default=14,
        metavar="N",
        help=_("checks due within N days from today (default 14); overdue ones are always listed"),
    )
    due.set_defaults(handler=cmd_reprisal_due)


def cmd_reprisal_due(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        found = checks_due(vault, within_days=args.days)
    lines = [
        ngettext("{count} check coming due.", "{count} checks coming due.", len(found)).format(
            count=len(found)
        )
    ]
    for check in found:
        state = _("overdue") if check.overdue else _("due")
        lines.append(
            f"  {check.due}  {state:8}  {check.code:10}  {check.visit_title}  {check.visit_id}"
        )
    emit(
        args,
        {
            "ok": True,
            "checks": [
                {
                    "visit": c.visit_id,
                    "visit_title": c.visit_title,
                    "code": c.code,
                    "due": c.due,
                    "overdue": c.overdue,
                    "last_outcome": c.last_outcome,
                }
                for c in found
            ],
        },
        lines,
    )
    return 0

"""Hub commands beside ``hub serve``: grant a person a key slot and a database role, join with
an invitation, list, revoke, and share a case with a lawyer on the hub."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fieldkit.cli.common import PASSPHRASE_ENV, emit, open_vault, profile_path, read_passphrase
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.i18n import N_, _
from fieldkit.services import hub_people

CODE_ENV = "FIELDKIT_HUB_CODE"
STATUS_WORDS = {"invited": N_("invited"), "joined": N_("joined"), "revoked": N_("revoked")}


def register_people(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The subcommands of ``hub`` (``cli/sync.py`` registers the group and ``hub serve``)."""
    grant = sub.add_parser(
        "grant",
        parents=parents,
        help=_("coordinator: give a coordinator or a lawyer access (writes an invitation)"),
    )
    grant.add_argument("--role", required=True, choices=[Role.COORDINATOR, Role.LAWYER])
    grant.add_argument(
        "--name", required=True, metavar="LABEL", help=_("a name for the person, e.g. L-01")
    )
    grant.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help=_("where to write the invitation")
    )
    grant.set_defaults(handler=cmd_grant)
    join = sub.add_parser(
        "join",
        parents=parents,
        help=_("make this profile folder a way into a hub, with an invitation and its code"),
    )
    join.add_argument("invitation", type=Path, metavar="FILE")
    join.add_argument(
        "--database",
        required=True,
        metavar="URL",
        help=_("the hub's database (postgresql://server/database); the user is the invitation's"),
    )
    join.add_argument(
        "--store", type=Path, metavar="DIR", help=_("the hub's evidence folder, if shared")
    )
    join.set_defaults(handler=cmd_join)
    people = sub.add_parser("people", parents=parents, help=_("coordinator: who has access"))
    people.set_defaults(handler=cmd_people)
    revoke = sub.add_parser(
        "revoke",
        parents=parents,
        help=_("coordinator: destroy a person's key slot and disable their database role"),
    )
    revoke.add_argument("label", metavar="LABEL")
    revoke.set_defaults(handler=cmd_revoke)
    share = sub.add_parser(
        "share", parents=parents, help=_("coordinator: let a lawyer on the hub read a case")
    )
    share.add_argument("case_id", metavar="CASE_ID")
    share.add_argument("--with", dest="label", required=True, metavar="LABEL")
    share.set_defaults(handler=cmd_share)
    unshare = sub.add_parser(
        "unshare", parents=parents, help=_("coordinator: take a case back from a lawyer")
    )
    unshare.add_argument("case_id", metavar="CASE_ID")
    unshare.add_argument("--with", dest="label", required=True, metavar="LABEL")
    unshare.set_defaults(handler=cmd_unshare)


def cmd_grant(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        granted = hub_people.grant(vault, Role(args.role), args.name, args.out)
    emit(
        args,
        {
            "ok": True,
            "label": granted.label,
            "role": granted.role.value,
            "db_role": granted.db_role,
            "invitation": str(granted.invitation),
            "code": granted.code,
        },
        [
            _("Granted {role} access to {label} (database role {db_role}).").format(
                role=_(granted.role.label), label=granted.label, db_role=granted.db_role
            ),
            _("Invitation: {path}").format(path=granted.invitation),
            _("One-time code (give it in person, never with the file): {code}").format(
                code=granted.code
            ),
        ],
    )
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    path = profile_path(args)
    code = read_passphrase(_("One-time code of the invitation: "), CODE_ENV)
    passphrase = read_passphrase(_("New passphrase: "), PASSPHRASE_ENV, confirm=True)
    vault = hub_people.join(
        path, args.invitation, code, passphrase, args.database, args.store, KdfParams.default()
    )
    try:
        label = vault.person.label if vault.person is not None else ""
        emit(
            args,
            {
                "ok": True,
                "path": str(path),
                "label": label,
                "role": vault.role.value,
                "database": vault.database_location,
            },
            [
                _("Joined the hub at {url} as {label} ({role}).").format(
                    url=vault.database_location, label=label, role=_(vault.role.label)
                ),
                _("The invitation is no longer needed: delete it."),
            ],
        )
    finally:
        vault.lock()
    return 0


def cmd_people(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        found = hub_people.people(vault)
    lines = [
        _("{label}: {role}, {status} (database role {db_role}, granted {granted_at})").format(
            label=p.label,
            role=_(p.role.label),
            status=_(STATUS_WORDS[p.status]),
            db_role=p.db_role,
            granted_at=p.granted_at,
        )
        for p in found
    ]
    emit(
        args,
        {
            "ok": True,
            "people": [{**p.__dict__, "role": p.role.value, "status": p.status} for p in found],
        },
        lines or [_("Nobody else has access to this hub.")],
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        ended = hub_people.revoke(vault, args.label)
    emit(
        args,
        {"ok": True, "label": args.label, "sessions_ended": ended},
        [
            _(
                "Revoked {label}: the key slot is destroyed and the database role can no longer "
                "log in."
            ).format(label=args.label),
            _("Open connections ended: {count}.").format(count=ended),
            _(
                "What they read or copied before cannot be taken back; to lock out a copy of the "
                "master key too, move the records to a new hub."
            ),
        ],
    )
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        shared = hub_people.share(vault, args.case_id, args.label)
    lines = [
        _(
            "Shared with {label} on the hub: case {case}; records: {records}, evidence items: "
            "{evidence}."
        ).format(
            label=shared.label,
            case=shared.case_id,
            records=shared.records,
            evidence=shared.evidence,
        )
    ]
    if shared.held_back:
        lines.append(
            _(
                "Held back: {count} (the disclosure policy would hide parts of them, and the hub "
                "shows a row whole or not at all; send a case package for those)."
            ).format(count=shared.held_back)
        )
    emit(args, {"ok": True, **shared.__dict__}, lines)
    return 0


def cmd_unshare(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        removed = hub_people.unshare(vault, args.case_id, args.label)
    emit(
        args,
        {"ok": True, "case_id": args.case_id, "label": args.label, "removed": removed},
        [
            _("{label} can no longer read case {case} on the hub.").format(
                label=args.label, case=args.case_id
            )
        ],
    )
    return 0

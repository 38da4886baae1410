"""Profile commands: init, info, passwd, check, erase, protect."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fieldkit.cli.common import (
    NEW_PASSPHRASE_ENV,
    PASSPHRASE_ENV,
    confirm_destructive,
    emit,
    open_vault,
    profile_path,
    read_passphrase,
)
from fieldkit.crypto.kdf import TEST_KDF_ENV, KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import N_, _
from fieldkit.services import profile as profile_service
from fieldkit.services.profile import check_database

# The areas `fieldkit check` reports on, beyond the database itself.
CHECK_AREAS = {
    "evidence": N_("Evidence store and custody logs"),
    "audit": N_("Audit log chain"),
}


COUNT_LABELS = {
    "records": N_("records"),
    "record_versions": N_("saved versions of records"),
    "evidence_items": N_("evidence items"),
    "custody_events": N_("custody events"),
    "audit_entries": N_("audit log entries"),
    "trusted_devices": N_("trusted devices"),
    "exported_bundles": N_("bundles exported"),
    "imported_bundles": N_("bundles imported"),
    "alarms": N_("alarms"),
}


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    init = subparsers.add_parser(
        "init",
        parents=parents,
        help=_("create an encrypted profile"),
        description=_("Create an encrypted profile protected by a passphrase."),
    )
    init.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.MONITOR.value,
        help=_(
            "monitor (field laptop), coordinator (organisation office) or lawyer (read-only, "
            "filled by case packages)"
        ),
    )
    init.add_argument(
        "--database",
        metavar="URL",
        default=None,
        help=_(
            "keep a coordinator's records on this empty PostgreSQL database "
            "(postgresql://user@server/database) instead of a file in the profile folder"
        ),
    )
    init.add_argument(
        "--store",
        metavar="DIR",
        type=Path,
        default=None,
        help=_("with --database: keep evidence files in this folder (default: in the profile)"),
    )
    init.set_defaults(handler=cmd_init)

    info = subparsers.add_parser("info", parents=parents, help=_("show facts about the profile"))
    info.set_defaults(handler=cmd_info)

    passwd = subparsers.add_parser("passwd", parents=parents, help=_("change the passphrase"))
    passwd.set_defaults(handler=cmd_passwd)

    check = subparsers.add_parser(
        "check", parents=parents, help=_("verify the integrity of the encrypted database")
    )
    check.set_defaults(handler=cmd_check)

    erase = subparsers.add_parser(
        "erase",
        parents=parents,
        help=_("destroy the profile at once (the key file first); cannot be undone"),
    )
    erase.set_defaults(handler=cmd_erase)

    protect = subparsers.add_parser(
        "protect",
        parents=parents,
        help=_("opt-in protections at unlock: erase after failed unlocks, a duress passphrase"),
    )
    protect.add_argument(
        "--erase-after",
        metavar="N|off",
        help=_("erase the profile after N failed unlocks in a row (3, 5, 10 or 20), or off"),
    )
    duress = protect.add_mutually_exclusive_group()
    duress.add_argument(
        "--duress",
        action="store_true",
        help=_(
            "set a duress passphrase (asked, or FIELDKIT_DURESS_PASSPHRASE): typed at unlock, it "
            "destroys the key file and opens an empty profile"
        ),
    )
    duress.add_argument("--no-duress", action="store_true", help=_("remove the duress passphrase"))
    protect.set_defaults(handler=cmd_protect)


def cmd_init(args: argparse.Namespace) -> int:
    path = profile_path(args)
    role = Role(args.role)
    passphrase = read_passphrase(_("New passphrase: "), PASSPHRASE_ENV, confirm=True)
    kdf = KdfParams.default()
    if args.store is not None and args.database is None:
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail=_("--store goes with --database"))
    vault = profile_service.create_profile(
        path, passphrase, role, kdf, database=args.database, store=args.store
    )
    try:
        data = {
            "ok": True,
            "path": str(path),
            "role": role.value,
            "profile_id": vault.profile_id,
            "device_id": vault.device_id,
            "device_key_fingerprint": vault.device_key_fingerprint,
            "kdf_insecure": kdf.insecure,
            "database": vault.database_location if vault.hub is not None else None,
        }
        lines = [
            _("Created a {role} profile at {path}.").format(role=_(role.label), path=path),
            _("Device key ID: {fp}").format(fp=vault.device_key_fingerprint),
            *(
                [_("Records are kept on the database {url}.").format(url=vault.database_location)]
                if vault.hub is not None
                else []
            ),
            _("Keep the passphrase safe: without it nothing in the profile can be read."),
        ]
        if kdf.insecure:
            print(
                _(
                    "WARNING: {env}=1 is set; this profile uses INSECURE test key derivation."
                ).format(env=TEST_KDF_ENV),
                file=sys.stderr,
            )
        emit(args, data, lines)
    finally:
        vault.lock()
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = profile_service.profile_info(vault)
    kdf = info.kdf
    lines = [
        _("Profile:      {path}").format(path=info.path),
        _("Role:         {role}").format(role=_(info.role.label)),
        _("Profile id:   {id}").format(id=info.profile_id),
        _("Device id:    {id}").format(id=info.device_id),
        _("Device key ID: {fp}").format(fp=info.device_key_fingerprint),
        _("Created:      {at}").format(at=info.created_at),
        *([_("Database:     {url}").format(url=info.database)] if info.database else []),
        _("Key derivation: {alg}, {mem} MiB, {it} passes, {lanes} lanes").format(
            alg=kdf.algorithm, mem=kdf.memory_kib // 1024, it=kdf.iterations, lanes=kdf.lanes
        ),
        _("Database revision: {rev}").format(rev=info.database_revision),
    ]
    if kdf.insecure:
        lines.append(_("WARNING: INSECURE test key derivation parameters."))
    if info.counts:
        lines.append(_("Contents:"))
        lines.extend(
            f"  {_(COUNT_LABELS.get(key, key))}: {count}" for key, count in info.counts.items()
        )
    emit(args, info.model_dump(mode="json"), lines)
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    path = profile_path(args)
    old = read_passphrase(_("Current passphrase: "), PASSPHRASE_ENV)
    new = read_passphrase(_("New passphrase: "), NEW_PASSPHRASE_ENV, confirm=True)
    profile_service.change_passphrase(path, old, new)
    emit(args, {"ok": True, "path": str(path)}, _("Passphrase changed."))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        with open_vault(args) as vault:
            report = profile_service.check_profile(vault)
    except FieldkitError as exc:
        if exc.code != ErrorCode.DATABASE_DAMAGED:
            raise
        # Too damaged to open: still say exactly what the checks find.
        passphrase = read_passphrase(_("Passphrase: "), PASSPHRASE_ENV)
        database = check_database(profile_path(args), passphrase)
        report = profile_service.CheckReport(ok=False, database=database)
    db = report.database
    lines = [
        _("Encryption (page authentication): {result}").format(
            result=_("ok") if not db.cipher_problems else _("PROBLEMS FOUND")
        ),
        *(f"  {p}" for p in db.cipher_problems),
        _("Database structure: {result}").format(
            result=_("ok") if not db.sqlite_problems else _("PROBLEMS FOUND")
        ),
        *(f"  {p}" for p in db.sqlite_problems),
    ]
    for name, problems in report.extra.items():
        title = _(CHECK_AREAS[name]) if name in CHECK_AREAS else name
        lines.append(f"{title}: " + (_("ok") if not problems else _("PROBLEMS FOUND")))
        lines.extend(f"  {p}" for p in problems)
    lines.append(_("Profile is intact.") if report.ok else _("Profile has problems; see above."))
    data = {
        "ok": report.ok,
        "cipher_integrity": list(db.cipher_problems),
        "sqlite_integrity": list(db.sqlite_problems),
        "extra": report.extra,
    }
    emit(args, data, lines)
    return 0 if report.ok else 1


def cmd_erase(args: argparse.Namespace) -> int:
    path = profile_path(args)
    confirm_destructive(args)
    profile_service.erase_profile(path)
    emit(args, {"ok": True, "path": str(path)}, _("Profile erased: {path}").format(path=path))
    return 0


DURESS_PASSPHRASE_ENV = "FIELDKIT_DURESS_PASSPHRASE"


def cmd_protect(args: argparse.Namespace) -> int:
    from fieldkit.services import protection

    with open_vault(args) as vault:
        if args.erase_after is not None:
            value = str(args.erase_after).strip().lower()
            if value == "off":
                protection.set_erase_after(vault, None)
            elif value.isdigit():
                protection.set_erase_after(vault, int(value))
            else:
                protection.set_erase_after(vault, -1)  # refused with the allowed values
        if args.duress:
            phrase = read_passphrase(_("Duress passphrase: "), DURESS_PASSPHRASE_ENV, confirm=True)
            protection.set_duress_passphrase(vault, phrase)
        elif args.no_duress:
            protection.set_duress_passphrase(vault, None)
        status = protection.protection_status(vault.path)
    lines = [
        _("Erase after failed unlocks: {value}").format(
            value=_("after {n} in a row").format(n=status.erase_after)
            if status.erase_after
            else _("off")
        ),
        _("Duress passphrase: {value}").format(value=_("set") if status.duress else _("off")),
    ]
    emit(
        args,
        {"ok": True, "erase_after": status.erase_after, "duress": status.duress},
        lines,
    )
    return 0

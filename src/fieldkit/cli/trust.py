"""Organisation and trust commands: org, enrol, trust."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fieldkit.cli.bundles import _report_lines
from fieldkit.cli.common import StderrProgress, confirm_destructive, emit, open_vault
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _
from fieldkit.services import bundles as bundle_service
from fieldkit.services import trust as trust_service


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    org = subparsers.add_parser(
        "org", parents=parents, help=_("organisation keys (coordinator profile)")
    )
    org_sub = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    init = org_sub.add_parser(
        "init", parents=parents, help=_("make the organisation's signing and encryption keys")
    )
    init.add_argument("--name", default="Organisation", help=_("the organisation's name"))
    init.set_defaults(handler=cmd_org_init)
    public = org_sub.add_parser(
        "public", parents=parents, help=_("write the signed organisation card for monitors")
    )
    public.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help=_("where to write the organisation card (a new file, e.g. org.pub)"),
    )
    public.add_argument(
        "--minisign-out",
        type=Path,
        default=None,
        metavar="FILE",
        help=_(
            "also write the signing key as a minisign public key (e.g. org-sign.pub), "
            "to check receipts with minisign"
        ),
    )
    public.add_argument(
        "--sync-url",
        default=None,
        metavar="https://HOST:PORT",
        help=_(
            "the address where 'fieldkit hub serve' listens; the card then carries it and the "
            "server's certificate, and monitors sync over the network"
        ),
    )
    public.set_defaults(handler=cmd_org_public)
    ident = org_sub.add_parser(
        "export-identity",
        parents=parents,
        help=_("write the decryption key in age format (keep it offline; losing it loses bundles)"),
    )
    ident.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help=_("where to write the decryption key (a new file on an offline, encrypted stick)"),
    )
    ident.set_defaults(handler=cmd_org_export_identity)
    sign_key = org_sub.add_parser(
        "export-signing-key",
        parents=parents,
        help=_(
            "write the organisation signing key in minisign format (keep it offline; "
            "needed to rebuild a lost coordinator profile)"
        ),
    )
    sign_key.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help=_("where to write the signing key (a new file on an offline, encrypted stick)"),
    )
    sign_key.set_defaults(handler=cmd_org_export_signing_key)
    org_import = org_sub.add_parser(
        "import",
        parents=parents,
        help=_("rebuild the organisation keys of a lost coordinator profile in this new profile"),
    )
    org_import.add_argument(
        "--identity",
        type=Path,
        required=True,
        metavar="ORG_KEY",
        help=_("the decryption key written by 'org export-identity' (org.key)"),
    )
    org_import.add_argument(
        "--signing-key",
        type=Path,
        default=None,
        metavar="FILE",
        help=_(
            "the signing key written by 'org export-signing-key'; without it every monitor "
            "must enrol again"
        ),
    )
    org_import.add_argument(
        "--name",
        default=None,
        help=_("the organisation's name (default: the one saved with the signing key)"),
    )
    org_import.set_defaults(handler=cmd_org_import)

    enrol = subparsers.add_parser(
        "enrol", parents=parents, help=_("enrol this device with an organisation (monitor profile)")
    )
    enrol.add_argument(
        "card", type=Path, metavar="ORG_CARD", help=_("the organisation card (org.pub)")
    )
    enrol.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DEVICE_PUB",
        help=_(
            "where to write this device's public key, for the coordinator (not needed to take "
            "a newer card of the organisation this device is enrolled with)"
        ),
    )
    enrol.set_defaults(handler=cmd_enrol)

    trust = subparsers.add_parser("trust", parents=parents, help=_("the list of enrolled devices"))
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    add = trust_sub.add_parser("add", parents=parents, help=_("enrol a device's public key"))
    add.add_argument(
        "device_pub",
        type=Path,
        metavar="DEVICE_PUB",
        help=_("the device's public key file, written by 'fieldkit enrol'"),
    )
    add.add_argument(
        "--label", required=True, help=_("a name for the device, e.g. the monitor's code (M-003)")
    )
    add.set_defaults(handler=cmd_trust_add)
    lst = trust_sub.add_parser(
        "list", parents=parents, help=_("list devices, alarms and held bundles")
    )
    lst.set_defaults(handler=cmd_trust_list)
    revoke = trust_sub.add_parser("revoke", parents=parents, help=_("revoke a device"))
    revoke.add_argument("device", metavar="DEVICE", help=_("device id, key id or label"))
    revoke.add_argument(
        "--last-good-seq",
        type=int,
        default=None,
        metavar="N",
        help=_(
            "the device's last trusted bundle number (default: the last one imported); "
            "later bundles are held"
        ),
    )
    revoke.set_defaults(handler=cmd_trust_revoke)
    held = trust_sub.add_parser(
        "held", parents=parents, help=_("list held bundles; discard or import one")
    )
    held_action = held.add_mutually_exclusive_group()
    held_action.add_argument(
        "--discard",
        type=int,
        default=None,
        metavar="ID",
        help=_("delete the kept copy of held bundle ID (needs --yes)"),
    )
    held_action.add_argument(
        "--import",
        dest="import_id",
        type=int,
        default=None,
        metavar="ID",
        help=_("import the kept copy of held bundle ID (after enrolling its device)"),
    )
    held.add_argument(
        "--receipt-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=_("where to write the receipt after --import"),
    )
    held.set_defaults(handler=cmd_trust_held)


def _confirm_secret(args: argparse.Namespace) -> None:
    if not getattr(args, "yes", False):
        raise FieldkitError(ErrorCode.SECRET_CONFIRMATION_REQUIRED)


def cmd_org_init(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.init_org(vault, args.name)
    emit(
        args,
        {"ok": True, **info.__dict__},
        [
            _("Organisation keys created for {name}.").format(name=info.name),
            _("Signing key id: {key}").format(key=info.key_id),
            _("Encryption recipient: {recipient}").format(recipient=info.recipient),
            _("Back up the decryption key now: fieldkit org export-identity --out FILE --yes"),
        ],
    )
    return 0


def cmd_org_public(args: argparse.Namespace) -> int:
    sync = None
    with open_vault(args) as vault:
        if args.sync_url is not None:
            from fieldkit.services import sync_tls

            url = trust_service.check_sync_url(args.sync_url)
            cert = sync_tls.server_certificate(vault)
            assert cert is not None
            sync = trust_service.SyncEndpoint(url, cert.der, cert.sha256)
        info = trust_service.write_card(vault, args.out, args.minisign_out, sync)
    lines = [_("Wrote the organisation card to {path}.").format(path=args.out)]
    if sync is not None:
        lines.append(
            _("Monitors will sync with {url}, certificate SHA-256 {fingerprint}.").format(
                url=sync.url, fingerprint=sync.certificate_sha256
            )
        )
    if args.minisign_out is not None:
        lines.append(
            _("Wrote the signing key's minisign public key (key id {key}) to {path}.").format(
                key=info.key_id, path=args.minisign_out
            )
        )
    emit(
        args,
        {
            "ok": True,
            "path": str(args.out),
            "key_id": info.key_id,
            "minisign_path": str(args.minisign_out) if args.minisign_out else None,
            "sync_url": sync.url if sync else None,
            "certificate_sha256": sync.certificate_sha256 if sync else None,
        },
        lines,
    )
    return 0


def cmd_org_export_identity(args: argparse.Namespace) -> int:
    _confirm_secret(args)
    with open_vault(args) as vault:
        info = trust_service.export_identity(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out), "recipient": info.recipient},
        [
            _("Wrote the organisation's decryption key to {path}.").format(path=args.out),
            _("Anyone with this file can read every bundle: keep it offline and locked away."),
        ],
    )
    return 0


def cmd_org_export_signing_key(args: argparse.Namespace) -> int:
    _confirm_secret(args)
    with open_vault(args) as vault:
        info = trust_service.export_signing_key(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out), "key_id": info.key_id},
        [
            _("Wrote the organisation's signing key (key id {key}) to {path}.").format(
                key=info.key_id, path=args.out
            ),
            _(
                "Anyone with this file can sign receipts and organisation cards that every "
                "monitor trusts: keep it offline and locked away, apart from the decryption key."
            ),
        ],
    )
    return 0


def cmd_org_import(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.import_org(vault, args.identity, args.signing_key, args.name)
    lines = [
        _("Organisation keys restored for {name}.").format(name=info.name),
        _("Signing key id: {key}").format(key=info.key_id),
        _("Encryption recipient: {recipient}").format(recipient=info.recipient),
    ]
    if args.signing_key is None:
        lines.append(
            _(
                "No signing key was given: a new one was made. Every monitor must enrol again "
                "with the new organisation card before receipts are accepted."
            )
        )
    lines.append(
        _("Enrol the monitors' devices again (fieldkit trust add) before importing bundles.")
    )
    emit(
        args,
        {"ok": True, **info.__dict__, "new_signing_key": args.signing_key is None},
        lines,
    )
    return 0


def cmd_enrol(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = trust_service.enrol(vault, args.card, args.out)
        card = trust_service.enrolled_card(vault)
    first = (
        _("Enrolled with {org}. Device public key written to {path}.").format(
            org=result.org_name, path=args.out
        )
        if args.out is not None
        else _("This device now holds the organisation card of {org} issued {date}.").format(
            org=result.org_name, date=card.issued_at or card.created_at
        )
    )
    emit(
        args,
        {
            "ok": True,
            **result.__dict__,
            "device_pub": str(args.out) if args.out is not None else None,
            "sync_url": card.sync.url if card.sync else None,
        },
        [
            first,
            _("Comparison code (read it aloud with the coordinator): {code}").format(
                code=result.code
            ),
        ],
    )
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.add_device(vault, args.device_pub, args.label)
    emit(
        args,
        {"ok": True, **info.to_dict()},
        [
            _("Enrolled device {label} ({device}).").format(
                label=info.label, device=info.device_id
            ),
            _("Comparison code (must match the one on the monitor's screen): {code}").format(
                code=info.code
            ),
        ],
    )
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        devices = trust_service.list_devices(vault)
        alarms = bundle_service.list_alarms(vault)
        held = bundle_service.list_quarantined(vault)
    lines = []
    for d in devices:
        lines.append(
            _("{label}  {device}  key {key}  {status}  last bundle {seq}").format(
                label=d.label,
                device=d.device_id,
                key=d.key_id,
                status=_device_status_text(d.status),
                seq=d.last_seq,
            )
        )
    if not devices:
        lines.append(_("No devices are enrolled."))
    for a in alarms:
        lines.append(
            _("ALARM {kind}: device {device} bundle {seq} ({when})").format(
                kind=_alarm_text(str(a["kind"])),
                device=a["device_id"],
                seq=a["seq"],
                when=a["raised_at"],
            )
        )
    lines.extend(_held_lines(held))
    emit(
        args,
        {"ok": True, "devices": [d.to_dict() for d in devices], "alarms": alarms, "held": held},
        lines,
    )
    return 0


def _device_status_text(status: str) -> str:
    return {"active": _("active"), "revoked": _("revoked")}.get(status, status)


def _alarm_text(kind: str) -> str:
    return {
        "equivocation": _("two different bundles with one number"),
        "fork": _("broken chain of bundles"),
        "foreign_claim": _("a bundle that claims records of another device"),
    }.get(kind, kind)


def _held_lines(held: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for q in held:
        lines.append(
            _("Held bundle {id} {name}: {reason} (key {key}, {when})").format(
                id=q["id"],
                name=q["file_name"],
                reason=bundle_service.held_reason_text(str(q["reason"])),
                key=q["key_id"],
                when=q["received_at"],
            )
        )
        if not q["held_file"]:
            lines.append(
                "  "
                + _(
                    "Only what identifies it was kept (signed by key {key}; {size} bytes, "
                    "SHA-256 {sha}). Enrol that device in person, then import the bundle file "
                    "again: the same SHA-256 shows it is this file."
                ).format(key=q["key_id"], size=q["file_size"] or "?", sha=q["file_sha256"] or "?")
            )
    return lines


def cmd_trust_held(args: argparse.Namespace) -> int:
    if args.discard is not None:
        confirm_destructive(args)
        with open_vault(args) as vault:
            info = bundle_service.discard_held(vault, args.discard)
        emit(
            args,
            {"ok": True, "discarded": info},
            _("Discarded held bundle {id} ({name}); nothing from it was imported.").format(
                id=info["id"], name=info["file_name"]
            ),
        )
        return 0
    if args.import_id is not None:
        if args.receipt_dir is None:
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="--receipt-dir DIR")
        with open_vault(args) as vault:
            report = bundle_service.import_held(
                vault,
                args.import_id,
                receipt_dir=args.receipt_dir,
                progress=None if args.json else StderrProgress(_("Importing")),
            )
        emit(args, {"ok": True, **report.to_dict()}, _report_lines(report))
        return 0
    with open_vault(args) as vault:
        held = bundle_service.list_quarantined(vault)
    lines = _held_lines(held) or [_("No bundles are held.")]
    emit(args, {"ok": True, "held": held}, lines)
    return 0


def cmd_trust_revoke(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.revoke_device(vault, args.device, args.last_good_seq)
    emit(
        args,
        {"ok": True, **info.to_dict()},
        _(
            "Revoked {label}: bundles up to number {seq} are still accepted and flagged; "
            "later ones are held for review."
        ).format(label=info.label, seq=info.last_good_seq),
    )
    return 0
